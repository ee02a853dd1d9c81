"""Who is notified of new messages: members with no live connection who have not muted the room nor read that
far, once per room per burst, on each device; devices the push service says are gone are forgotten."""

from __future__ import annotations

from chat import protocol as p
from chat.notifications import MEMBERS_PAGE, Notifications, topic_of
from chat.ports import PushSubscription
from chat.service import Caller
from tests.fakes import RecordingPushService
from tests.unit.conftest import Chat


def device(chat: Chat, user_id: str, n: int = 1) -> str:
    endpoint = f"https://push.test/{user_id}/{n}"
    chat.store.add_push_subscription(user_id, PushSubscription(endpoint, "key", "auth", f"t{n}"), keep=10)
    return endpoint


def offline(chat: Chat, name: str) -> Caller:
    """A user who connected once (a profile), then went away."""
    caller = chat.connect(name)
    chat.service.disconnect(caller.connection_id)
    return caller


def notify(chat: Chat, push: RecordingPushService, messages: list[p.Message]) -> Notifications:
    notifications = Notifications(chat.store, push, chat.clock)
    notifications.notify(messages)
    return notifications


def test_an_offline_member_gets_one_notification_per_burst_of_a_room(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), offline(chat, "Bob")
    room = chat.group(alice, bob, name="Launch")
    phone, laptop = device(chat, "bob", 1), device(chat, "bob", 2)
    burst = [chat.send(alice, room.id, f"message {n}").message for n in range(3)]
    push = RecordingPushService()

    report = Notifications(chat.store, push, chat.clock).notify(burst)

    for endpoint in (phone, laptop):
        assert push.delivered[endpoint] == [
            {
                "title": "Launch",
                "body": "Alice: message 2 (+2 more)",
                "roomId": room.id,
                "seq": 3,
                "messageId": burst[-1].id,
                "url": f"/?room={room.id}&seq=3",
            }
        ]
        assert push.topics[endpoint] == [topic_of(room.id)]
    assert (report.notifications, report.delivered) == (2, 2)


def test_members_online_muted_or_caught_up_and_the_sender_are_not_notified(chat: Chat) -> None:
    alice = chat.connect("Alice")
    online = chat.connect("Olive")
    muted, caught_up, away = offline(chat, "Mute"), offline(chat, "Cat"), offline(chat, "Away")
    room = chat.group(alice, online, muted, caught_up, away)
    for member in ("alice", "olive", "mute", "cat", "away"):
        device(chat, member)
    chat.store.set_muted(room.id, "mute", True)
    message = chat.send(alice, room.id, "news").message
    chat.store.mark_read(room.id, "cat", message.seq)
    push = RecordingPushService()

    report = Notifications(chat.store, push, chat.clock).notify([message])

    assert set(push.delivered) == {"https://push.test/away/1"}
    assert (report.skipped_online, report.skipped_muted, report.skipped_read) == (1, 1, 1)


def test_without_previews_a_notification_says_only_that_there_is_news(chat: Chat) -> None:
    alice = chat.connect("Alice")
    offline(chat, "Bob")
    direct = chat.service.handle(alice, p.OpenDirect(action="openDirect", user_id="bob"))
    assert isinstance(direct, p.RoomFrame)
    endpoint = device(chat, "bob")
    chat.store.set_show_previews("bob", False)
    first = chat.send(alice, direct.room.id, "the secret plan").message
    push = RecordingPushService()

    notify(chat, push, [first])

    (shown,) = push.delivered[endpoint]
    assert (shown["title"], shown["body"]) == ("Alice", "New message")
    assert "secret" not in str(shown)
    chat.store.set_show_previews("bob", True)
    notify(chat, push, [first])
    assert push.delivered[endpoint][-1]["body"] == "the secret plan"  # a direct room: no sender prefix


def test_a_device_that_is_gone_is_forgotten_and_the_others_still_get_theirs(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), offline(chat, "Bob")
    room = chat.group(alice, bob)
    old, current, flaky = device(chat, "bob", 1), device(chat, "bob", 2), device(chat, "bob", 3)
    push = RecordingPushService(gone={old}, failing={flaky})

    report = Notifications(chat.store, push, chat.clock).notify([chat.send(alice, room.id, "hi").message])

    assert [d.endpoint for d in chat.store.push_subscriptions(["bob"])["bob"]] == [current, flaky]
    assert list(push.delivered) == [current]
    assert (report.gone, report.failed, report.delivered) == (1, 1, 1)


def test_deleted_messages_and_rooms_without_offline_devices_notify_nobody(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), offline(chat, "Bob")
    room = chat.group(alice, bob)
    device(chat, "bob")
    message = chat.send(alice, room.id, "oops").message
    push = RecordingPushService()

    notify(chat, push, [message.model_copy(update={"deleted_at": "2027-01-01T00:00:00.000Z"})])

    assert push.delivered == {}


def test_every_member_of_a_big_room_is_reached_page_by_page(chat: Chat) -> None:
    alice = chat.connect("Alice")
    room = chat.group(alice)
    others = [f"member{n:03}" for n in range(MEMBERS_PAGE * 2 + 5)]
    for user_id in others:
        chat.store.register_user(user_id, user_id)
    chat.store.add_members(room.id, "alice", others)
    for user_id in others:
        device(chat, user_id)
    push = RecordingPushService()

    report = Notifications(chat.store, push, chat.clock).notify([chat.send(alice, room.id, "all hands").message])

    assert report.delivered == len(others) and len(push.delivered) == len(others)
