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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from chat import protocol as p
from chat.errors import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized
from chat.moderation import Moderator
from chat.ports import (
    ChatStore,
    FanoutJob,
    FanoutQueue,
    Identity,
    LiveConnection,
    MessageDraft,
    Notifier,
    RoomConnection,
    RoomRecord,
    User,
    UserKey,
    within_bytes,
)

# A push target: the room whose index it came from (None: not from an index), and the connection.
Target = tuple[str | None, RoomConnection]

# API Gateway waits at most 29 s for `$connect`, and a connection is registered during it: a push to a connection
# younger than this may answer 410 only because it is still opening, so that 410 must not unregister it.
CONNECT_WINDOW_SECONDS = 30
# Users refused by flood control, remembered per container so that a flood's frames cost no storage request.
REFUSALS_REMEMBERED = 10_000
# Rooms up to this many members push inline, before the reply; bigger ones hand the push to the fan-out queue and
# reply at once (a room of 10,000 would not fit API Gateway's 29 s, and the sender's ack would wait for it).
INLINE_PUSH_MAX_MEMBERS = 100
# Presence (online/offline, profile changes) is pushed to rooms up to this size; members of bigger rooms ask for
# it (`presence`): a reconnect storm in a room of n online members would otherwise cost n² posts.
PRESENCE_PUSH_MAX_MEMBERS = 100
# A big room gets at most one typing push per interval, whoever types: one member cannot make thousands of posts.
BIG_ROOM_TYPING_INTERVAL_SECONDS = 3.0
# A fan-out job posts to one page of a room's live connections; the next page is the next job.
FANOUT_PAGE_SIZE = 1000
# Connections a job could not reach (not gone, failing: throttling beyond retries, timeouts) are tried again by a
# later job, this many attempts in all.
MAX_FANOUT_ATTEMPTS = 4

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
        queue: FanoutQueue | None = None,
        limits: Limits = Limits(),
        metrics: MetricsSink | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._moderator = moderator
        self._queue = queue
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
        room_ids = self._store.index_connection(identity.user_id, connection)
        if change.changed:
            self._push_presence(change.user, room_ids, online=True)

    def disconnect(self, connection_id: str) -> None:
        now = self._clock()
        change = self._store.remove_connection(connection_id, now, iso(now))
        if change is None:
            return
        room_ids = self._store.unindex_connection(change.user.user_id, connection_id)
        if change.changed:
            self._push_presence(change.user, room_ids, online=False)

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
        member = self._store.room_of_member(frame.room_id, caller.user_id)
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
        if appended.created:
            self._metrics.count("MessagesStored")
            # The sender's own connection gets the ack; its other connections (other tabs, phone) get the push.
            self._push_to_room(
                member.room, p.MessagePush(message=appended.message), skip_connection=caller.connection_id
            )
        else:
            self._metrics.count("DuplicateSends")
        return p.Ack(client_msg_id=frame.client_msg_id, message=appended.message)

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
        self._push_to_room(room, push, skip_user=caller.user_id)

    def history(self, caller: Caller, frame: p.History) -> p.HistoryPage:
        room = self._store.room_of_member(frame.room_id, caller.user_id).room
        page = self._store.history(room.id, before_seq=frame.before_seq, after_seq=frame.after_seq, limit=frame.limit)
        return p.HistoryPage(room_id=room.id, messages=page.messages, has_more=page.has_more)

    def create_room(self, caller: Caller, frame: p.CreateRoom) -> p.RoomFrame:
        members = {caller.user_id, *frame.member_ids}
        self._require_users(members - {caller.user_id})
        room = self._store.create_room(
            RoomRecord(id="r_" + self._new_id(), name=frame.name, is_group=True, created_at=iso(self._clock())),
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
        with self._best_effort("room push"):
            leaver = self._store.get_users([caller.user_id]).get(caller.user_id)
            if leaver is not None:
                others = [(None, RoomConnection(leaver.user_id, c)) for c in leaver.live_connections(self._clock())]
                self._deliver([t for t in others if t[1].connection_id != caller.connection_id], p.encode(reply))
        return reply

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
        room = self._store.room_of_member(frame.room_id, caller.user_id).room
        after = _decode_cursor(frame.cursor, parts=1)[0] if frame.cursor is not None else None
        member_ids = self._store.member_ids(room.id, after=after, limit=frame.limit + 1)
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

    def _require_users(self, user_ids: set[str]) -> None:
        missing = user_ids - self._store.get_users(user_ids).keys()
        if missing:
            raise NotFound(f"unknown users: {', '.join(sorted(missing))}")

    def _name_of(self, caller: Caller, profile: User | None) -> str:
        return (profile.name if profile else "") or caller.identity.name or default_name(caller.user_id)

    def _reply_and_push_room(self, caller: Caller, room: RoomRecord) -> p.RoomFrame:
        frame = p.RoomFrame(room=_room(room))
        self._push_to_room(room, frame, skip_connection=caller.connection_id)
        return frame

    def _push_presence(self, user: User, room_ids: Sequence[str], *, online: bool) -> None:
        push = p.PresencePush(user_id=user.user_id, online=online, last_seen=user.last_seen)
        self._push_to_contacts(user, push, room_ids=room_ids)

    def _push_to_contacts(
        self,
        user: User,
        frame: p.ServerFrame,
        *,
        room_ids: Sequence[str] | None = None,
        skip: str | None = None,
        including_self: bool = False,
    ) -> None:
        """The online members of the user's rooms up to PRESENCE_PUSH_MAX_MEMBERS (and the user's own connections,
        if asked): one read of the rooms, one of each small room's live connections."""
        with self._best_effort(f"{type(frame).model_fields['type'].default} push"):
            rooms = self._store.get_rooms(room_ids) if room_ids is not None else self._store.rooms_of(user.user_id)
            targets: dict[str, Target] = {}
            for room in rooms:
                if room.member_count <= PRESENCE_PUSH_MAX_MEMBERS:
                    for entry in self._store.room_connections(room.id).connections:
                        targets.setdefault(entry.connection_id, (room.id, entry))
            if including_self:
                for connection in user.live_connections(self._clock()):
                    targets.setdefault(connection.connection_id, (None, RoomConnection(user.user_id, connection)))
            self._deliver(
                [
                    target
                    for cid, target in targets.items()
                    if cid != skip and (including_self or target[1].user_id != user.user_id)
                ],
                p.encode(frame),
            )

    def _push_to_room(
        self,
        room: RoomRecord,
        frame: p.ServerFrame,
        *,
        skip_connection: str | None = None,
        skip_user: str | None = None,
    ) -> None:
        """Every live connection of the room: inline for a small room, through the fan-out queue for a big one."""
        job = FanoutJob(room.id, p.encode(frame).decode(), skip_connection_id=skip_connection, skip_user_id=skip_user)
        with self._best_effort(f"{type(frame).model_fields['type'].default} push"):
            if room.member_count > INLINE_PUSH_MAX_MEMBERS and self._queue is not None:
                self._queue.enqueue([job])
                self._metrics.count("FanoutsQueued")
                return
            entries = self._store.room_connections(room.id).connections
            self._deliver(self._targets(job, entries), job.payload.encode())

    def fan_out(self, job: FanoutJob) -> None:
        """One job of a big room's fan-out (the fan-out function's work). The next page's job is queued before
        this page is posted, so pages go out in parallel; connections that failed are queued again, with a
        delay. Raises when it cannot queue: the job is then retried whole (a page may be pushed twice; clients
        drop a message they have by its seq)."""
        if job.retry:
            entries = list(job.retry)
        else:
            page = self._store.room_connections(job.room_id, after=job.after_connection_id, limit=FANOUT_PAGE_SIZE)
            if page.next_after is not None:
                self._enqueue(replace(job, after_connection_id=page.next_after))
            entries = page.connections
        failed = self._deliver(self._targets(job, entries), job.payload.encode())
        if not failed:
            return
        if job.attempt + 1 < MAX_FANOUT_ATTEMPTS:
            self._enqueue(replace(job, after_connection_id=None, retry=tuple(failed), attempt=job.attempt + 1))
        else:
            self._metrics.count("PushesAbandoned", len(failed))
            _log.warning("%d push(es) abandoned after %d attempts", len(failed), MAX_FANOUT_ATTEMPTS)

    def _enqueue(self, job: FanoutJob) -> None:
        if self._queue is None:
            raise RuntimeError("fan_out needs the fan-out queue")
        self._queue.enqueue([job])

    @staticmethod
    def _targets(job: FanoutJob, entries: Iterable[RoomConnection]) -> list[Target]:
        return [
            (job.room_id, entry)
            for entry in entries
            if entry.connection_id != job.skip_connection_id and entry.user_id != job.skip_user_id
        ]

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

    def _deliver(self, targets: Sequence[Target], payload: bytes) -> list[RoomConnection]:
        """Post `payload` to every target, forget the gone ones; the ones that failed (to try again later)."""
        now = self._clock()
        live = {
            entry.connection_id: (room_id, entry) for room_id, entry in targets if entry.connection.expires_at > now
        }
        if not live:
            return []
        started = time.monotonic()
        delivery = self._notifier.post(list(live), payload)
        self._metrics.milliseconds("FanoutDuration", (time.monotonic() - started) * 1000)
        self._metrics.count("Recipients", delivery.delivered)
        if delivery.failed:
            self._metrics.count("FailedDeliveries", len(delivery.failed))
        opening = [cid for cid in delivery.gone if self._may_be_opening(live[cid][1].connection, now)]
        if opening:
            # 410 from a connection whose $connect may still be running: it opens right after, so keep it.
            self._metrics.count("PushesDroppedWhileOpening", len(opening))
            _log.info("%d push(es) dropped: connection still opening", len(opening))
        gone_by_room: dict[str | None, list[RoomConnection]] = {}
        for cid in delivery.gone:
            if cid not in opening:
                room_id, entry = live[cid]
                gone_by_room.setdefault(room_id, []).append(entry)
        if gone_by_room:
            self._metrics.count("GoneConnections", sum(len(entries) for entries in gone_by_room.values()))
            for room_id, entries in gone_by_room.items():
                self._store.forget_connections(room_id, entries)
        return [live[cid][1] for cid in delivery.failed]

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
        member_ids=list(record.member_ids[: p.ROOM_MEMBER_IDS_SHOWN]),
        created_at=record.created_at,
        member_count=record.member_count,
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
