"""Room roles: a group's creator is its admin; admins add and remove members and rename the room; a removed member
loses access at once and is told."""

from __future__ import annotations

import pytest

from chat import protocol as p
from chat.errors import BadRequest, Forbidden, NotFound
from tests.unit.conftest import Chat


def test_the_creator_of_a_group_is_its_admin_and_a_direct_room_has_none(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    group = chat.group(alice, bob)
    direct = chat.service.handle(alice, p.OpenDirect(action="openDirect", user_id="bob"))

    assert group.admin_ids == ["alice"]
    assert isinstance(direct, p.RoomFrame) and direct.room.admin_ids == []


def test_only_an_admin_adds_members(chat: Chat) -> None:
    alice, bob, _carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = chat.group(alice, bob)
    with pytest.raises(Forbidden):
        chat.service.handle(bob, p.AddMembers(action="addMembers", room_id=room.id, member_ids=["carol"]))
    assert chat.store.rooms[room.id].member_count == 2


def test_a_removed_member_loses_access_at_once_and_is_told(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    bob_phone = chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.send(alice, room.id, "before")

    reply = chat.service.handle(alice, p.RemoveMember(action="removeMember", room_id=room.id, user_id="bob"))

    assert isinstance(reply, p.RoomFrame) and reply.room.member_ids == ["alice"]
    for connection in (bob, bob_phone):
        assert chat.notifier.received(connection.connection_id, "removed") == [
            {"type": "removed", "roomId": room.id, "byUserId": "alice"}
        ]
    with pytest.raises(Forbidden):
        chat.service.handle(bob, p.History(action="history", room_id=room.id))
    with pytest.raises(Forbidden):
        chat.send(bob, room.id, "still here?")
    chat.send(alice, room.id, "after")
    assert [f["message"]["content"] for f in chat.notifier.received(bob_phone.connection_id, "message")] == ["before"]  # type: ignore[index]


def test_members_who_are_not_admins_cannot_remove_or_rename(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = chat.group(alice, bob, carol)
    with pytest.raises(Forbidden):
        chat.service.handle(bob, p.RemoveMember(action="removeMember", room_id=room.id, user_id="carol"))
    with pytest.raises(Forbidden):
        chat.service.handle(bob, p.RenameRoom(action="renameRoom", room_id=room.id, name="mine now"))
    assert chat.store.rooms[room.id].member_count == 3 and chat.store.rooms[room.id].name == "team"


def test_removing_someone_who_is_not_a_member_or_oneself_is_refused(chat: Chat) -> None:
    alice, _bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice)
    with pytest.raises(NotFound):
        chat.service.handle(alice, p.RemoveMember(action="removeMember", room_id=room.id, user_id="bob"))
    with pytest.raises(BadRequest):
        chat.service.handle(alice, p.RemoveMember(action="removeMember", room_id=room.id, user_id="alice"))


def test_an_admin_renames_the_room_and_the_members_are_told(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)

    reply = chat.service.handle(alice, p.RenameRoom(action="renameRoom", room_id=room.id, name="Launch"))

    assert isinstance(reply, p.RoomFrame) and reply.room.name == "Launch"
    assert chat.notifier.received(bob.connection_id, "room")[-1]["room"]["name"] == "Launch"  # type: ignore[index]


def test_when_the_last_admin_leaves_the_first_remaining_member_becomes_admin(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = chat.group(alice, carol, bob)

    reply = chat.service.handle(alice, p.LeaveRoom(action="leaveRoom", room_id=room.id))

    assert isinstance(reply, p.RoomFrame) and reply.room.admin_ids == ["bob"]
    chat.service.handle(bob, p.RenameRoom(action="renameRoom", room_id=room.id, name="Bob's now"))


def test_a_group_made_before_rooms_had_admins_is_managed_by_any_member(chat: Chat) -> None:
    from dataclasses import replace

    alice, bob, _carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = chat.group(alice, bob)
    chat.store.rooms[room.id] = replace(chat.store.rooms[room.id], admin_ids=())

    reply = chat.service.handle(bob, p.AddMembers(action="addMembers", room_id=room.id, member_ids=["carol"]))

    assert isinstance(reply, p.RoomFrame) and reply.room.member_count == 3
