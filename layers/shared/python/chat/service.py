"""The chat service: every action of the protocol, written against the ports, with no I/O of its own.

A method takes the caller and a validated frame, changes the store, pushes frames to other connections through
the notifier, and returns the reply for the caller. Domain errors (chat.errors) say what went wrong; the glue
(chat.lambda_app) turns them into error frames.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from chat import protocol as p
from chat.cursors import decode_cursor, encode_cursor
from chat.errors import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized
from chat.message_actions import MessageActions
from chat.moderation import Moderator
from chat.notification_settings import NotificationSettings
from chat.ports import (
    ChatStore,
    FanoutJob,
    FanoutQueue,
    Identity,
    LiveConnection,
    MemberRoom,
    MessageDraft,
    Notifier,
    RoomRecord,
    User,
    UserKey,
    within_bytes,
)
from chat.pushes import INLINE_PUSH_MAX_MEMBERS, MetricsSink, NoMetrics, Pushes
from chat.views import MessageViews, preview

# Users refused by flood control, remembered per container so that a flood's frames cost no storage request.
REFUSALS_REMEMBERED = 10_000
# A big room gets at most one typing push per interval, whoever types: one member cannot make thousands of posts.
BIG_ROOM_TYPING_INTERVAL_SECONDS = 3.0

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    connection_id: str
    identity: Identity

    @property
    def user_id(self) -> str:
        return self.identity.user_id


@dataclass(frozen=True)
class Limits:
    rate_limit_frames: int = 30
    rate_limit_window_seconds: int = 10
    connection_lifetime_seconds: int = 7200


def iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def direct_room_id(user_a: str, user_b: str) -> str:
    """The one direct room of a pair, whoever opens it: derived from the sorted pair, so no lookup is needed."""
    first, second = sorted((user_a, user_b))
    return "dm_" + hashlib.sha256(f"{first}\n{second}".encode()).hexdigest()[:32]


class ChatService:
    def __init__(
        self,
        store: ChatStore,
        notifier: Notifier,
        moderator: Moderator,
        *,
        queue: FanoutQueue | None = None,
        limits: Limits = Limits(),
        metrics: MetricsSink | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        push_public_key: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._moderator = moderator
        self._limits = limits
        self._metrics = metrics or NoMetrics()
        self._clock = clock
        self._pushes = Pushes(store, notifier, queue, self._metrics, clock, limits.connection_lifetime_seconds)
        self._new_id = new_id
        self._views = MessageViews(store)
        self._messages = MessageActions(store, self._pushes, moderator, lambda: iso(self._clock()))
        self._settings = NotificationSettings(store, self._pushes, lambda: iso(self._clock()), push_public_key)
        self._refused_until: dict[str, float] = {}  # user id -> epoch seconds

    def fan_out(self, job: FanoutJob) -> None:
        """One job of a big room's fan-out: the fan-out function's work (see `chat.pushes`)."""
        self._pushes.fan_out(job)

    def close(self) -> None:
        """Release the notifier's threads (a process that stops; a Lambda container never calls it)."""
        self._notifier.close()

    # ------------------------------------------------------------------------------------------ users

    def register_user(self, user_id: str, name: str) -> None:
        """At sign-up: the user's profile with the name they chose (a profile that exists is kept)."""
        self._store.register_user(user_id, _display_name(name) or default_name(user_id))

    # ------------------------------------------------------------------------------------------ connections

    def connect(self, connection_id: str, identity: Identity) -> None:
        now = self._clock()
        connection = LiveConnection(connection_id, int(now) + self._limits.connection_lifetime_seconds)
        # The token's name only seeds the profile of a user who never signed up here (an external issuer).
        seed = replace(identity, name=_display_name(identity.name) or default_name(identity.user_id))
        change = self._store.add_connection(connection, seed, iso(now), now)
        room_ids = self._store.index_connection(identity.user_id, connection)
        if change.changed:
            self._pushes.to_contacts(change.user, _presence(change.user, online=True), room_ids=room_ids)

    def disconnect(self, connection_id: str) -> None:
        now = self._clock()
        change = self._store.remove_connection(connection_id, now, iso(now))
        if change is None:
            return
        room_ids = self._store.unindex_connection(change.user.user_id, connection_id)
        if change.changed:
            self._pushes.to_contacts(change.user, _presence(change.user, online=False), room_ids=room_ids)

    def admit(self, identity: Identity, action: str | None) -> None:
        """Gatekeeping for every frame, valid or not: an expired token, then the sender's frame budget."""
        now = self._clock()
        if identity.token_expires_at <= now:
            raise Unauthorized("your token has expired: reconnect with a fresh one")
        if action == "ping":
            return
        # Refusals only move later (other frames only spend the budget): until then, refuse without a request.
        refused_until = self._refused_until.get(identity.user_id, 0.0)
        retry_after_ms: int | None
        if now < refused_until:
            retry_after_ms = math.ceil((refused_until - now) * 1000)
        else:
            retry_after_ms = self._store.count_frame(
                identity.user_id, now, self._limits.rate_limit_frames, self._limits.rate_limit_window_seconds
            )
        if retry_after_ms is not None:
            if len(self._refused_until) >= REFUSALS_REMEMBERED:
                self._refused_until.clear()
            self._refused_until[identity.user_id] = max(refused_until, now + retry_after_ms / 1000)
            self._metrics.count("FramesRateLimited")
            raise RateLimited("too many frames: slow down", retry_after_ms=retry_after_ms)

    # ------------------------------------------------------------------------------------------ frames

    def handle(self, caller: Caller, frame: p.ClientAction) -> p.ServerFrame | None:
        """The reply to `frame` (None for `typing`, which has none), with the frame's requestId echoed."""
        reply = self._dispatch(caller, frame)
        if reply is not None and frame.request_id is not None:
            reply = reply.model_copy(update={"request_id": frame.request_id})
        return reply

    def _dispatch(self, caller: Caller, frame: p.ClientAction) -> p.ServerFrame | None:
        match frame:
            case p.SendMessage():
                return self.send_message(caller, frame)
            case p.Typing():
                self.typing(caller, frame)
                return None
            case p.History():
                return self._messages.history(caller, frame)
            case p.CreateRoom():
                return self.create_room(caller, frame)
            case p.OpenDirect():
                return self.open_direct(caller, frame)
            case p.AddMembers():
                return self.add_members(caller, frame)
            case p.LeaveRoom():
                return self.leave_room(caller, frame)
            case p.ListRooms():
                return self.list_rooms(caller, frame)
            case p.ListUsers():
                return self.list_users(frame)
            case p.Presence():
                return self.presence(caller, frame)
            case p.UpdateProfile():
                return self.update_profile(caller, frame)
            case p.MarkRead():
                return self._messages.mark_read(caller, frame)
            case p.EditMessage():
                return self._messages.edit(caller, frame)
            case p.DeleteMessage():
                return self._messages.delete(caller, frame)
            case p.AddReaction() | p.RemoveReaction():
                return self._messages.react(caller, frame)
            case p.GetMessage():
                return self._messages.get(caller, frame)
            case p.Changes():
                return self._messages.changes(caller, frame)
            case p.Sync():
                return self._messages.sync(caller, frame)
            case p.RemoveMember():
                return self.remove_member(caller, frame)
            case p.RenameRoom():
                return self.rename_room(caller, frame)
            case p.RegisterPush():
                return self._settings.register(caller, frame)
            case p.UnregisterPush():
                return self._settings.unregister(caller, frame)
            case p.MuteRoom():
                return self._settings.mute(caller, frame)
            case p.UpdateSettings():
                return self._settings.update(caller, frame)
            case p.GetSettings():
                return self._settings.get(caller)
            case p.Ping():
                return p.Pong()

    def send_message(self, caller: Caller, frame: p.SendMessage) -> p.Ack:
        member = self._store.room_of_member(frame.room_id, caller.user_id)
        parent = self._views.parent(member.room.id, frame.reply_to_id) if frame.reply_to_id is not None else None
        content = self._moderator.review(frame.content)
        draft = MessageDraft(
            id=self._new_id(),
            room_id=member.room.id,
            sender_id=caller.user_id,
            sender_name=self._name_of(caller, member.profile),
            content=content,
            created_at=iso(self._clock()),
            client_msg_id=frame.client_msg_id,
            reply_to_id=frame.reply_to_id,
        )
        appended = self._store.append_message(draft, last_seq_hint=member.room.last_seq)
        message = appended.message
        if parent is not None and message.reply_to_id == parent.id:
            message = message.model_copy(update={"reply_to": preview(parent)})
        if appended.created:
            self._metrics.count("MessagesStored")
            # The sender's own connection gets the ack; its other connections (other tabs, phone) get the push.
            self._pushes.to_room(member.room, p.MessagePush(message=message), skip_connection=caller.connection_id)
        else:
            self._metrics.count("DuplicateSends")
        return p.Ack(client_msg_id=frame.client_msg_id, message=message)

    def typing(self, caller: Caller, frame: p.Typing) -> None:
        member = self._store.room_of_member(frame.room_id, caller.user_id)
        room = member.room
        if room.member_count > INLINE_PUSH_MAX_MEMBERS and not self._store.claim_room_typing(
            room.id, self._clock(), BIG_ROOM_TYPING_INTERVAL_SECONDS
        ):
            self._metrics.count("TypingCoalesced")
            return
        push = p.TypingPush(
            room_id=room.id,
            user_id=caller.user_id,
            user_name=self._name_of(caller, member.profile),
            is_typing=frame.is_typing,
        )
        self._pushes.to_room(room, push, skip_user=caller.user_id)

    def create_room(self, caller: Caller, frame: p.CreateRoom) -> p.RoomFrame:
        members = {caller.user_id, *frame.member_ids}
        self._require_users(members - {caller.user_id})
        room = self._store.create_room(
            RoomRecord(
                id="r_" + self._new_id(),
                name=frame.name,
                is_group=True,
                created_at=iso(self._clock()),
                admin_ids=(caller.user_id,),
            ),
            members,
        )
        return self._reply_and_push_room(caller, room)

    def open_direct(self, caller: Caller, frame: p.OpenDirect) -> p.RoomFrame:
        if frame.user_id == caller.user_id:
            raise BadRequest("userId: a direct room needs another user")
        room_id = direct_room_id(caller.user_id, frame.user_id)
        existing = self._store.get_room(room_id)
        if existing is not None:
            return p.RoomFrame(room=_room(existing))
        self._require_users({frame.user_id})
        room = self._store.create_room(
            RoomRecord(id=room_id, name=None, is_group=False, created_at=iso(self._clock())),
            {caller.user_id, frame.user_id},
        )
        return self._reply_and_push_room(caller, room)

    def add_members(self, caller: Caller, frame: p.AddMembers) -> p.RoomFrame:
        before = self._store.room_of_member(frame.room_id, caller.user_id).room
        if not before.is_group:
            raise Forbidden("members cannot be added to a direct room")
        if not before.is_admin(caller.user_id):
            raise Forbidden("only an admin of the room can add members")
        self._require_users(set(frame.member_ids) - {caller.user_id})
        room = self._store.add_members(before.id, caller.user_id, frame.member_ids)
        if room.member_count == before.member_count:  # all of them were members already
            return p.RoomFrame(room=_room(room))
        return self._reply_and_push_room(caller, room)

    def leave_room(self, caller: Caller, frame: p.LeaveRoom) -> p.RoomFrame:
        room = self._store.room_of_member(frame.room_id, caller.user_id).room
        if not room.is_group:
            raise Forbidden("a direct room cannot be left")
        room = self._store.remove_member(room.id, caller.user_id)
        reply = self._reply_and_push_room(caller, room)
        # The leaver's other connections learn it too (no longer in the room's index): the room no longer lists them.
        leaver = self._store.get_users([caller.user_id]).get(caller.user_id)
        if leaver is not None:
            self._pushes.to_user(leaver, reply, skip=caller.connection_id)
        return reply

    def remove_member(self, caller: Caller, frame: p.RemoveMember) -> p.RoomFrame:
        room = self._store.room_of_member(frame.room_id, caller.user_id).room
        if not room.is_admin(caller.user_id):
            raise Forbidden("only an admin of a group room can remove members")
        if frame.user_id == caller.user_id:
            raise BadRequest("userId: to leave the room yourself, send leaveRoom")
        try:
            room = self._store.remove_member(room.id, frame.user_id)
        except Forbidden:
            raise NotFound(f"{frame.user_id} is not a member of this room") from None
        # Out of the room's index already: the removed member's connections are told directly.
        removed = self._store.get_users([frame.user_id]).get(frame.user_id)
        if removed is not None:
            self._pushes.to_user(removed, p.RemovedPush(room_id=room.id, by_user_id=caller.user_id))
        return self._reply_and_push_room(caller, room)

    def rename_room(self, caller: Caller, frame: p.RenameRoom) -> p.RoomFrame:
        room = self._store.room_of_member(frame.room_id, caller.user_id).room
        if not room.is_admin(caller.user_id):
            raise Forbidden("only an admin of a group room can rename it")
        if room.name == frame.name:
            return p.RoomFrame(room=_room(room))
        return self._reply_and_push_room(caller, self._store.rename_room(room.id, frame.name))

    def list_rooms(self, caller: Caller, frame: p.ListRooms) -> p.RoomsFrame:
        """Most recently active first; the cursor is the (activity, id) of the last room of the previous page."""
        rooms = sorted(self._store.rooms_of(caller.user_id), key=_activity_key, reverse=True)
        if frame.cursor is not None:
            after = tuple(decode_cursor(frame.cursor, parts=2))
            rooms = [room for room in rooms if _activity_key(room) < after]
        page = within_bytes([_summary(room) for room in rooms[: frame.limit]])
        more = len(page) < len(rooms)
        return p.RoomsFrame(
            rooms=page, next_cursor=encode_cursor(*_activity_key(rooms[len(page) - 1])) if more else None
        )

    def list_users(self, frame: p.ListUsers) -> p.UsersFrame:
        now = self._clock()
        start_after = UserKey(*decode_cursor(frame.cursor, parts=2)) if frame.cursor is not None else None
        users = self._store.find_users(frame.query or "", frame.limit + 1, start_after)
        page = within_bytes([_user_info(user, now) for user in users[: frame.limit]])
        more = len(page) < len(users)
        last = UserKey.of(users[len(page) - 1]) if more else None
        return p.UsersFrame(users=page, next_cursor=encode_cursor(last.name_key, last.user_id) if last else None)

    def presence(self, caller: Caller, frame: p.Presence) -> p.RoomPresence:
        """Members by id; the cursor is the id of the last member of the previous page."""
        self._store.require_member(frame.room_id, caller.user_id)
        after = decode_cursor(frame.cursor, parts=1)[0] if frame.cursor is not None else None
        member_ids = self._store.member_ids(frame.room_id, after=after, limit=frame.limit + 1)
        window = member_ids[: frame.limit]
        now = self._clock()
        users = self._store.get_users(window)
        read = self._store.read_marks(frame.room_id, window)
        page = within_bytes(
            [
                p.MemberPresence(
                    user_id=uid,
                    online=u.is_online(now),
                    last_seen=u.last_seen,
                    name=u.name or default_name(uid),
                    avatar_url=u.avatar_url,
                    read_seq=read.get(uid, 0),
                )
                if (u := users.get(uid))
                else p.MemberPresence(user_id=uid, online=False, name=default_name(uid), read_seq=read.get(uid, 0))
                for uid in window
            ]
        )
        more = len(page) < len(member_ids)
        return p.RoomPresence(
            room_id=frame.room_id, users=page, next_cursor=encode_cursor(page[-1].user_id) if more else None
        )

    def update_profile(self, caller: Caller, frame: p.UpdateProfile) -> p.ProfileFrame:
        user = self._store.update_profile(caller.user_id, name=frame.name, avatar_url=frame.avatar_url)
        reply = p.ProfileFrame(user=_user_info(user, self._clock()))
        # Contacts see the new name at once; the sender's other connections too.
        self._pushes.to_contacts(user, reply, skip=caller.connection_id, including_self=True)
        return reply

    # ------------------------------------------------------------------------------------------ helpers

    def _require_users(self, user_ids: set[str]) -> None:
        missing = user_ids - self._store.get_users(user_ids).keys()
        if missing:
            raise NotFound(f"unknown users: {', '.join(sorted(missing))}")

    def _name_of(self, caller: Caller, profile: User | None) -> str:
        return (profile.name if profile else "") or caller.identity.name or default_name(caller.user_id)

    def _reply_and_push_room(self, caller: Caller, room: RoomRecord) -> p.RoomFrame:
        frame = p.RoomFrame(room=_room(room))
        self._pushes.to_room(room, frame, skip_connection=caller.connection_id)
        return frame


def _presence(user: User, *, online: bool) -> p.PresencePush:
    return p.PresencePush(user_id=user.user_id, online=online, last_seen=user.last_seen)


def default_name(user_id: str) -> str:
    """The name of a user who has not chosen one yet (a token without a name, and no sign-up here)."""
    return f"user-{user_id[:8]}"


def _display_name(name: str) -> str:
    """A name as shown: trimmed, printable, at most MAX_NAME_CHARS characters ("" when nothing is left)."""
    return "".join(c for c in name.strip() if c.isprintable())[: p.MAX_NAME_CHARS].strip()


def _room(record: RoomRecord) -> p.Room:
    return p.Room(
        id=record.id,
        name=record.name,
        is_group=record.is_group,
        member_ids=list(record.member_ids[: p.ROOM_MEMBER_IDS_SHOWN]),
        created_at=record.created_at,
        member_count=record.member_count,
        admin_ids=list(record.admin_ids),
    )


def _summary(member_room: MemberRoom) -> p.RoomSummary:
    record = member_room.room
    last = record.last_message
    if last is not None and len(last.content) > p.LAST_MESSAGE_PREVIEW_CHARS:
        last = last.model_copy(update={"content": last.content[: p.LAST_MESSAGE_PREVIEW_CHARS] + "…"})
    return p.RoomSummary(
        **_room(record).model_dump(),
        last_seq=record.last_seq,
        last_message=last,
        read_seq=member_room.read_seq,
        unread_count=max(0, record.last_seq - member_room.read_seq),
        last_version=record.last_version,
        muted=member_room.muted,
    )


def _user_info(user: User, now: float) -> p.UserInfo:
    return p.UserInfo(
        id=user.user_id,
        name=user.name or default_name(user.user_id),
        online=user.is_online(now),
        last_seen=user.last_seen,
        avatar_url=user.avatar_url,
    )


def _activity_key(member_room: MemberRoom) -> tuple[str, str]:
    record = member_room.room
    return (record.last_message.created_at if record.last_message else record.created_at, record.id)
