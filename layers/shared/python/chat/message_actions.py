"""The actions on messages already stored and on what a member has read: read markers, edits, deletes, reactions,
one message by id, the change feed and `sync`. `chat.service.ChatService` dispatches them here.

Every change goes through the store's `change_message` with a decision from `chat.edits`; what a member sees of
a message (reply previews, their own reactions) comes from `chat.views`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chat import edits
from chat import protocol as p
from chat.cursors import decode_cursor, encode_cursor
from chat.errors import NotFound
from chat.moderation import Moderator
from chat.ports import ChatStore, Decide, seq_of, within_bytes
from chat.pushes import Pushes
from chat.sync import RoomSync
from chat.views import MessageViews

if TYPE_CHECKING:
    from chat.service import Caller


class MessageActions:
    def __init__(self, store: ChatStore, pushes: Pushes, moderator: Moderator, now: Callable[[], str]) -> None:
        self._store = store
        self._pushes = pushes
        self._moderator = moderator
        self._now = now
        self._views = MessageViews(store)
        self._sync = RoomSync(store)

    # ------------------------------------------------------------------------------------------ read state

    def mark_read(self, caller: Caller, frame: p.MarkRead) -> p.ReadFrame:
        marker = self._store.mark_read(frame.room_id, caller.user_id, frame.seq)
        reply = p.ReadFrame(room_id=frame.room_id, user_id=caller.user_id, seq=marker.seq)
        if not marker.moved:
            return reply  # nothing new to tell (a repeated frame, another device got there first)
        room = next(iter(self._store.get_rooms([frame.room_id])), None)
        if room is not None and room.member_count <= p.READ_RECEIPT_MAX_MEMBERS:
            # A read receipt to the members, the reader's other devices among them.
            self._pushes.to_room(room, reply, skip_connection=caller.connection_id)
        else:
            # A big room omits receipts (one marker would cost a post to every member online).
            reader = self._store.get_users([caller.user_id]).get(caller.user_id)
            if reader is not None:
                self._pushes.to_user(reader, reply, skip=caller.connection_id)
        return reply

    # ------------------------------------------------------------------------------------------ changes

    def edit(self, caller: Caller, frame: p.EditMessage) -> p.MessageUpdated:
        self._store.require_member(frame.room_id, caller.user_id)
        content = self._moderator.review(frame.content)
        return self._change(
            caller, frame.room_id, frame.message_id, edits.edit(frame.message_id, caller.user_id, content, self._now())
        )

    def delete(self, caller: Caller, frame: p.DeleteMessage) -> p.MessageUpdated:
        room = self._store.room_of_member(frame.room_id, caller.user_id).room
        decide = edits.delete(
            frame.message_id, caller.user_id, is_admin=caller.user_id in room.admin_ids, now=self._now()
        )
        return self._change(caller, frame.room_id, frame.message_id, decide)

    def react(self, caller: Caller, frame: p.AddReaction | p.RemoveReaction) -> p.ReactionFrame:
        self._store.require_member(frame.room_id, caller.user_id)
        added = isinstance(frame, p.AddReaction)
        decide = edits.react(frame.message_id, frame.emoji, add=added)
        changed = self._store.change_message(frame.room_id, _seq_in(frame.message_id), caller.user_id, decide)
        message = changed.message
        reply = p.ReactionFrame(
            room_id=message.room_id,
            message_id=message.id,
            seq=message.seq,
            user_id=caller.user_id,
            emoji=frame.emoji,
            added=added,
            reactions=message.reactions,
            version=message.version,
        )
        if changed.changed:
            self._push_to_members(caller, message.room_id, reply)
        return reply

    def _change(self, caller: Caller, room_id: str, message_id: str, decide: Decide) -> p.MessageUpdated:
        changed = self._store.change_message(room_id, _seq_in(message_id), caller.user_id, decide)
        message = self._views.for_member(room_id, caller.user_id, [changed.message])[0]
        if changed.changed:
            self._push_to_members(caller, room_id, p.MessageUpdated(message=MessageViews.for_push(message)))
        return p.MessageUpdated(message=message)

    def _push_to_members(self, caller: Caller, room_id: str, frame: p.ServerFrame) -> None:
        room = next(iter(self._store.get_rooms([room_id])), None)
        if room is not None:
            self._pushes.to_room(room, frame, skip_connection=caller.connection_id)

    # ------------------------------------------------------------------------------------------ reads

    def history(self, caller: Caller, frame: p.History) -> p.HistoryPage:
        self._store.require_member(frame.room_id, caller.user_id)
        page = self._store.history(
            frame.room_id, before_seq=frame.before_seq, after_seq=frame.after_seq, limit=frame.limit
        )
        seen = self._views.for_member(frame.room_id, caller.user_id, page.messages)
        # Reply previews add to the page the store cut to size: cut again, keeping the messages nearest the anchor
        # (the newest of a latest or `beforeSeq` page, the oldest of an `afterSeq` one).
        newest_first = frame.after_seq is None
        kept = within_bytes(seen[::-1] if newest_first else seen)
        messages = kept[::-1] if newest_first else kept
        return p.HistoryPage(
            room_id=frame.room_id, messages=messages, has_more=page.has_more or len(messages) < len(seen)
        )

    def get(self, caller: Caller, frame: p.GetMessage) -> p.MessageFrame:
        self._store.require_member(frame.room_id, caller.user_id)
        message = self._views.find(frame.room_id, frame.message_id)
        if message is None:
            raise NotFound("no such message in this room")
        return p.MessageFrame(message=self._views.for_member(frame.room_id, caller.user_id, [message])[0])

    def changes(self, caller: Caller, frame: p.Changes) -> p.ChangesPage:
        self._store.require_member(frame.room_id, caller.user_id)
        feed = self._store.changes(frame.room_id, after_version=frame.after_version, limit=frame.limit)
        seen = self._views.for_member(frame.room_id, caller.user_id, feed.messages)
        kept = within_bytes(seen)  # cut again after the previews, as history is
        if len(kept) < len(seen):
            return p.ChangesPage(room_id=frame.room_id, messages=kept, version=kept[-1].version, has_more=True)
        return p.ChangesPage(room_id=frame.room_id, messages=seen, version=feed.version, has_more=feed.has_more)

    def sync(self, caller: Caller, frame: p.Sync) -> p.SyncPage:
        """Rooms go by id; the cursor is the id of the last room the previous page answered."""
        after = decode_cursor(frame.cursor, parts=1)[0] if frame.cursor is not None else None
        page = self._sync.page(
            caller.user_id,
            frame,
            after,
            lambda room_id, messages: self._views.for_member(room_id, caller.user_id, messages),
        )
        if page.next_cursor is None:
            return page
        return page.model_copy(update={"next_cursor": encode_cursor(page.next_cursor)})


def _seq_in(message_id: str) -> int:
    seq = seq_of(message_id)
    if seq is None:
        raise NotFound("no such message in this room")
    return seq
