"""Rooms past the inline threshold: the sender's ack never waits for the fan-out, which goes through the queue in
pages, and presence and typing cost a bounded amount whatever a room's size."""

from __future__ import annotations

import pytest

from chat import protocol as p
from chat.ports import FanoutJob, RoomRecord
from chat.pushes import INLINE_PUSH_MAX_MEMBERS, MAX_FANOUT_ATTEMPTS, PRESENCE_PUSH_MAX_MEMBERS
from chat.service import BIG_ROOM_TYPING_INTERVAL_SECONDS, Caller
from tests.unit.conftest import Chat


def big_room(chat: Chat, owner: Caller, *online: Caller, offline: int = INLINE_PUSH_MAX_MEMBERS) -> RoomRecord:
    """A group of `owner`, the `online` callers and `offline` members who never connected."""
    for i in range(offline):
        chat.store.register_user(f"offline{i:04}", f"Offline {i}")
    room = chat.group(owner, *online)
    others = [f"offline{i:04}" for i in range(offline)]
    for start in range(0, len(others), p.MAX_MEMBERS_PER_FRAME):
        chat.service.handle(
            owner,
            p.AddMembers(
                action="addMembers", room_id=room.id, member_ids=others[start : start + p.MAX_MEMBERS_PER_FRAME]
            ),
        )
    chat.queue.jobs.clear()
    chat.notifier.frames.clear()
    chat.notifier.posts = 0
    stored = chat.store.get_room(room.id)
    assert stored is not None
    return stored


def messages_received(chat: Chat, caller: Caller) -> list[str]:
    return [str(f["message"]["content"]) for f in chat.notifier.received(caller.connection_id, "message")]  # type: ignore[index]


def test_a_big_room_acks_the_sender_before_any_push_and_the_queue_reaches_every_online_member(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    alice_phone = chat.connect("Alice")
    room = big_room(chat, alice, bob, carol)

    ack = chat.send(alice, room.id, "to everyone")

    assert ack.message.seq == 1 and room.member_count > INLINE_PUSH_MAX_MEMBERS
    assert chat.notifier.posts == 0 and len(chat.queue.jobs) == 1  # acked, nothing pushed yet
    chat.queue.drain(chat.service.fan_out)
    for member in (bob, carol, alice_phone):
        assert messages_received(chat, member) == ["to everyone"]
    assert messages_received(chat, alice) == []  # the sender's connection got the ack instead
    assert chat.notifier.posts == 3  # the online members only: the 100 offline members cost nothing


def test_a_fan_out_goes_page_by_page_each_page_queueing_the_next_before_it_posts(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chat.pushes.FANOUT_PAGE_SIZE", 3)
    alice = chat.connect("Alice")
    online = [chat.connect(f"User{i}") for i in range(10)]
    room = big_room(chat, alice, *online)

    chat.send(alice, room.id, "paged")
    first = chat.queue.jobs[0]
    chat.service.fan_out(chat.queue.jobs.pop(0))

    assert [job.after_connection_id is not None for job in chat.queue.jobs] == [True]  # the next page, queued
    assert 2 <= chat.notifier.posts <= 3  # one page (less the sender's connection, if it is on it)
    assert chat.queue.drain(chat.service.fan_out) == 3  # 11 connections: 4 pages in all
    assert all(messages_received(chat, member) == ["paged"] for member in online)
    assert chat.notifier.posts == len(online)
    assert first.after_connection_id is None


def test_connections_that_cannot_be_reached_are_tried_again_by_later_jobs_then_given_up(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = big_room(chat, alice, bob, carol)
    chat.notifier.failing.add(bob.connection_id)

    chat.send(alice, room.id, "eventually")
    chat.service.fan_out(chat.queue.jobs.pop(0))
    retry = chat.queue.jobs[0]
    chat.notifier.failing.clear()
    chat.queue.drain(chat.service.fan_out)

    assert [c.connection_id for c in retry.retry] == [bob.connection_id] and retry.attempt == 1
    assert messages_received(chat, bob) == ["eventually"] and messages_received(chat, carol) == ["eventually"]

    chat.notifier.failing.add(bob.connection_id)
    chat.send(alice, room.id, "never")
    assert chat.queue.drain(chat.service.fan_out) == MAX_FANOUT_ATTEMPTS  # then abandoned, not retried forever
    assert messages_received(chat, bob) == ["eventually"]


def test_a_fan_out_forgets_gone_connections_in_the_room_and_on_the_user(chat: Chat) -> None:
    chat.clock.now += 3600  # connections are past the connect window from the start
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = big_room(chat, alice, bob)
    chat.clock.now += 60
    chat.notifier.gone.add(bob.connection_id)

    chat.send(alice, room.id)
    chat.queue.drain(chat.service.fan_out)

    assert bob.connection_id not in {c.connection_id for c in chat.store.room_connections(room.id).connections}
    assert not chat.store.users["bob"].connections


def test_a_send_whose_queue_fails_is_still_acked_and_stored(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = big_room(chat, alice, bob)
    chat.queue.failing = True

    ack = chat.send(alice, room.id, "kept")

    assert ack.message.content == "kept" and [m.content for m in chat.store.messages[room.id]] == ["kept"]


def test_a_job_survives_the_trip_through_the_queue_unchanged(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = big_room(chat, alice, bob)
    chat.send(alice, room.id, 'é ✓ "quoted"')
    job = chat.queue.jobs[0]

    assert FanoutJob.from_json(job.to_json()) == job


def test_typing_in_a_big_room_is_pushed_at_most_once_per_interval_whoever_types(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = big_room(chat, alice, bob, carol)

    for caller in (alice, bob, alice, carol):
        chat.service.handle(caller, p.Typing(action="typing", room_id=room.id, is_typing=True))
    chat.queue.drain(chat.service.fan_out)
    chat.clock.now += BIG_ROOM_TYPING_INTERVAL_SECONDS
    chat.service.handle(bob, p.Typing(action="typing", room_id=room.id, is_typing=True))
    chat.queue.drain(chat.service.fan_out)

    typers = [[f["userId"] for f in chat.notifier.received(c.connection_id, "typing")] for c in (alice, bob, carol)]
    assert typers == [["bob"], ["alice"], ["alice", "bob"]]  # nobody is told of their own typing


def test_presence_is_pushed_to_small_rooms_only_and_a_big_room_asks_for_it(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    chat.group(alice, carol, name="small")
    big = big_room(chat, alice, bob, offline=PRESENCE_PUSH_MAX_MEMBERS)

    chat.service.disconnect(alice.connection_id)

    assert chat.notifier.received(bob.connection_id, "presence") == []
    assert [f["online"] for f in chat.notifier.received(carol.connection_id, "presence")] == [False]
    reply = chat.service.handle(bob, p.Presence(action="presence", room_id=big.id))
    assert (
        isinstance(reply, p.RoomPresence)
        and {"alice": False, "bob": True}.items() <= {u.user_id: u.online for u in reply.users}.items()
    )


def test_a_newcomer_gets_the_rooms_pushes_at_once_and_a_leaver_no_longer_does(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = chat.group(alice, bob)

    chat.service.handle(alice, p.AddMembers(action="addMembers", room_id=room.id, member_ids=["carol"]))
    chat.send(alice, room.id, "welcome")
    chat.service.handle(bob, p.LeaveRoom(action="leaveRoom", room_id=room.id))
    chat.send(alice, room.id, "bye")

    assert messages_received(chat, carol) == ["welcome", "bye"]
    assert messages_received(chat, bob) == ["welcome"]
