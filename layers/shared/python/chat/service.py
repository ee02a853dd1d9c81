"""The chat service: every action of the protocol, written against the ports, with no I/O of its own.

A method takes the caller and a validated frame, changes the store, pushes frames to other connections through
the notifier, and returns the reply for the caller. Domain errors (chat.errors) say what went wrong; the glue
(chat.lambda_app) turns them into error frames.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from chat import protocol as p
from chat.errors import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized, not_a_member
from chat.moderation import Moderator
from chat.ports import (
    ChatStore,
    Identity,
    LiveConnection,
    MessageDraft,
    Notifier,
    RoomRecord,
    User,
    UserKey,
    within_bytes,
)

# API Gateway waits at most 29 s for `$connect`, and a connection is registered during it: a push to a connection
# younger than this may answer 410 only because it is still opening, so that 410 must not unregister it.
CONNECT_WINDOW_SECONDS = 30
# Users refused by flood control, remembered per container so that a flood's frames cost no storage request.
REFUSALS_REMEMBERED = 10_000

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    connection_id: str
    identity: Identity

    @property
    def user_id(self) -> str:
        return self.identity.user_id


class MetricsSink(Protocol):
    def count(self, name: str, value: float = 1) -> None: ...

    def milliseconds(self, name: str, value: float) -> None: ...


class NoMetrics:
    def count(self, name: str, value: float = 1) -> None:
        pass

    def milliseconds(self, name: str, value: float) -> None:
        pass


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
        limits: Limits = Limits(),
        metrics: MetricsSink | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._moderator = moderator
        self._limits = limits
        self._metrics = metrics or NoMetrics()
        self._clock = clock
        self._new_id = new_id
        self._refused_until: dict[str, float] = {}  # user id -> epoch seconds

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
        if change.changed:
            self._push_presence(change.user, online=True)

    def disconnect(self, connection_id: str) -> None:
        now = self._clock()
        change = self._store.remove_connection(connection_id, now, iso(now))
        if change is not None and change.changed:
            self._push_presence(change.user, online=False)

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
                return self.history(caller, frame)
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
            case p.Ping():
                return p.Pong()

    def send_message(self, caller: Caller, frame: p.SendMessage) -> p.Ack:
        room = self._room_of_member(frame.room_id, caller.user_id)
        content = self._moderator.review(frame.content)
        # One read before the commit gives both the sender's current name and who to push to.
        members = self._store.get_users(room.member_ids)
        draft = MessageDraft(
            id=self._new_id(),
            room_id=room.id,
            sender_id=caller.user_id,
            sender_name=self._name_of(caller, members.get(caller.user_id)),
            content=content,
            created_at=iso(self._clock()),
            client_msg_id=frame.client_msg_id,
            reply_to_id=frame.reply_to_id,
        )
        appended = self._store.append_message(draft, last_seq_hint=room.last_seq)
        if appended.created:
            self._metrics.count("MessagesStored")
            # The sender's own connection gets the ack; its other connections (other tabs, phone) get the push.
            with self._best_effort("message push"):
                self._deliver(members.values(), p.MessagePush(message=appended.message), skip=caller.connection_id)
        else:
            self._metrics.count("DuplicateSends")
        return p.Ack(client_msg_id=frame.client_msg_id, message=appended.message)

    def typing(self, caller: Caller, frame: p.Typing) -> None:
        room = self._room_of_member(frame.room_id, caller.user_id)
        members = self._store.get_users(room.member_ids)
        push = p.TypingPush(
            room_id=room.id,
            user_id=caller.user_id,
            user_name=self._name_of(caller, members.get(caller.user_id)),
            is_typing=frame.is_typing,
        )
        with self._best_effort("typing push"):
            self._deliver((u for u in members.values() if u.user_id != caller.user_id), push)

    def history(self, caller: Caller, frame: p.History) -> p.HistoryPage:
        room = self._room_of_member(frame.room_id, caller.user_id)
        page = self._store.history(room.id, before_seq=frame.before_seq, after_seq=frame.after_seq, limit=frame.limit)
        return p.HistoryPage(room_id=room.id, messages=page.messages, has_more=page.has_more)

    def create_room(self, caller: Caller, frame: p.CreateRoom) -> p.RoomFrame:
        members = {caller.user_id, *frame.member_ids}
        self._require_users(members - {caller.user_id})
        room = self._store.create_room(
            RoomRecord(
                id="r_" + self._new_id(),
                name=frame.name,
                is_group=True,
                member_ids=frozenset(members),
                created_at=iso(self._clock()),
            )
        )
        return self._reply_and_push_room(caller, room, room.member_ids)

    def open_direct(self, caller: Caller, frame: p.OpenDirect) -> p.RoomFrame:
        if frame.user_id == caller.user_id:
            raise BadRequest("userId: a direct room needs another user")
        room_id = direct_room_id(caller.user_id, frame.user_id)
        existing = self._store.get_room(room_id)
        if existing is not None:
            return p.RoomFrame(room=_room(existing))
        self._require_users({frame.user_id})
        room = self._store.create_room(
            RoomRecord(
                id=room_id,
                name=None,
                is_group=False,
                member_ids=frozenset({caller.user_id, frame.user_id}),
                created_at=iso(self._clock()),
            )
        )
        return self._reply_and_push_room(caller, room, room.member_ids)

    def add_members(self, caller: Caller, frame: p.AddMembers) -> p.RoomFrame:
        room = self._room_of_member(frame.room_id, caller.user_id)
        if not room.is_group:
            raise Forbidden("members cannot be added to a direct room")
        newcomers = set(frame.member_ids) - room.member_ids
        if not newcomers:
            return p.RoomFrame(room=_room(room))
        self._require_users(newcomers)
        room = self._store.add_members(room.id, caller.user_id, newcomers)
        return self._reply_and_push_room(caller, room, room.member_ids)

    def leave_room(self, caller: Caller, frame: p.LeaveRoom) -> p.RoomFrame:
        room = self._room_of_member(frame.room_id, caller.user_id)
        if not room.is_group:
            raise Forbidden("a direct room cannot be left")
        room = self._store.remove_member(room.id, caller.user_id)
        # The leaver's other connections learn it too: the room they get no longer lists them.
        return self._reply_and_push_room(caller, room, room.member_ids | {caller.user_id})

    def list_rooms(self, caller: Caller, frame: p.ListRooms) -> p.RoomsFrame:
        """Most recently active first; the cursor is the (activity, id) of the last room of the previous page."""
        rooms = sorted(self._store.rooms_of(caller.user_id), key=_activity_key, reverse=True)
        if frame.cursor is not None:
            after = tuple(_decode_cursor(frame.cursor, parts=2))
            rooms = [room for room in rooms if _activity_key(room) < after]
        page = within_bytes([_summary(room) for room in rooms[: frame.limit]])
        more = len(page) < len(rooms)
        return p.RoomsFrame(
            rooms=page, next_cursor=_encode_cursor(*_activity_key(rooms[len(page) - 1])) if more else None
        )

    def list_users(self, frame: p.ListUsers) -> p.UsersFrame:
        now = self._clock()
        start_after = UserKey(*_decode_cursor(frame.cursor, parts=2)) if frame.cursor is not None else None
        users = self._store.find_users(frame.query or "", frame.limit + 1, start_after)
        page = within_bytes([_user_info(user, now) for user in users[: frame.limit]])
        more = len(page) < len(users)
        last = UserKey.of(users[len(page) - 1]) if more else None
        return p.UsersFrame(users=page, next_cursor=_encode_cursor(last.name_key, last.user_id) if last else None)

    def presence(self, caller: Caller, frame: p.Presence) -> p.RoomPresence:
        """Members by id; the cursor is the id of the last member of the previous page."""
        room = self._room_of_member(frame.room_id, caller.user_id)
        member_ids = sorted(room.member_ids)
        if frame.cursor is not None:
            (after,) = _decode_cursor(frame.cursor, parts=1)
            member_ids = [member_id for member_id in member_ids if member_id > after]
        window = member_ids[: frame.limit]
        now = self._clock()
        users = self._store.get_users(window)
        page = within_bytes(
            [
                p.MemberPresence(
                    user_id=uid,
                    online=u.is_online(now),
                    last_seen=u.last_seen,
                    name=u.name or default_name(uid),
                    avatar_url=u.avatar_url,
                )
                if (u := users.get(uid))
                else p.MemberPresence(user_id=uid, online=False, name=default_name(uid))
                for uid in window
            ]
        )
        more = len(page) < len(member_ids)
        return p.RoomPresence(
            room_id=room.id, users=page, next_cursor=_encode_cursor(page[-1].user_id) if more else None
        )

    def update_profile(self, caller: Caller, frame: p.UpdateProfile) -> p.ProfileFrame:
        user = self._store.update_profile(caller.user_id, name=frame.name, avatar_url=frame.avatar_url)
        reply = p.ProfileFrame(user=_user_info(user, self._clock()))
        # Contacts see the new name at once; the sender's other connections too.
        self._push_to_contacts(user, reply, skip=caller.connection_id, including_self=True)
        return reply

    # ------------------------------------------------------------------------------------------ helpers

    def _room_of_member(self, room_id: str, user_id: str) -> RoomRecord:
        room = self._store.get_room(room_id)
        if room is None or user_id not in room.member_ids:
            raise not_a_member(room_id)
        return room

    def _require_users(self, user_ids: set[str]) -> None:
        missing = user_ids - self._store.get_users(user_ids).keys()
        if missing:
            raise NotFound(f"unknown users: {', '.join(sorted(missing))}")

    def _name_of(self, caller: Caller, profile: User | None) -> str:
        return (profile.name if profile else "") or caller.identity.name or default_name(caller.user_id)

    def _reply_and_push_room(self, caller: Caller, room: RoomRecord, audience: Iterable[str]) -> p.RoomFrame:
        frame = p.RoomFrame(room=_room(room))
        with self._best_effort("room push"):
            self._deliver(self._store.get_users(audience).values(), frame, skip=caller.connection_id)
        return frame

    def _push_presence(self, user: User, *, online: bool) -> None:
        self._push_to_contacts(user, p.PresencePush(user_id=user.user_id, online=online, last_seen=user.last_seen))

    def _push_to_contacts(
        self, user: User, frame: p.ServerFrame, *, skip: str | None = None, including_self: bool = False
    ) -> None:
        """Everyone who shares a room with `user` (and `user`'s own connections, if asked)."""
        with self._best_effort(f"{frame.model_fields['type'].default} push"):
            contacts = {m for room in self._store.rooms_of(user.user_id) for m in room.member_ids}
            if not including_self:
                contacts.discard(user.user_id)
            self._deliver(self._store.get_users(contacts).values() if contacts else (), frame, skip=skip)

    @contextmanager
    def _best_effort(self, what: str) -> Iterator[None]:
        """A push never fails the action it follows, whose change (a message, a room, a connection) is already
        stored: its failure is logged and counted, never the caller's error. Clients that missed a push catch up
        with `history afterSeq` and `listRooms`."""
        try:
            yield
        except Exception as exc:
            self._metrics.count("PushFailures")
            _log.warning("%s failed; the action stands: %s", what, type(exc).__name__)

    def _deliver(self, users: Iterable[User], frame: p.ServerFrame, *, skip: str | None = None) -> None:
        """Post `frame` to every live connection of `users` (but `skip`), then forget the gone ones."""
        now = self._clock()
        targets = {
            c.connection_id: (user.user_id, c)
            for user in users
            for c in user.live_connections(now)
            if c.connection_id != skip
        }
        if not targets:
            return
        started = time.monotonic()
        delivery = self._notifier.post(list(targets), p.encode(frame))
        self._metrics.milliseconds("FanoutDuration", (time.monotonic() - started) * 1000)
        self._metrics.count("Recipients", delivery.delivered)
        if delivery.failed:
            self._metrics.count("FailedDeliveries", len(delivery.failed))
        opening = [cid for cid in delivery.gone if self._may_be_opening(targets[cid][1], now)]
        if opening:
            # 410 from a connection whose $connect may still be running: it opens right after, so keep it.
            self._metrics.count("PushesDroppedWhileOpening", len(opening))
            _log.info("%d push(es) dropped: connection still opening", len(opening))
        gone = [targets[cid] for cid in delivery.gone if cid not in opening]
        if gone:
            self._metrics.count("GoneConnections", len(gone))
            self._store.forget_connections(gone)

    def _may_be_opening(self, connection: LiveConnection, now: float) -> bool:
        opened_at = connection.expires_at - self._limits.connection_lifetime_seconds
        return now - opened_at < CONNECT_WINDOW_SECONDS


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
        member_ids=sorted(record.member_ids)[: p.ROOM_MEMBER_IDS_SHOWN],
        created_at=record.created_at,
        member_count=len(record.member_ids),
    )


def _summary(record: RoomRecord) -> p.RoomSummary:
    last = record.last_message
    if last is not None and len(last.content) > p.LAST_MESSAGE_PREVIEW_CHARS:
        last = last.model_copy(update={"content": last.content[: p.LAST_MESSAGE_PREVIEW_CHARS] + "…"})
    return p.RoomSummary(**_room(record).model_dump(), last_seq=record.last_seq, last_message=last)


def _user_info(user: User, now: float) -> p.UserInfo:
    return p.UserInfo(
        id=user.user_id,
        name=user.name or default_name(user.user_id),
        online=user.is_online(now),
        last_seen=user.last_seen,
        avatar_url=user.avatar_url,
    )


def _activity_key(record: RoomRecord) -> tuple[str, str]:
    return (record.last_message.created_at if record.last_message else record.created_at, record.id)


def _encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, *, parts: int) -> list[str]:
    """The parts of a cursor this service made; anything else is the client's mistake."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        decoded = None
    if not (isinstance(decoded, list) and len(decoded) == parts and all(isinstance(x, str) for x in decoded)):
        raise BadRequest("cursor: pass back the nextCursor of a previous page unchanged")
    return decoded
