"""Lists come in pages that always fit one API Gateway message, and users appear by the name they chose."""

from __future__ import annotations

import pytest

from chat import protocol as p
from chat.errors import BadRequest
from chat.ports import Identity
from chat.service import Caller
from tests.unit.conftest import Chat


def page_through(chat: Chat, caller: Caller, frame: p.ClientFrame, items: str) -> list[list[object]]:
    pages: list[list[object]] = []
    cursor = None
    while True:
        reply = chat.service.handle(caller, frame.model_copy(update={"cursor": cursor}))  # type: ignore[arg-type]
        assert reply is not None and len(p.encode(reply)) <= p.MAX_MESSAGE_BYTES
        pages.append(list(getattr(reply, items)))
        cursor = reply.next_cursor
        if cursor is None:
            return pages


def test_presence_of_a_big_room_comes_in_pages_of_members_by_id_that_each_fit(chat: Chat) -> None:
    alice = chat.connect("Alice")
    members = [chat.connect(f"member{i:04}") for i in range(250)]
    room = chat.group(alice, *members[:99])
    for start in range(99, 250, 99):
        chat.service.handle(
            alice,
            p.AddMembers(
                action="addMembers", room_id=room.id, member_ids=[m.user_id for m in members[start : start + 99]]
            ),
        )

    pages = page_through(chat, alice, p.Presence(action="presence", room_id=room.id), "users")

    assert [len(page) for page in pages] == [100, 100, 51]
    ids = [u.user_id for page in pages for u in page]  # type: ignore[attr-defined]
    assert ids == sorted(["alice", *(m.user_id for m in members)])


def test_a_room_frame_lists_at_most_100_member_ids_and_counts_them_all(chat: Chat) -> None:
    alice = chat.connect("Alice")
    members = [chat.connect(f"member{i:04}") for i in range(150)]
    room = chat.group(alice, *members[:99])

    reply = chat.service.handle(
        alice, p.AddMembers(action="addMembers", room_id=room.id, member_ids=[m.user_id for m in members[99:]])
    )

    assert isinstance(reply, p.RoomFrame)
    assert reply.room.member_count == 151 and len(reply.room.member_ids) == p.ROOM_MEMBER_IDS_SHOWN
    assert reply.room.member_ids == sorted(reply.room.member_ids)
    chat.queue.drain(chat.service.fan_out)  # a room of more than 100 pushes through the fan-out queue
    pushed = chat.notifier.received(members[-1].connection_id, "room")[-1]
    assert pushed["room"]["memberCount"] == 151  # type: ignore[index]


def test_list_rooms_pages_most_recent_first_with_a_short_last_message_preview(chat: Chat) -> None:
    alice = chat.connect("Alice")
    rooms = [chat.group(alice, name=f"room {i}") for i in range(7)]
    for room in rooms:
        chat.clock.now += 1
        chat.send(alice, room.id, "é" * p.MAX_CONTENT_CHARS)

    pages = page_through(chat, alice, p.ListRooms(action="listRooms", limit=3), "rooms")

    assert [len(page) for page in pages] == [3, 3, 1]
    names = [r.name for page in pages for r in page]  # type: ignore[attr-defined]
    assert names == [f"room {i}" for i in reversed(range(7))]
    preview = pages[0][0].last_message  # type: ignore[attr-defined]
    assert preview.content == "é" * p.LAST_MESSAGE_PREVIEW_CHARS + "…" and preview.seq == 1


def test_list_users_pages_by_name_with_a_query(chat: Chat) -> None:
    alice = chat.connect("Alice")
    for i in range(12):
        chat.connect(f"Al{i:02}")
    chat.connect("Bob")

    pages = page_through(chat, alice, p.ListUsers(action="listUsers", query="al", limit=5), "users")

    assert [len(page) for page in pages] == [5, 5, 3]
    assert [u.name for page in pages for u in page] == [*(f"Al{i:02}" for i in range(12)), "Alice"]  # type: ignore[attr-defined]


def test_a_cursor_that_the_server_did_not_make_is_a_bad_request(chat: Chat) -> None:
    alice = chat.connect("Alice")
    for frame in (p.ListRooms(action="listRooms", cursor="nope"), p.ListUsers(action="listUsers", cursor="e30")):
        with pytest.raises(BadRequest, match="cursor"):
            chat.service.handle(alice, frame)


def test_the_largest_replies_and_pushes_still_fit_one_api_gateway_message(chat: Chat) -> None:
    long_id = "u" * 128
    owner = chat.connect("O" * p.MAX_NAME_CHARS, user_id=long_id)
    members = [chat.connect("N" * p.MAX_NAME_CHARS, user_id=f"{i:03}" + "m" * 125) for i in range(99)]
    room = chat.group(owner, *members)
    for i in range(p.PAGE_MAX_LIMIT):
        chat.group(owner, *members, name=f"{i:03}" + "r" * 97)
    chat.send(owner, room.id, "\U0001f600" * p.MAX_CONTENT_CHARS)

    frames = [
        chat.service.handle(owner, p.ListRooms(action="listRooms", limit=p.PAGE_MAX_LIMIT)),
        chat.service.handle(owner, p.ListUsers(action="listUsers", limit=p.PAGE_MAX_LIMIT)),
        chat.service.handle(owner, p.Presence(action="presence", room_id=room.id)),
        chat.service.handle(owner, p.History(action="history", room_id=room.id, limit=p.HISTORY_MAX_LIMIT)),
    ]
    pushed = [frame for frames in chat.notifier.frames.values() for frame in frames]

    assert all(len(p.encode(frame)) <= p.MAX_MESSAGE_BYTES for frame in frames if frame is not None)
    assert max(len(str(frame).encode()) for frame in pushed) < p.MAX_MESSAGE_BYTES


def test_the_name_chosen_at_sign_up_is_what_everyone_sees(chat: Chat) -> None:
    chat.service.register_user("3f1c", "Alice Liddell")
    alice = chat.connect("", user_id="3f1c")  # a Cognito access token carries no name
    bob = chat.connect("Bob")
    room = chat.group(alice, bob)

    ack = chat.send(alice, room.id)
    users = chat.service.handle(bob, p.ListUsers(action="listUsers", query="alice"))

    assert ack.message.sender_name == "Alice Liddell"
    assert isinstance(users, p.UsersFrame) and [u.name for u in users.users] == ["Alice Liddell"]


def test_signing_up_again_never_overwrites_a_name_changed_since(chat: Chat) -> None:
    chat.service.register_user("3f1c", "Alice")
    alice = chat.connect("", user_id="3f1c")
    chat.service.handle(alice, p.UpdateProfile(action="updateProfile", name="Alicia"))
    chat.service.register_user("3f1c", "Alice")

    assert chat.store.users["3f1c"].name == "Alicia"


def test_a_user_without_any_name_gets_a_placeholder_until_they_choose_one(chat: Chat) -> None:
    stranger = chat.connect("", user_id="6f1c2d3e-0a1b-4c5d-8e9f-0123456789ab")
    room = chat.group(stranger)

    before = chat.send(stranger, room.id).message.sender_name
    chat.service.handle(stranger, p.UpdateProfile(action="updateProfile", name="  Zoë  "))
    after = chat.send(stranger, room.id).message.sender_name

    assert before == "user-6f1c2d3e" and after == "Zoë"


def test_a_profile_change_reaches_contacts_and_the_users_other_connections(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    alice_phone = Caller("conn-phone", Identity("alice", "Alice", int(chat.clock.now) + 3600))
    chat.service.connect(alice_phone.connection_id, alice_phone.identity)
    chat.group(alice, bob)

    reply = chat.service.handle(
        alice, p.UpdateProfile(action="updateProfile", name="Alicia", avatar_url="https://img.test/a.png")
    )
    typing_name = None
    chat.service.handle(bob, p.Typing(action="typing", room_id=chat.store.rooms_of("bob")[0].room.id, is_typing=True))
    typing_name = chat.notifier.received(alice.connection_id, "typing")[-1]["userName"]

    assert isinstance(reply, p.ProfileFrame) and reply.user.avatar_url == "https://img.test/a.png"
    for connection in (bob.connection_id, alice_phone.connection_id):
        assert chat.notifier.received(connection, "profile")[-1]["user"]["name"] == "Alicia"  # type: ignore[index]
    assert chat.notifier.received(carol.connection_id, "profile") == []
    assert chat.notifier.received(alice.connection_id, "profile") == []  # it got the reply
    assert typing_name == "Bob"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": " "},
        {"avatarUrl": "http://img.test/a.png"},
        {"avatarUrl": "javascript:alert(1)"},
        {"name": "x" * 65},
    ],
)
def test_a_profile_change_must_name_something_valid(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        p.CLIENT_FRAME.validate_python({"action": "updateProfile", **fields})


def test_another_members_client_msg_id_never_makes_a_senders_message_vanish(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    alices = chat.send(alice, room.id, "alice says")

    bobs = chat.send(bob, room.id, "bob says", client_msg_id=alices.client_msg_id)

    assert (bobs.message.sender_id, bobs.message.content, bobs.message.seq) == ("bob", "bob says", 2)


def test_presence_names_every_member_so_a_client_can_title_a_direct_room(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    chat.service.handle(bob, p.UpdateProfile(action="updateProfile", avatar_url="https://example.com/bob.png"))
    direct = chat.service.handle(alice, p.OpenDirect(action="openDirect", user_id=bob.user_id))
    assert isinstance(direct, p.RoomFrame)

    reply = chat.service.handle(alice, p.Presence(action="presence", room_id=direct.room.id))

    assert isinstance(reply, p.RoomPresence)
    by_id = {member.user_id: member for member in reply.users}
    assert (by_id[bob.user_id].name, by_id[bob.user_id].avatar_url) == ("Bob", "https://example.com/bob.png")
    assert by_id[alice.user_id].name == "Alice"
