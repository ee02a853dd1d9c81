"""Read markers: moved forward only, synced to the reader's other devices, read receipts in small rooms only, and
the unread count in `listRooms` (lastSeq minus the marker)."""

from __future__ import annotations

import pytest

from chat import protocol as p
from chat.errors import Forbidden
from chat.service import Caller
from tests.unit.conftest import Chat
from tests.unit.test_big_rooms import big_room


def mark(chat: Chat, caller: Caller, room_id: str, seq: int) -> p.ReadFrame:
    reply = chat.service.handle(caller, p.MarkRead(action="markRead", room_id=room_id, seq=seq))
    assert isinstance(reply, p.ReadFrame)
    return reply


def summaries(chat: Chat, caller: Caller) -> dict[str, p.RoomSummary]:
    reply = chat.service.handle(caller, p.ListRooms(action="listRooms"))
    assert isinstance(reply, p.RoomsFrame)
    return {room.id: room for room in reply.rooms}


def test_list_rooms_counts_the_messages_after_the_read_marker(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    for n in range(5):
        chat.send(alice, room.id, f"m{n}")

    mark(chat, bob, room.id, 2)

    summary = summaries(chat, bob)[room.id]
    assert (summary.read_seq, summary.unread_count, summary.last_seq) == (2, 3, 5)


def test_the_marker_never_moves_back_nor_past_the_last_message(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    for n in range(3):
        chat.send(alice, room.id, f"m{n}")

    assert mark(chat, bob, room.id, 2).seq == 2
    assert mark(chat, bob, room.id, 1).seq == 2
    assert mark(chat, bob, room.id, 99).seq == 3
    assert summaries(chat, bob)[room.id].unread_count == 0


def test_a_marker_moved_on_one_device_reaches_the_other_devices_and_the_members_as_a_receipt(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    bob_phone = chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.send(alice, room.id, "hello")

    mark(chat, bob, room.id, 1)

    expected = {"type": "read", "roomId": room.id, "userId": "bob", "seq": 1}
    assert chat.notifier.received(bob_phone.connection_id, "read") == [expected]
    assert chat.notifier.received(alice.connection_id, "read") == [expected]
    assert chat.notifier.received(bob.connection_id, "read") == []  # it got the reply


def test_a_big_room_omits_read_receipts_but_the_readers_devices_are_told(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    bob_phone = chat.connect("Bob")
    room = big_room(chat, alice, bob)
    chat.send(alice, room.id, "hello")
    chat.queue.drain(chat.service.fan_out)

    mark(chat, bob, room.id, 1)

    assert chat.notifier.received(alice.connection_id, "read") == []
    assert chat.queue.jobs == []
    assert [f["seq"] for f in chat.notifier.received(bob_phone.connection_id, "read")] == [1]


def test_presence_gives_each_members_read_marker(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.send(alice, room.id, "one")
    chat.send(alice, room.id, "two")
    mark(chat, bob, room.id, 1)

    reply = chat.service.handle(alice, p.Presence(action="presence", room_id=room.id))

    assert isinstance(reply, p.RoomPresence)
    assert {u.user_id: u.read_seq for u in reply.users} == {"alice": 0, "bob": 1}


def test_only_members_move_a_marker(chat: Chat) -> None:
    alice, eve = chat.connect("Alice"), chat.connect("Eve")
    room = chat.group(alice)
    with pytest.raises(Forbidden):
        mark(chat, eve, room.id, 1)


def test_a_marker_that_does_not_move_tells_nobody(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    bob_phone = chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.send(alice, room.id, "hello")
    mark(chat, bob, room.id, 1)

    again = mark(chat, bob_phone, room.id, 1)

    assert again.seq == 1
    assert len(chat.notifier.received(alice.connection_id, "read")) == 1
    assert chat.notifier.received(bob.connection_id, "read") == []
