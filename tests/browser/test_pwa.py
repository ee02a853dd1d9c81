"""The web client as an installable app: its manifest is linked and valid (icons included), its service worker
registers and controls the page, and with the network gone a reload still opens the app on the room and
messages loaded before, read-only (the connection says Offline, the composer is off and says why), until the
network is back; a deploy offers a reload. Screenshots: test-artifacts/screenshots/pwa-offline.png, pwa-update.png."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from local.paths import REPO_ROOT
from tests.browser.chat_page import wait_until
from tests.browser.conftest import Contexts
from tests.browser.people import sign_in_together, unique
from tests.local.chat_client import start_stack_process

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

READ_MANIFEST = """async () => {
  const link = document.querySelector('link[rel="manifest"]');
  const response = await fetch(link.href);
  const manifest = await response.json();
  const icons = [];
  for (const icon of manifest.icons) {
    const image = await fetch(new URL(icon.src, link.href));
    const bitmap = await createImageBitmap(await image.blob());
    icons.push({ ...icon, status: image.status, type: image.headers.get("content-type"),
                 width: bitmap.width, height: bitmap.height });
  }
  const touch = document.querySelector('link[rel="apple-touch-icon"]');
  return { manifest, icons, touchIcon: touch && (await fetch(touch.href)).status,
           themeColor: document.querySelector('meta[name="theme-color"]')?.content ?? null };
}"""

# Saved a second after the chats change (ChatScreen's useOfflineCopy): wait until the copy holds the message.
SAVED_COPY_HOLDS = """content => Object.keys(localStorage).some(
  key => key.endsWith(":offline") && localStorage.getItem(key).includes(content))"""


def test_the_manifest_is_linked_and_names_its_icons(contexts: Contexts) -> None:
    page = contexts.open().page
    found = page.evaluate(READ_MANIFEST)
    manifest = found["manifest"]
    assert manifest["name"] == "Chat" and manifest["short_name"] == "Chat"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/", "/", "standalone")
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"]) and re.fullmatch(
        r"#[0-9a-f]{6}", manifest["background_color"]
    )
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in found["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in found["icons"]:
        assert (icon["status"], icon["type"]) == (200, "image/png")
        assert f"{icon['width']}x{icon['height']}" == icon["sizes"]
    assert found["touchIcon"] == 200 and found["themeColor"]


def test_with_the_network_gone_a_reload_opens_the_app_on_the_saved_room_read_only(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    content = f"Readable offline {unique('')}"
    alice.page.open_direct(bob.name)
    alice.page.send(content)
    alice.page.expect_sent(content)
    page = alice.page.page

    # The worker registers and takes charge of the page (clients.claim) with the shell precached.
    wait_until(page, "navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    cached = page.evaluate(
        "async () => (await Promise.all((await caches.keys()).map(async k => (await (await caches.open(k)).keys())"
        ".map(r => new URL(r.url).pathname)))).flat()"
    )
    assert "/index.html" in cached and any(path.startswith("/assets/") for path in cached)
    assert "/config.json" not in cached
    wait_until(page, SAVED_COPY_HOLDS, arg=content)

    with alice.page.watch.network_down():
        page.context.set_offline(True)
        page.reload()
        # The app, not the browser's offline page, from the worker's cache (not a server that is still up)...
        assert page.evaluate("performance.getEntriesByType('navigation')[0].deliveryType") == "cache-storage"
        # ...on the room and its message, offline and read-only.
        alice.page.expect_conversation(bob.name)
        expect(alice.page.message(content)).to_have_count(1)
        expect(alice.page.room(bob.name)).to_be_visible()
        expect(alice.page.connection).to_have_text(re.compile(r"^Offline"))
        expect(alice.page.composer).to_be_disabled()
        expect(page.get_by_text("Offline: showing the messages saved on this device")).to_be_visible()
        expect(alice.page.button("New direct chat")).to_be_disabled()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "pwa-offline.png")

        # Back online: the client loads the rooms and catches up; Bob's message written meanwhile arrives.
        later = f"Written while Alice was offline {unique('')}"
        bob.page.open_room(alice.name)
        bob.page.send(later)
        bob.page.expect_sent(later)
        page.context.set_offline(False)
        alice.page.expect_online()

    expect(alice.page.composer).to_be_enabled()
    alice.page.expect_messages_once_in_order(content, later)


def test_signing_out_forgets_the_saved_chats(contexts: Contexts) -> None:
    (alice,) = sign_in_together(contexts, "Alice")
    alice.page.create_group(f"Notes {unique('')}")
    alice.page.send("Private note")
    wait_until(alice.page.page, SAVED_COPY_HOLDS, arg="Private note")
    alice.page.button("Sign out").click()
    expect(alice.page.page.get_by_role("textbox", name="Your name")).to_be_visible()
    saved = alice.page.page.evaluate("Object.keys(localStorage).filter(k => k.endsWith(':offline'))")
    assert saved == []


def deploy_next_build(dist: Path) -> str:
    """A new deploy of `dist` in place, as `cdk deploy` makes one: the app's script under a new hashed name, the
    index.html naming it and a sw.js precaching it under a new build id. Returns the script's new path."""
    index = (dist / "index.html").read_text()
    old = re.search(r'src="(/assets/index-[\w-]+\.js)"', index)
    assert old, index
    new = old[1].replace(".js", "-next.js")
    shutil.copy(dist / old[1].lstrip("/"), dist / new.lstrip("/"))
    (dist / "index.html").write_text(index.replace(old[1], new))
    worker = (dist / "sw.js").read_text().replace(old[1], new)
    (dist / "sw.js").write_text(re.sub(r'const BUILD_ID = "([0-9a-f]+)";', r'const BUILD_ID = "\1next";', worker))
    return new


def test_a_new_deploy_offers_a_reload_that_brings_the_new_version_and_drops_the_old_cache(
    browser: Browser, web_dist: Path, tmp_path: Path
) -> None:
    """Its own stack, serving a copy of the build that the test deploys anew (the module's stack serves web/dist,
    which other tests use)."""
    dist = tmp_path / "dist"
    shutil.copytree(web_dist, dist)
    stack = start_stack_process(tmp_path / "stack.log", "--web-dist", str(dist))
    opened = Contexts(browser, stack)
    try:
        alice = opened.open().page
        alice.get_by_role("textbox", name="Your name").fill(unique("Alice"))
        alice.get_by_role("button", name="Sign in").click()
        wait_until(alice, "navigator.serviceWorker.controller !== null")
        (old_cache,) = alice.evaluate("caches.keys()")

        new_script = deploy_next_build(dist)
        alice.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
        prompt = alice.get_by_role("status").filter(has_text="A new version is available")
        expect(prompt).to_be_visible()
        expect(alice.get_by_role("status", name="Connection")).to_have_text(re.compile("^Online"))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        alice.screenshot(path=SCREENSHOTS / "pwa-update.png")
        with alice.expect_navigation():
            prompt.get_by_role("button", name="Reload").click()
        expect(alice.get_by_role("button", name="Sign out")).to_be_visible()  # still signed in
        expect(prompt).to_have_count(0)
        assert alice.evaluate("document.querySelector('script[type=module]').getAttribute('src')") == new_script
        wait_until(alice, "async cache => (await caches.keys()).join() === cache", f"{old_cache}next")
    finally:
        opened.close()
        assert stack.stop() == 0, stack.log()
    problems = [problem for watch in opened.watches for problem in watch.problems]
    assert not problems, "the page reported:\n" + "\n".join(problems)
