"""Messages as one member sees them: with a preview of the message each reply answers, and the member's own
reactions. Neither is stored on the message: a preview read when the page is read is never stale (an edited or
deleted parent shows as it now is), and whether *you* reacted is yours alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from chat import protocol as p
from chat.errors import BadRequest
from chat.ports import ChatStore, seq_of


def preview(parent: p.Message) -> p.ReplyPreview:
    content = parent.content
    if len(content) > p.REPLY_PREVIEW_CHARS:
        content = content[: p.REPLY_PREVIEW_CHARS] + "…"
    return p.ReplyPreview(
        id=parent.id,
        seq=parent.seq,
        sender_id=parent.sender_id,
        sender_name=parent.sender_name,
        content="" if parent.deleted_at else content,
        deleted=parent.deleted_at is not None,
    )


class MessageViews:
    def __init__(self, store: ChatStore) -> None:
        self._store = store

    def find(self, room_id: str, message_id: str) -> p.Message | None:
        """The room's message with this id (one consistent key lookup: the id carries the seq)."""
        seq = seq_of(message_id)
        if seq is None:
            return None
        message = self._store.get_messages(room_id, [seq]).get(seq)
        return message if message is not None and message.id == message_id else None

    def parent(self, room_id: str, reply_to_id: str) -> p.Message:
        """The message a reply answers: one of the same room, else `BadRequest`."""
        parent = self.find(room_id, reply_to_id)
        if parent is None:
            raise BadRequest("replyToId: no such message in this room")
        return parent

    def for_member(self, room_id: str, user_id: str, messages: Sequence[p.Message]) -> list[p.Message]:
        """`messages` with reply previews and `user_id`'s reactions (read only for messages that have reactions
        or answer a message not on the page)."""
        on_page = {m.seq: m for m in messages}
        parent_seqs = {
            seq
            for m in messages
            if m.reply_to_id is not None and (seq := seq_of(m.reply_to_id)) is not None and seq not in on_page
        }
        parents = {
            **on_page,
            **(self._store.get_messages(room_id, parent_seqs, consistent=False) if parent_seqs else {}),
        }
        reacted = [m.seq for m in messages if m.reactions]
        mine = self._store.my_reactions(room_id, user_id, reacted) if reacted else {}
        return [self._seen_by_member(m, parents, mine.get(m.seq, frozenset())) for m in messages]

    @staticmethod
    def _seen_by_member(message: p.Message, parents: dict[int, p.Message], mine: frozenset[str]) -> p.Message:
        update: dict[str, object] = {
            "my_reactions": [] if message.deleted_at else [e for e in p.REACTION_EMOJIS if e in mine]
        }
        if message.reply_to_id is not None:
            parent = parents.get(seq_of(message.reply_to_id) or 0)
            update["reply_to"] = preview(parent) if parent is not None and parent.id == message.reply_to_id else None
        return message.model_copy(update=update)

    @staticmethod
    def for_push(message: p.Message) -> p.Message:
        """A message as pushed to every member: no one's own reactions (null: recipients keep theirs)."""
        return message.model_copy(update={"my_reactions": None})
