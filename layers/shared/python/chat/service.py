"""The chat service: every action of the protocol, written against the ports, with no I/O of its own.

A method takes the caller and a validated frame, changes the store, pushes frames to other connections through
the notifier, and returns the reply for the caller. Domain errors (chat.errors) say what went wrong; the glue
(chat.lambda_app) turns them into error frames.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from chat import protocol as p
from chat.errors import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized
from chat.moderation import Moderator
from chat.ports import ChatStore, Identity, LiveConnection, MessageDraft, Notifier, RoomRecord, User

LIST_USERS_LIMIT = 50


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

    def close(self) -> None:
        """Release the notifier's threads (a process that stops; a Lambda container never calls it)."""
        self._notifier.close()

    # ------------------------------------------------------------------------------------------ connections

    def register_user(self, user_id: str, name: str) -> None:
        """At sign-up: the user's profile with the name they chose (a profile that exists is kept)."""
        self._store.register_user(user_id, name)

    def connect(self, connection_id: str, identity: Identity) -> None:
        now = self._clock()
        connection = LiveConnection(connection_id, int(now) + self._limits.connection_lifetime_seconds)
        change = self._store.add_connection(connection, identity, iso(now), now)
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
        retry_after_ms = self._store.count_frame(
            identity.user_id, now, self._limits.rate_limit_frames, self._limits.rate_limit_window_seconds
        )
        if retry_after_ms is not None:
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
                return self.list_rooms(caller)
            case p.ListUsers():
                return self.list_users(frame)
            case p.Presence():
                return self.presence(caller, frame)
            case p.Ping():
                return p.Pong()

    def send_message(self, caller: Caller, frame: p.SendMessage) -> p.Ack:
        room = self._room_of_member(frame.room_id, caller.user_id)
        content = self._moderator.review(frame.content)
        draft = MessageDraft(
            id=self._new_id(),
            room_id=room.id,
            sender_id=caller.user_id,
            sender_name=caller.identity.name,
            content=content,
            created_at=iso(self._clock()),
            client_msg_id=frame.client_msg_id,
            reply_to_id=frame.reply_to_id,
        )
        appended = self._store.append_message(draft, last_seq_hint=room.last_seq)
        if appended.created:
            self._metrics.count("MessagesStored")
            # The sender's own connection gets the ack; its other connections (other tabs, phone) get the push.
            self._push(room.member_ids, p.MessagePush(message=appended.message), skip=caller.connection_id)
        else:
            self._metrics.count("DuplicateSends")
        return p.Ack(client_msg_id=frame.client_msg_id, message=appended.message)

    def typing(self, caller: Caller, frame: p.Typing) -> None:
        room = self._room_of_member(frame.room_id, caller.user_id)
        push = p.TypingPush(
            room_id=room.id, user_id=caller.user_id, user_name=caller.identity.name, is_typing=frame.is_typing
        )
        self._push(room.member_ids - {caller.user_id}, push)

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

    def list_rooms(self, caller: Caller) -> p.RoomsFrame:
        rooms = sorted(self._store.rooms_of(caller.user_id), key=_last_activity, reverse=True)
        return p.RoomsFrame(
            rooms=[
                p.RoomSummary(**_room(r).model_dump(), last_seq=r.last_seq, last_message=r.last_message) for r in rooms
            ]
        )

    def list_users(self, frame: p.ListUsers) -> p.UsersFrame:
        now = self._clock()
        users = self._store.find_users(frame.query or "", LIST_USERS_LIMIT)
        return p.UsersFrame(
            users=[p.UserInfo(id=u.user_id, name=u.name, online=u.is_online(now), last_seen=u.last_seen) for u in users]
        )

    def presence(self, caller: Caller, frame: p.Presence) -> p.RoomPresence:
        room = self._room_of_member(frame.room_id, caller.user_id)
        now = self._clock()
        users = self._store.get_users(room.member_ids)
        return p.RoomPresence(
            room_id=room.id,
            users=[
                p.MemberPresence(user_id=uid, online=u.is_online(now), last_seen=u.last_seen)
                for uid, u in sorted(users.items())
            ],
        )

    # ------------------------------------------------------------------------------------------ helpers

    def _room_of_member(self, room_id: str, user_id: str) -> RoomRecord:
        room = self._store.get_room(room_id)
        if room is None:
            raise NotFound(f"room {room_id} does not exist")
        if user_id not in room.member_ids:
            raise Forbidden(f"you are not a member of room {room_id}")
        return room

    def _require_users(self, user_ids: set[str]) -> None:
        missing = user_ids - self._store.get_users(user_ids).keys()
        if missing:
            raise NotFound(f"unknown users: {', '.join(sorted(missing))}")

    def _reply_and_push_room(self, caller: Caller, room: RoomRecord, audience: Iterable[str]) -> p.RoomFrame:
        frame = p.RoomFrame(room=_room(room))
        self._push(audience, frame, skip=caller.connection_id)
        return frame

    def _push_presence(self, user: User, *, online: bool) -> None:
        contacts = {m for room in self._store.rooms_of(user.user_id) for m in room.member_ids} - {user.user_id}
        self._push(contacts, p.PresencePush(user_id=user.user_id, online=online, last_seen=user.last_seen))

    def _push(self, user_ids: Iterable[str], frame: p.ServerFrame, *, skip: str | None = None) -> None:
        """Post `frame` to every live connection of `user_ids` (but `skip`), then forget the gone ones."""
        user_ids = set(user_ids)
        if not user_ids:
            return
        now = self._clock()
        targets = {
            c.connection_id: (user.user_id, c)
            for user in self._store.get_users(user_ids).values()
            for c in user.live_connections(now)
            if c.connection_id != skip
        }
        if not targets:
            return
        started = time.monotonic()
        delivery = self._notifier.post(list(targets), p.encode(frame))
        self._metrics.milliseconds("FanoutDuration", (time.monotonic() - started) * 1000)
        self._metrics.count("Recipients", delivery.delivered)
        if delivery.gone:
            self._metrics.count("GoneConnections", len(delivery.gone))
            self._store.forget_connections(targets[cid] for cid in delivery.gone)
        if delivery.failed:
            self._metrics.count("FailedDeliveries", len(delivery.failed))


def _room(record: RoomRecord) -> p.Room:
    return p.Room(
        id=record.id,
        name=record.name,
        is_group=record.is_group,
        member_ids=sorted(record.member_ids),
        created_at=record.created_at,
    )


def _last_activity(record: RoomRecord) -> str:
    return record.last_message.created_at if record.last_message else record.created_at
