"""Notifications in the web client. Headless Chromium here reaches no push service, so an init script stands in for
PushManager: its subscription has an endpoint at the local stack's stand-in push service
(https://push.local.test/<device>) and real keys (a P-256 key pair and 16 random bytes made with WebCrypto).

- "Turn on notifications" (permission granted) registers the device: with the user offline, a message from
  another user reaches the stand-in push service exactly once, encrypted for this device's keys, without the
  message's text once "Show message text in notifications" is off.
- Muting a room and the preview setting show on the user's other device.
- A push delivered to the service worker (DevTools protocol) shows a notification tagged with its room, and none
  while a focused window shows that room.
- The app opened at a notification's address (`/?room=<id>&seq=<seq>`) opens that room at that message.
Screenshot: test-artifacts/screenshots/push-settings.png."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Locator, expect

from local.paths import REPO_ROOT
from tests.browser.chat_page import ChatPage, wait_until
from tests.browser.conftest import Contexts
from tests.browser.people import sign_in_together, unique
from tests.local.chat_client import StackProcess, get

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

# Replaces the browser's PushManager: one subscription per browser context, kept in localStorage (so a reload
# finds it), its private key exportable for the test to decrypt what the push service received.
FAKE_PUSH = """(device) => {
  const KEY = "test:fakePush";
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const make = (saved) => ({
    endpoint: saved.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: null },
    getKey: () => null,
    toJSON: () => ({ endpoint: saved.endpoint, expirationTime: null, keys: saved.keys }),
    unsubscribe: async () => { localStorage.removeItem(KEY); return true; },
  });
  PushManager.prototype.getSubscription = async function () {
    const saved = localStorage.getItem(KEY);
    return saved ? make(JSON.parse(saved)) : null;
  };
  PushManager.prototype.subscribe = async function (options) {
    if (!options || !options.userVisibleOnly || !options.applicationServerKey) throw new Error("bad subscribe");
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const saved = {
      endpoint: "https://push.local.test/" + device,
      keys: { p256dh: b64(await crypto.subtle.exportKey("raw", pair.publicKey)),
              auth: b64(crypto.getRandomValues(new Uint8Array(16))) },
      privateJwk: await crypto.subtle.exportKey("jwk", pair.privateKey),
    };
    localStorage.setItem(KEY, JSON.stringify(saved));
    return make(saved);
  };
}"""


READ_NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
  .map(n => ({ title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url }))"""


def with_fake_push(person: ChatPage, device: str) -> None:
    """Notifications allowed and the stand-in PushManager, from a reload on; the worker in charge."""
    context = person.page.context
    context.grant_permissions(["notifications"])
    context.add_init_script(f"({FAKE_PUSH})({json.dumps(device)})")
    person.page.reload()
    person.expect_online()
    wait_until(person.page, "navigator.serviceWorker.controller !== null")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def deliveries(stack: StackProcess, device: str) -> list[dict[str, Any]]:
    """What the stand-in push service received for the device (in a thread: Playwright owns this one's loop)."""
    with ThreadPoolExecutor(1) as thread:
        status, _, text = thread.submit(asyncio.run, get(f"{stack.url}/push-service/{device}")).result(timeout=10)
    assert status == 200, text
    return list(json.loads(text))


def decrypt(saved: dict[str, Any], delivery: dict[str, Any]) -> dict[str, Any]:
    key = ec.derive_private_key(int.from_bytes(unb64(saved["privateJwk"]["d"]), "big"), ec.SECP256R1())
    body = base64.b64decode(str(delivery["body"]))
    plain = http_ece.decrypt(body, private_key=key, auth_secret=unb64(saved["keys"]["auth"]), version="aes128gcm")
    return dict(json.loads(plain))


def mute(person: ChatPage) -> Locator:
    """The room header's toggle: its name stays, aria-pressed says whether the room is muted."""
    return person.page.get_by_role("button", name="Mute notifications", exact=True)


def notifications_dialog(person: ChatPage) -> Locator:
    person.page.get_by_role("button", name="Notifications", exact=True).click()
    dialog = person.page.get_by_role("dialog", name="Notifications")
    expect(dialog).to_be_visible()
    return dialog


def test_turning_on_registers_the_device_and_settings_follow_the_user(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    device = f"bob-{uuid.uuid4().hex[:8]}"
    with_fake_push(bob.page, device)
    alice.page.open_direct(bob.name)
    alice.page.send("Hello Bob")
    alice.page.expect_sent("Hello Bob")
    bob.page.open_room(alice.name)

    other = contexts.open()  # Bob's other device
    other.sign_in(bob.name)
    other.open_room(alice.name)

    # Mute on one device: the other shows it, in the header and the room list; unmute there.
    mute(bob.page).click()
    expect(mute(bob.page)).to_have_attribute("aria-pressed", "true")
    expect(mute(bob.page)).to_have_text("Muted")
    expect(mute(other)).to_have_attribute("aria-pressed", "true")
    expect(other.room(alice.name)).to_have_accessible_name(re.compile(", muted"))
    mute(other).click()
    expect(mute(bob.page)).to_have_attribute("aria-pressed", "false")
    expect(bob.page.room(alice.name)).not_to_have_accessible_name(re.compile(", muted"))

    # Turn on (the permission is granted; the fake PushManager subscribes), then previews off.
    dialog = notifications_dialog(bob.page)
    dialog.get_by_role("button", name="Turn on notifications").click()
    expect(dialog.get_by_role("button", name="Turn off notifications")).to_be_visible()
    previews = dialog.get_by_role("checkbox", name="Show message text in notifications")
    expect(previews).to_be_checked()
    other_dialog = notifications_dialog(other)
    previews.click()  # applied when the server answers
    expect(previews).not_to_be_checked()
    expect(other_dialog.get_by_role("checkbox", name="Show message text in notifications")).not_to_be_checked()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    bob.page.page.screenshot(path=str(SCREENSHOTS / "push-settings.png"))
    saved = json.loads(bob.page.page.evaluate("localStorage.getItem('test:fakePush')"))

    # A push delivered to the worker (DevTools protocol) shows a notification tagged with its room.
    shown = deliver_to_worker(
        bob.page,
        {
            "title": "Team",
            "body": "Carol: hi",
            "roomId": "r-elsewhere",
            "seq": 4,
            "messageId": "m1",
            "url": "/?room=r-elsewhere&seq=4",
        },
    )
    assert [(n["title"], n["body"], n["tag"], n["url"]) for n in shown] == [
        ("Team", "Carol: hi", "r-elsewhere", "/?room=r-elsewhere&seq=4")
    ]

    # Bob goes away (both devices): Alice's message reaches his device through the push service, once.
    bob.page.page.context.close()
    other.page.context.close()
    time.sleep(1.0)
    secret = f"Secret plans {unique('')}"
    alice.page.send(secret)
    alice.page.expect_sent(secret)
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20  # the stream's batching window (5 s), then the push
    while not found and time.monotonic() < deadline:
        found = deliveries(contexts.stack, device)
        time.sleep(0.25)
    time.sleep(1.0)
    found = deliveries(contexts.stack, device)
    assert len(found) == 1, found
    payload = decrypt(saved, found[0])
    assert payload["title"] == alice.name and payload["seq"] == 2 and payload["url"].endswith("&seq=2")
    assert "Secret" not in payload["body"]  # previews are off


def deliver_to_worker(person: ChatPage, payloads: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pushes `payloads` (in order) to the page's service worker; what notifications it then shows."""
    page = person.page
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 5
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    origin = page.evaluate("location.origin")
    registration = next(r for r in registrations if r["scopeURL"].startswith(origin) and not r["isDeleted"])
    for payload in payloads if isinstance(payloads, list) else [payloads]:
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": registration["registrationId"], "data": json.dumps(payload)},
        )
    shown: list[dict[str, Any]] = []
    deadline = time.monotonic() + 5
    while not shown and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        shown = list(page.evaluate(READ_NOTIFICATIONS))
    page.wait_for_timeout(1000)  # longer than the worker waits for a window's answer: every push is handled
    return list(page.evaluate(READ_NOTIFICATIONS))


def test_no_notification_for_the_room_on_screen_and_a_notification_address_opens_its_room(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    alice.page.create_group(group := unique("Launch"), bob.name)
    alice.page.send("The first word")
    alice.page.expect_sent("The first word")
    alice.page.open_direct(bob.name)
    with_fake_push(bob.page, f"bob-{uuid.uuid4().hex[:8]}")
    bob.page.open_room(group)
    bob.page.page.bring_to_front()
    room_id = bob.page.room(group).get_attribute("data-room-id")
    assert room_id
    # The worker asks the focused window which room it shows: that one gets no notification, another does.
    shown = deliver_to_worker(
        bob.page,
        [
            {"title": group, "body": "on screen", "roomId": room_id, "seq": 1, "url": f"/?room={room_id}&seq=1"},
            {"title": "Other", "body": "elsewhere", "roomId": "r-other", "seq": 1, "url": "/?room=r-other&seq=1"},
        ],
    )
    assert [n["tag"] for n in shown] == ["r-other"]

    bob.page.page.goto(f"{contexts.stack.url}/?room={room_id}&seq=1")
    bob.page.expect_conversation(group)
    expect(bob.page.message("The first word")).to_have_class(re.compile(r"\bhighlighted\b"))  # at the message
    assert "room=" not in bob.page.page.url  # the address is tidied
