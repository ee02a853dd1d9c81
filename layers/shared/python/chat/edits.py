"""What an edit, a delete or a reaction makes of a message: pure decisions, handed to the store's
`change_message`, which commits them with the room's next change number (or retries them on a fresh read).

A decision returns None when there is nothing to change, so that a retried frame (the same content again, a
reaction already there, a message already deleted) is answered with the message as it is and costs no write.
"""

from __future__ import annotations

from chat import protocol as p
from chat.errors import BadRequest, Forbidden, NotFound
from chat.ports import Decide, Revision


def _the_message(message: p.Message, message_id: str) -> None:
    # The id's seq found a message; the id must be this one (an id made up from a real seq finds nothing).
    if message.id != message_id:
        raise NotFound("no such message in this room")


def edit(message_id: str, editor_id: str, content: str, now: str) -> Decide:
    def decide(message: p.Message, _mine: frozenset[str]) -> Revision | None:
        _the_message(message, message_id)
        if message.sender_id != editor_id:
            raise Forbidden("only the sender of a message can edit it")
        if message.deleted_at is not None:
            raise BadRequest("a deleted message cannot be edited")
        if message.content == content:
            return None
        return Revision(message.model_copy(update={"content": content, "edited_at": now}))

    return decide


def delete(message_id: str, deleter_id: str, *, is_admin: bool, now: str) -> Decide:
    def decide(message: p.Message, _mine: frozenset[str]) -> Revision | None:
        _the_message(message, message_id)
        if message.sender_id != deleter_id and not is_admin:
            raise Forbidden("only the sender of a message, or an admin of the room, can delete it")
        if message.deleted_at is not None:
            return None
        return Revision(message.model_copy(update={"content": "", "deleted_at": now, "reactions": []}))

    return decide


def react(message_id: str, emoji: p.Emoji, *, add: bool) -> Decide:
    def decide(message: p.Message, mine: frozenset[str]) -> Revision | None:
        _the_message(message, message_id)
        if message.deleted_at is not None:
            raise BadRequest("a deleted message takes no reactions")
        if (emoji in mine) == add:
            return None  # already there, or already gone
        counts: dict[str, int] = {r.emoji: r.count for r in message.reactions}
        counts[emoji] = max(0, counts.get(emoji, 0) + (1 if add else -1))
        reactions = [p.ReactionCount(emoji=e, count=counts[e]) for e in p.REACTION_EMOJIS if counts.get(e, 0) > 0]
        return Revision(message.model_copy(update={"reactions": reactions}), mine | {emoji} if add else mine - {emoji})

    return decide
