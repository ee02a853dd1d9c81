"""Notification settings and devices: stored server-side, the same on every device of the user's."""

from __future__ import annotations

import pytest

from chat import protocol as p
from chat.errors import Forbidden
from chat.service import ChatService
from tests.unit.conftest import Chat

SUBSCRIPTION = p.PushSubscriptionInfo.model_validate(
    {"endpoint": "https://push.test/device/1", "keys": {"p256dh": "BPk3-x_y", "auth": "q7xQ"}}
)


def test_a_device_registers_and_unregisters_for_notifications(chat: Chat) -> None:
    alice = chat.connect("Alice")

    registered = chat.service.handle(alice, p.RegisterPush(action="registerPush", subscription=SUBSCRIPTION))
    assert isinstance(registered, p.PushRegistered) and registered.registered
    (stored,) = chat.store.push_subscriptions(["alice"])["alice"]
    assert (stored.endpoint, stored.p256dh, stored.auth, stored.platform) == (
        SUBSCRIPTION.endpoint,
        "BPk3-x_y",
        "q7xQ",
        "webpush",
    )

    gone = chat.service.handle(alice, p.UnregisterPush(action="unregisterPush", endpoint=SUBSCRIPTION.endpoint))
    assert isinstance(gone, p.PushRegistered) and not gone.registered
    assert chat.store.push_subscriptions(["alice"]) == {}


def test_a_user_keeps_at_most_the_newest_devices(chat: Chat) -> None:
    alice = chat.connect("Alice")
    for n in range(p.MAX_PUSH_SUBSCRIPTIONS + 2):
        chat.clock.now += 1
        subscription = SUBSCRIPTION.model_copy(update={"endpoint": f"https://push.test/device/{n:02}"})
        chat.service.handle(alice, p.RegisterPush(action="registerPush", subscription=subscription))

    kept = sorted(d.endpoint for d in chat.store.push_subscriptions(["alice"])["alice"])
    assert kept == [f"https://push.test/device/{n:02}" for n in range(2, p.MAX_PUSH_SUBSCRIPTIONS + 2)]


@pytest.mark.parametrize(
    "subscription",
    [
        {"endpoint": "http://push.test/1", "keys": {"p256dh": "a", "auth": "b"}},
        {"endpoint": "https://push.test/1", "keys": {"p256dh": "not base64!", "auth": "b"}},
        {"endpoint": "https://push.test/1", "keys": {"p256dh": "a"}},
        {"endpoint": "https://" + "x" * p.MAX_PUSH_ENDPOINT_CHARS, "keys": {"p256dh": "a", "auth": "b"}},
    ],
)
def test_a_subscription_that_is_not_web_push_is_refused(subscription: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        p.CLIENT_FRAME.validate_python({"action": "registerPush", "subscription": subscription})


def test_muting_a_room_is_told_to_the_users_other_devices_and_listed(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    bob_phone = chat.connect("Bob")
    room = chat.group(alice, bob)

    reply = chat.service.handle(bob, p.MuteRoom(action="muteRoom", room_id=room.id, muted=True))

    assert isinstance(reply, p.RoomMuted) and reply.muted
    assert chat.notifier.received(bob_phone.connection_id, "roomMuted") == [
        {"type": "roomMuted", "roomId": room.id, "muted": True}
    ]
    listed = chat.service.handle(bob_phone, p.ListRooms(action="listRooms"))
    assert isinstance(listed, p.RoomsFrame) and [r.muted for r in listed.rooms] == [True]
    alices = chat.service.handle(alice, p.ListRooms(action="listRooms"))
    assert isinstance(alices, p.RoomsFrame) and [r.muted for r in alices.rooms] == [False]


def test_only_members_mute_a_room(chat: Chat) -> None:
    alice, eve = chat.connect("Alice"), chat.connect("Eve")
    room = chat.group(alice)
    with pytest.raises(Forbidden):
        chat.service.handle(eve, p.MuteRoom(action="muteRoom", room_id=room.id, muted=True))


def test_the_preview_setting_follows_the_user_to_every_device(chat: Chat) -> None:
    alice = chat.connect("Alice")
    alice_phone = chat.connect("Alice")

    before = chat.service.handle(alice, p.GetSettings(action="getSettings"))
    changed = chat.service.handle(alice, p.UpdateSettings(action="updateSettings", show_previews=False))

    assert isinstance(before, p.SettingsFrame) and before.show_previews and before.push_public_key is None
    assert isinstance(changed, p.SettingsFrame) and not changed.show_previews
    assert [f["showPreviews"] for f in chat.notifier.received(alice_phone.connection_id, "settings")] == [False]
    again = chat.service.handle(alice_phone, p.GetSettings(action="getSettings"))
    assert isinstance(again, p.SettingsFrame) and not again.show_previews


def test_settings_give_the_servers_push_key_when_it_sends_notifications(chat: Chat) -> None:
    service = ChatService(chat.store, chat.notifier, chat.service._moderator, push_public_key=lambda: "BPublicKey")
    alice = chat.connect("Alice")

    reply = service.handle(alice, p.GetSettings(action="getSettings"))

    assert isinstance(reply, p.SettingsFrame) and reply.push_public_key == "BPublicKey"
