from __future__ import annotations

import uuid

import pytest

from chat import protocol as p
from chat.errors import BadRequest, Forbidden, NotFound, RateLimited, Rejected, Unauthorized
from chat.ports import Identity
from chat.pushes import CONNECT_WINDOW_SECONDS
from chat.service import Limits, direct_room_id
from tests.unit.conftest import Chat


def test_a_message_is_acked_to_the_sender_and_pushed_to_every_other_member_connection(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    bob_phone = chat.connect("Bob")
    outsider = chat.connect("Eve")
    room = chat.group(alice, bob)

    ack = chat.send(alice, room.id, "hi bob")

    assert ack.message.seq == 1 and ack.message.sender_id == "alice" and ack.message.content == "hi bob"
    for connection in (bob, bob_phone):
        assert [f["message"] for f in chat.notifier.received(connection.connection_id, "message")] == [
            ack.message.model_dump(by_alias=True)
        ]
    assert chat.notifier.received(alice.connection_id, "message") == []
    assert chat.notifier.received(outsider.connection_id) == []


def test_the_senders_other_connections_get_the_message_pushed(chat: Chat) -> None:
    alice, alice_tab = chat.connect("Alice"), chat.connect("Alice")
    room = chat.group(alice)

    chat.send(alice, room.id)

    assert len(chat.notifier.received(alice_tab.connection_id, "message")) == 1


def test_a_retried_send_returns_the_original_ack_stores_one_copy_and_is_not_pushed_again(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    client_msg_id = str(uuid.uuid4())

    first = chat.send(alice, room.id, "once", client_msg_id)
    chat.clock.now += 5
    retry = chat.send(alice, room.id, "once", client_msg_id)

    assert retry.message == first.message
    assert [m.content for m in chat.store.messages[room.id]] == ["once"]
    assert len(chat.notifier.received(bob.connection_id, "message")) == 1


def test_seq_counts_up_per_room_without_gaps(chat: Chat) -> None:
    alice = chat.connect("Alice")
    first, second = chat.group(alice, name="a"), chat.group(alice, name="b")

    seqs = [chat.send(alice, room.id).message.seq for room in (first, second, first, first, second)]

    assert seqs == [1, 1, 2, 3, 2]


def test_only_members_may_send_type_read_history_see_presence_add_or_leave(chat: Chat) -> None:
    alice, eve = chat.connect("Alice"), chat.connect("Eve")
    room = chat.group(alice)
    frames: list[p.ClientAction] = [
        p.SendMessage(action="sendMessage", room_id=room.id, content="x", client_msg_id=str(uuid.uuid4())),
        p.Typing(action="typing", room_id=room.id, is_typing=True),
        p.History(action="history", room_id=room.id),
        p.Presence(action="presence", room_id=room.id),
        p.AddMembers(action="addMembers", room_id=room.id, member_ids=["eve"]),
        p.LeaveRoom(action="leaveRoom", room_id=room.id),
    ]
    for frame in frames:
        with pytest.raises(Forbidden):
            chat.service.handle(eve, frame)
    assert chat.store.messages.get(room.id) is None
    assert chat.store.members[room.id] == {"alice"}
    assert chat.notifier.received(alice.connection_id) == []


def test_an_unknown_room_and_someone_elses_direct_room_get_the_same_answer(chat: Chat) -> None:
    alice, bob, eve = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Eve")
    chat.service.handle(alice, p.OpenDirect(action="openDirect", user_id=bob.user_id))
    existing, missing = direct_room_id("alice", "bob"), direct_room_id("alice", "carol")

    answers = []
    for room_id in (existing, missing):
        with pytest.raises(Forbidden) as refused:
            chat.service.handle(eve, p.History(action="history", room_id=room_id))
        answers.append(refused.value.message.replace(room_id, "<room>"))

    assert answers[0] == answers[1]


def test_creating_a_room_with_an_unknown_user_is_not_found_and_stores_nothing(chat: Chat) -> None:
    alice = chat.connect("Alice")
    with pytest.raises(NotFound, match="ghost"):
        chat.service.handle(alice, p.CreateRoom(action="createRoom", name="x", member_ids=["ghost"]))
    assert chat.store.rooms == {}


def test_a_new_group_room_is_pushed_to_its_members(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob, name="  Launch  ")

    assert room.name == "Launch" and room.is_group and room.member_ids == ["alice", "bob"]
    assert [f["room"]["id"] for f in chat.notifier.received(bob.connection_id, "room")] == [room.id]


def test_opening_a_direct_room_gives_the_same_room_whoever_opens_it(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")

    opened = chat.service.handle(alice, p.OpenDirect(action="openDirect", user_id="bob"))
    reopened = chat.service.handle(bob, p.OpenDirect(action="openDirect", user_id="alice"))

    assert isinstance(opened, p.RoomFrame) and isinstance(reopened, p.RoomFrame)
    assert opened.room == reopened.room
    assert opened.room.id == direct_room_id("alice", "bob") and not opened.room.is_group
    assert opened.room.name is None
    assert len(chat.notifier.received(bob.connection_id, "room")) == 1


def test_a_direct_room_with_oneself_or_a_stranger_is_refused(chat: Chat) -> None:
    alice = chat.connect("Alice")
    with pytest.raises(BadRequest):
        chat.service.handle(alice, p.OpenDirect(action="openDirect", user_id="alice"))
    with pytest.raises(NotFound):
        chat.service.handle(alice, p.OpenDirect(action="openDirect", user_id="nobody"))


def test_direct_rooms_cannot_gain_members_or_be_left(chat: Chat) -> None:
    alice, _bob, _carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    reply = chat.service.handle(alice, p.OpenDirect(action="openDirect", user_id="bob"))
    assert isinstance(reply, p.RoomFrame)
    with pytest.raises(Forbidden):
        chat.service.handle(alice, p.AddMembers(action="addMembers", room_id=reply.room.id, member_ids=["carol"]))
    with pytest.raises(Forbidden):
        chat.service.handle(alice, p.LeaveRoom(action="leaveRoom", room_id=reply.room.id))


def test_added_members_can_read_the_history_and_everyone_is_told(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = chat.group(alice, bob)
    chat.send(alice, room.id, "before carol")

    reply = chat.service.handle(alice, p.AddMembers(action="addMembers", room_id=room.id, member_ids=["carol"]))
    history = chat.service.handle(carol, p.History(action="history", room_id=room.id))

    assert isinstance(reply, p.RoomFrame) and reply.room.member_ids == ["alice", "bob", "carol"]
    assert isinstance(history, p.HistoryPage) and [m.content for m in history.messages] == ["before carol"]
    assert chat.notifier.received(bob.connection_id, "room")[-1]["room"]["memberIds"] == [
        "alice",
        "bob",
        "carol",
    ]
    assert chat.notifier.received(carol.connection_id, "room")[-1]["room"]["id"] == room.id


def test_a_member_who_leaves_can_no_longer_send_and_the_rest_are_told(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)

    reply = chat.service.handle(bob, p.LeaveRoom(action="leaveRoom", room_id=room.id))

    assert isinstance(reply, p.RoomFrame) and reply.room.member_ids == ["alice"]
    assert chat.notifier.received(alice.connection_id, "room")[-1]["room"]["memberIds"] == ["alice"]
    with pytest.raises(Forbidden):
        chat.send(bob, room.id)


def test_history_pages_backwards_and_forwards_in_ascending_seq(chat: Chat) -> None:
    alice = chat.connect("Alice")
    room = chat.group(alice)
    for i in range(1, 8):
        chat.send(alice, room.id, f"m{i}")

    def page(**kwargs: int) -> tuple[list[int], bool]:
        reply = chat.service.handle(alice, p.History(action="history", room_id=room.id, **kwargs))  # type: ignore[arg-type]
        assert isinstance(reply, p.HistoryPage)
        return [m.seq for m in reply.messages], reply.has_more

    assert page(limit=3) == ([5, 6, 7], True)
    assert page(before_seq=5, limit=3) == ([2, 3, 4], True)
    assert page(before_seq=2, limit=3) == ([1], False)
    assert page(after_seq=2, limit=3) == ([3, 4, 5], True)
    assert page(after_seq=5, limit=3) == ([6, 7], False)
    assert page(after_seq=7) == ([], False)


def test_typing_reaches_other_members_online_and_is_never_stored(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)

    reply = chat.service.handle(alice, p.Typing(action="typing", room_id=room.id, is_typing=True))

    assert reply is None
    assert chat.notifier.received(bob.connection_id, "typing") == [
        {"type": "typing", "roomId": room.id, "userId": "alice", "userName": "Alice", "isTyping": True}
    ]
    assert chat.notifier.received(alice.connection_id, "typing") == []
    assert chat.store.messages.get(room.id) is None


def test_a_user_stays_online_until_the_last_connection_closes_then_contacts_see_last_seen(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    chat.group(alice, bob)
    bob_phone = chat.connect("Bob")  # second connection: no new presence push
    assert chat.notifier.received(alice.connection_id, "presence") == []

    chat.clock.now += 60
    chat.service.disconnect(bob.connection_id)
    assert chat.notifier.received(alice.connection_id, "presence") == []
    chat.service.disconnect(bob_phone.connection_id)

    [offline] = chat.notifier.received(alice.connection_id, "presence")
    assert offline == {
        "type": "presence",
        "userId": "bob",
        "online": False,
        "lastSeen": "2027-01-15T08:01:00.000Z",
    }
    chat.connect("Bob")
    assert chat.notifier.received(alice.connection_id, "presence")[-1]["online"] is True


def test_presence_of_a_room_lists_every_member(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.service.disconnect(bob.connection_id)

    reply = chat.service.handle(alice, p.Presence(action="presence", room_id=room.id))

    assert isinstance(reply, p.RoomPresence)
    assert [(u.user_id, u.online, u.last_seen is not None) for u in reply.users] == [
        ("alice", True, False),
        ("bob", False, True),
    ]


def test_a_connection_past_its_lifetime_no_longer_counts_as_online(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.clock.now += Limits().connection_lifetime_seconds + 1  # $disconnect never came

    reply = chat.service.handle(alice, p.Presence(action="presence", room_id=room.id))

    assert isinstance(reply, p.RoomPresence)
    assert {u.user_id: u.online for u in reply.users} == {"alice": False, "bob": False}


def test_gone_connections_are_forgotten_and_not_posted_to_again(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.clock.now += CONNECT_WINDOW_SECONDS
    chat.notifier.gone.add(bob.connection_id)

    chat.send(alice, room.id)

    assert bob.connection_id not in chat.store.connections
    assert chat.store.users["bob"].connections == frozenset()


def test_a_410_from_a_connection_still_opening_drops_the_push_but_keeps_the_connection(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.notifier.gone.add(bob.connection_id)  # as API Gateway answers while Bob's $connect still runs
    chat.clock.now += CONNECT_WINDOW_SECONDS - 1

    chat.send(alice, room.id, "while bob connects")
    chat.notifier.gone.clear()  # $connect returned: the socket is open
    chat.send(alice, room.id, "once bob is in")

    assert bob.connection_id in chat.store.connections
    assert [f["message"]["content"] for f in chat.notifier.received(bob.connection_id, "message")] == ["once bob is in"]
    presence = chat.service.handle(alice, p.Presence(action="presence", room_id=room.id))
    assert isinstance(presence, p.RoomPresence) and {u.user_id: u.online for u in presence.users}["bob"]


def test_list_users_finds_names_by_prefix_with_presence(chat: Chat) -> None:
    alice = chat.connect("Alice")
    chat.connect("Albert")
    chat.connect("Bob")

    reply = chat.service.handle(alice, p.ListUsers(action="listUsers", query="AL"))

    assert isinstance(reply, p.UsersFrame)
    assert [(u.name, u.online) for u in reply.users] == [("Albert", True), ("Alice", True)]


def test_list_rooms_shows_the_last_message_most_recent_room_first(chat: Chat) -> None:
    alice = chat.connect("Alice")
    older, newer = chat.group(alice, name="older"), chat.group(alice, name="newer")
    chat.send(alice, newer.id, "first")
    chat.clock.now += 1
    chat.send(alice, older.id, "latest")

    reply = chat.service.handle(alice, p.ListRooms(action="listRooms"))

    assert isinstance(reply, p.RoomsFrame)
    assert [(r.name, r.last_seq, r.last_message.content if r.last_message else None) for r in reply.rooms] == [
        ("older", 1, "latest"),
        ("newer", 1, "first"),
    ]


def test_a_reply_echoes_the_request_id(chat: Chat) -> None:
    alice = chat.connect("Alice")
    reply = chat.service.handle(alice, p.Ping(action="ping", request_id="r-42"))
    assert isinstance(reply, p.Pong) and reply.to_wire() == {"type": "pong", "requestId": "r-42"}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("mask", "well **** that"), ("off", "well shit that")],
)
def test_moderation_masks_or_lets_through(mode: str, expected: str) -> None:
    chat = Chat(moderation=mode)
    alice = chat.connect("Alice")
    room = chat.group(alice)
    assert chat.send(alice, room.id, "well shit that").message.content == expected


def test_moderation_in_reject_mode_refuses_and_stores_nothing() -> None:
    chat = Chat(moderation="reject")
    alice = chat.connect("Alice")
    room = chat.group(alice)
    with pytest.raises(Rejected):
        chat.send(alice, room.id, "SHIT happens")
    assert chat.store.messages.get(room.id) is None


def test_frames_after_the_token_expires_are_unauthorized(chat: Chat) -> None:
    identity = Identity("alice", "Alice", token_expires_at=int(chat.clock.now) + 10)
    chat.service.admit(identity, "history")
    chat.clock.now += 10
    with pytest.raises(Unauthorized):
        chat.service.admit(identity, "ping")


def test_a_flood_is_rate_limited_with_the_time_until_the_window_resets() -> None:
    chat = Chat(limits=Limits(rate_limit_frames=3, rate_limit_window_seconds=10))
    identity = Identity("alice", "Alice", int(chat.clock.now) + 3600)
    for _ in range(3):
        chat.service.admit(identity, "sendMessage")
    with pytest.raises(RateLimited) as refused:
        chat.service.admit(identity, "sendMessage")
    assert refused.value.retry_after_ms is not None and 0 < refused.value.retry_after_ms <= 10_000
    chat.service.admit(identity, "ping")  # keep-alives are never refused
    chat.clock.now += 10
    chat.service.admit(identity, "sendMessage")


def test_a_refused_flood_costs_no_storage_request_until_a_frame_may_fit_again() -> None:
    chat = Chat(limits=Limits(rate_limit_frames=3, rate_limit_window_seconds=3))
    identity = Identity("alice", "Alice", int(chat.clock.now) + 3600)
    asked = []
    count_frame = chat.store.count_frame
    chat.store.count_frame = lambda *args: asked.append(args) or count_frame(*args)  # type: ignore[method-assign]
    for _ in range(3):
        chat.service.admit(identity, "sendMessage")
    refusals = []
    for _ in range(100):
        with pytest.raises(RateLimited) as refused:
            chat.service.admit(identity, "sendMessage")
        refusals.append(refused.value.retry_after_ms)
        chat.clock.now += 0.005

    assert len(asked) == 4  # three frames admitted, one refusal learned from the store; 99 answered from memory
    assert refusals[0] == 1000 and refusals == sorted(refusals, reverse=True) and refusals[-1] > 0
    chat.clock.now += 1
    chat.service.admit(identity, "sendMessage")  # a frame fits again: asked of the store, and admitted
    assert len(asked) == 5


def test_an_action_whose_push_fails_still_succeeds_once_its_change_is_stored(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)

    def broken(*args: object, **kwargs: object) -> None:
        raise TimeoutError("the management API did not answer")

    chat.notifier.post = broken  # type: ignore[method-assign]
    ack = chat.send(alice, room.id, "stored anyway")
    renamed = chat.service.handle(alice, p.UpdateProfile(action="updateProfile", name="Alicia"))
    chat.service.disconnect(bob.connection_id)

    assert [m.content for m in chat.store.messages[room.id]] == ["stored anyway"] and ack.message.seq == 1
    assert isinstance(renamed, p.ProfileFrame)
