"""Edits, deletes and reactions: who may make them, what the message becomes (same seq, a new version), who is
told, and that a retried change changes nothing."""

from __future__ import annotations

import pytest

from chat import protocol as p
from chat.errors import BadRequest, Forbidden, NotFound, Rejected
from chat.service import Caller
from tests.unit.conftest import Chat
from tests.unit.test_big_rooms import big_room


def edit(chat: Chat, caller: Caller, message: p.Message, content: str) -> p.MessageUpdated:
    reply = chat.service.handle(
        caller, p.EditMessage(action="editMessage", room_id=message.room_id, message_id=message.id, content=content)
    )
    assert isinstance(reply, p.MessageUpdated)
    return reply


def delete(chat: Chat, caller: Caller, message: p.Message) -> p.MessageUpdated:
    reply = chat.service.handle(
        caller, p.DeleteMessage(action="deleteMessage", room_id=message.room_id, message_id=message.id)
    )
    assert isinstance(reply, p.MessageUpdated)
    return reply


def react(chat: Chat, caller: Caller, message: p.Message, emoji: p.Emoji, *, add: bool = True) -> p.ReactionFrame:
    frame: p.AddReaction | p.RemoveReaction
    if add:
        frame = p.AddReaction(action="addReaction", room_id=message.room_id, message_id=message.id, emoji=emoji)
    else:
        frame = p.RemoveReaction(action="removeReaction", room_id=message.room_id, message_id=message.id, emoji=emoji)
    reply = chat.service.handle(caller, frame)
    assert isinstance(reply, p.ReactionFrame)
    return reply


def history(chat: Chat, caller: Caller, room_id: str) -> list[p.Message]:
    reply = chat.service.handle(caller, p.History(action="history", room_id=room_id))
    assert isinstance(reply, p.HistoryPage)
    return reply.messages


def test_the_sender_edits_a_message_which_keeps_its_seq_and_gets_a_version(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    first = chat.send(alice, room.id, "helo").message
    chat.send(alice, room.id, "second")

    chat.clock.now += 5
    reply = edit(chat, alice, first, "hello")

    edited = reply.message
    assert (edited.seq, edited.content, edited.version) == (1, "hello", 1)
    assert edited.edited_at is not None and edited.deleted_at is None
    assert [m.content for m in history(chat, bob, room.id)] == ["hello", "second"]
    pushed = chat.notifier.received(bob.connection_id, "messageUpdated")
    assert [f["message"]["content"] for f in pushed] == ["hello"]  # type: ignore[index]
    assert pushed[0]["message"]["myReactions"] is None  # type: ignore[index]


def test_an_edit_sent_again_changes_nothing_and_gets_the_same_reply(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    message = chat.send(alice, room.id, "helo").message

    first = edit(chat, alice, message, "hello")
    again = edit(chat, alice, message, "hello")

    assert again.message == first.message
    assert len(chat.notifier.received(bob.connection_id, "messageUpdated")) == 1
    assert chat.store.rooms[room.id].last_version == 1


def test_only_the_sender_edits(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    message = chat.send(alice, room.id, "mine").message

    with pytest.raises(Forbidden):
        edit(chat, bob, message, "not yours")
    assert history(chat, alice, room.id)[0].content == "mine"


def test_an_admin_cannot_edit_another_members_message_either(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)  # alice created it: its admin
    message = chat.send(bob, room.id, "bob's").message
    with pytest.raises(Forbidden):
        edit(chat, alice, message, "changed")


def test_an_edit_is_moderated_again() -> None:
    chat = Chat(moderation="reject")
    alice = chat.connect("Alice")
    room = chat.group(alice)
    message = chat.send(alice, room.id, "fine").message
    with pytest.raises(Rejected):
        edit(chat, alice, message, "well shit")
    assert history(chat, alice, room.id)[0].content == "fine"


def test_a_deleted_message_is_a_tombstone_that_keeps_its_seq(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    message = chat.send(alice, room.id, "oops").message
    react(chat, bob, message, "😂")

    reply = delete(chat, alice, message)

    gone = history(chat, bob, room.id)[0]
    assert reply.message.deleted_at is not None
    assert (gone.seq, gone.content, gone.reactions, gone.my_reactions) == (1, "", [], [])
    assert [f["message"]["deletedAt"] for f in chat.notifier.received(bob.connection_id, "messageUpdated")] == [
        reply.message.deleted_at
    ]


def test_the_room_list_never_shows_a_deleted_last_message(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    message = chat.send(alice, room.id, "secret").message
    delete(chat, alice, message)

    rooms = chat.service.handle(bob, p.ListRooms(action="listRooms"))

    assert isinstance(rooms, p.RoomsFrame)
    last = rooms.rooms[0].last_message
    assert last is not None and last.content == "" and last.deleted_at is not None


def test_an_admin_deletes_any_message_and_other_members_cannot(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = chat.group(alice, bob, carol)
    bobs = chat.send(bob, room.id, "bob's").message

    with pytest.raises(Forbidden):
        delete(chat, carol, bobs)
    assert delete(chat, alice, bobs).message.deleted_at is not None


def test_deleting_twice_changes_nothing_and_a_deleted_message_cannot_be_edited(chat: Chat) -> None:
    alice = chat.connect("Alice")
    room = chat.group(alice)
    message = chat.send(alice, room.id, "x").message
    first = delete(chat, alice, message)

    assert delete(chat, alice, message).message == first.message
    with pytest.raises(BadRequest):
        edit(chat, alice, message, "back")


def test_an_id_that_is_not_a_message_of_the_room_is_not_found(chat: Chat) -> None:
    alice = chat.connect("Alice")
    room = chat.group(alice)
    other = chat.group(alice, name="other")
    message = chat.send(alice, other.id, "elsewhere").message
    made_up = message.model_copy(update={"room_id": room.id})
    for target in (made_up, message.model_copy(update={"id": "nope-1"}), message.model_copy(update={"id": "x"})):
        with pytest.raises(NotFound):
            edit(chat, alice, target, "no")


def test_reactions_count_per_emoji_and_say_whether_the_caller_reacted(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    room = chat.group(alice, bob, carol)
    message = chat.send(alice, room.id, "ship it").message

    react(chat, bob, message, "👍")
    react(chat, carol, message, "👍")
    reply = react(chat, carol, message, "🎉")

    assert [(r.emoji, r.count) for r in reply.reactions] == [("👍", 2), ("🎉", 1)]
    seen_by_bob = history(chat, bob, room.id)[0]
    assert seen_by_bob.my_reactions == ["👍"]
    assert history(chat, alice, room.id)[0].my_reactions == []
    pushed = chat.notifier.received(alice.connection_id, "reaction")
    assert [(f["userId"], f["emoji"], f["added"]) for f in pushed] == [
        ("bob", "👍", True),
        ("carol", "👍", True),
        ("carol", "🎉", True),
    ]


def test_a_reaction_added_twice_or_removed_twice_counts_once(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    message = chat.send(alice, room.id, "x").message

    react(chat, bob, message, "❤️")
    again = react(chat, bob, message, "❤️")
    assert [(r.emoji, r.count) for r in again.reactions] == [("❤️", 1)]

    react(chat, bob, message, "❤️", add=False)
    gone = react(chat, bob, message, "❤️", add=False)
    assert gone.reactions == []
    assert len(chat.notifier.received(alice.connection_id, "reaction")) == 2
    assert history(chat, bob, room.id)[0].my_reactions == []


def test_members_only_change_messages(chat: Chat) -> None:
    alice, eve = chat.connect("Alice"), chat.connect("Eve")
    room = chat.group(alice)
    message = chat.send(alice, room.id, "x").message
    with pytest.raises(Forbidden):
        react(chat, eve, message, "👍")
    with pytest.raises(Forbidden):
        delete(chat, eve, message)


def test_a_reply_must_answer_a_message_of_the_same_room_and_carries_its_preview(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    other = chat.group(alice, name="other")
    parent = chat.send(alice, room.id, "a question " + "x" * 200).message
    elsewhere = chat.send(alice, other.id, "elsewhere").message

    reply = chat.service.handle(
        bob,
        p.SendMessage(
            action="sendMessage", room_id=room.id, content="an answer", client_msg_id=_uuid(1), reply_to_id=parent.id
        ),
    )

    assert isinstance(reply, p.Ack) and reply.message.reply_to is not None
    assert reply.message.reply_to.id == parent.id and reply.message.reply_to.seq == 1
    assert len(reply.message.reply_to.content) == p.REPLY_PREVIEW_CHARS + 1
    pushed = chat.notifier.received(alice.connection_id, "message")[-1]
    assert pushed["message"]["replyTo"]["id"] == parent.id  # type: ignore[index]
    for wrong in (elsewhere.id, "nope-1", "not-an-id"):
        with pytest.raises(BadRequest):
            chat.service.handle(
                bob,
                p.SendMessage(
                    action="sendMessage", room_id=room.id, content="x", client_msg_id=_uuid(2), reply_to_id=wrong
                ),
            )
    assert chat.store.rooms[room.id].last_seq == 2


def test_a_replys_preview_shows_its_parent_as_it_now_is(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    parent = chat.send(alice, room.id, "original").message
    chat.service.handle(
        bob,
        p.SendMessage(
            action="sendMessage", room_id=room.id, content="re", client_msg_id=_uuid(3), reply_to_id=parent.id
        ),
    )
    edit(chat, alice, parent, "edited")
    # A page holding only the reply reads the parent.
    page = chat.service.handle(bob, p.History(action="history", room_id=room.id, after_seq=1))
    assert isinstance(page, p.HistoryPage)
    assert page.messages[0].reply_to is not None and page.messages[0].reply_to.content == "edited"

    delete(chat, alice, parent)
    preview = history(chat, bob, room.id)[1].reply_to
    assert preview is not None and (preview.deleted, preview.content) == (True, "")


def test_get_message_fetches_one_message_by_id_for_members_only(chat: Chat) -> None:
    alice, bob, eve = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Eve")
    room = chat.group(alice, bob)
    message = chat.send(alice, room.id, "find me").message
    react(chat, bob, message, "👀")

    reply = chat.service.handle(bob, p.GetMessage(action="getMessage", room_id=room.id, message_id=message.id))

    assert isinstance(reply, p.MessageFrame)
    assert (reply.message.content, reply.message.my_reactions) == ("find me", ["👀"])
    with pytest.raises(NotFound):
        chat.service.handle(bob, p.GetMessage(action="getMessage", room_id=room.id, message_id="nope-9"))
    with pytest.raises(Forbidden):
        chat.service.handle(eve, p.GetMessage(action="getMessage", room_id=room.id, message_id=message.id))


def test_a_big_rooms_changes_go_through_the_queue(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = big_room(chat, alice, bob)
    message = chat.send(alice, room.id, "x").message
    chat.queue.drain(chat.service.fan_out)

    edit(chat, alice, message, "y")
    react(chat, bob, message, "🔥")
    assert chat.notifier.received(bob.connection_id, "messageUpdated") == []
    chat.queue.drain(chat.service.fan_out)

    assert [f["message"]["content"] for f in chat.notifier.received(bob.connection_id, "messageUpdated")] == ["y"]  # type: ignore[index]
    assert [f["emoji"] for f in chat.notifier.received(alice.connection_id, "reaction")] == ["🔥"]


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"
