"""In-memory fakes of the service's ports, with the semantics the DynamoDB adapter has (see chat.ports)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

from chat import protocol as p
from chat.errors import Forbidden, NotFound, not_a_member
from chat.flood import FrameBudget
from chat.ports import (
    Appended,
    Changed,
    ChangesSlice,
    ConnectionsPage,
    Decide,
    Delivery,
    FanoutJob,
    HistorySlice,
    Identity,
    LiveConnection,
    MemberRoom,
    MemberView,
    MessageDraft,
    PresenceChange,
    PushOutcome,
    PushSubscription,
    ReadMarker,
    ReadState,
    RoomConnection,
    RoomRecord,
    User,
    UserKey,
    within_bytes,
)


@dataclass
class _Connection:
    user_id: str
    live: LiveConnection


class InMemoryChatStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.connections: dict[str, _Connection] = {}
        self.users: dict[str, User] = {}
        self.rooms: dict[str, RoomRecord] = {}  # static part: member_count and member_ids kept by _sync
        self.members: dict[str, set[str]] = {}
        self.index: dict[str, dict[str, RoomConnection]] = {}  # room id -> connection id -> entry
        self.messages: dict[str, list[p.Message]] = {}
        self.sent: dict[tuple[str, str, str], int] = {}  # (room, sender, clientMsgId) -> seq
        self.frame_budgets: dict[str, int] = {}  # user id -> GCRA's TAT (chat.flood)
        self.typing_until: dict[str, float] = {}
        self.read_seqs: dict[tuple[str, str], int] = {}  # (room, user) -> read marker
        self.change_log: dict[str, list[int]] = {}  # room id -> the seq each change number changed (from 1)
        self.reactions: dict[tuple[str, str, int], frozenset[str]] = {}  # (room, user, seq) -> the user's emoji
        self.muted: set[tuple[str, str]] = set()  # (room, user)
        self.devices: dict[str, dict[str, PushSubscription]] = {}  # user -> endpoint -> subscription

    def register_user(self, user_id: str, name: str) -> None:
        with self._lock:
            self.users.setdefault(user_id, User(user_id, name))

    def update_profile(self, user_id: str, *, name: str | None, avatar_url: str | None) -> User:
        with self._lock:
            if user_id not in self.users:
                raise NotFound("connect before changing your profile")
            user = self.users[user_id]
            if name is not None:
                user = replace(user, name=name)
            if avatar_url is not None:
                user = replace(user, avatar_url=avatar_url or None)
            self.users[user_id] = user
            return user

    def add_connection(
        self, connection: LiveConnection, identity: Identity, connected_at: str, now: float
    ) -> PresenceChange:
        with self._lock:
            before = self.users.get(identity.user_id) or User(identity.user_id, identity.name)
            was_online = before.is_online(now)
            live = frozenset(c for c in before.connections if c.expires_at > now) | {connection}
            user = replace(before, connections=live)
            self.users[user.user_id] = user
            self.connections[connection.connection_id] = _Connection(user.user_id, connection)
            return PresenceChange(user, changed=not was_online)

    def remove_connection(self, connection_id: str, now: float, last_seen: str) -> PresenceChange | None:
        with self._lock:
            connection = self.connections.pop(connection_id, None)
            if connection is None:
                return None
            before = self.users[connection.user_id]
            user = replace(before, connections=before.connections - {connection.live}, last_seen=last_seen)
            self.users[user.user_id] = user
            return PresenceChange(user, changed=not user.is_online(now))

    def forget_connections(self, room_id: str | None, stale: Iterable[RoomConnection]) -> None:
        with self._lock:
            for entry in stale:
                self.connections.pop(entry.connection_id, None)
                user = self.users[entry.user_id]
                self.users[entry.user_id] = replace(user, connections=user.connections - {entry.connection})
                if room_id is not None:
                    self.index.get(room_id, {}).pop(entry.connection_id, None)

    def index_connection(self, user_id: str, connection: LiveConnection) -> list[str]:
        with self._lock:
            room_ids = sorted(r for r, members in self.members.items() if user_id in members)
            for room_id in room_ids:
                self.index.setdefault(room_id, {})[connection.connection_id] = RoomConnection(user_id, connection)
            return room_ids

    def unindex_connection(self, user_id: str, connection_id: str) -> list[str]:
        with self._lock:
            room_ids = sorted(r for r, members in self.members.items() if user_id in members)
            for room_id in room_ids:
                self.index.get(room_id, {}).pop(connection_id, None)
            return room_ids

    def room_connections(self, room_id: str, *, after: str | None = None, limit: int | None = None) -> ConnectionsPage:
        with self._lock:
            entries = sorted(self.index.get(room_id, {}).values(), key=lambda e: e.connection_id)
        now = time.time()  # as the DynamoDB store: entries past their connection's lifetime are skipped
        entries = [e for e in entries if (after is None or e.connection_id > after) and e.connection.expires_at > now]
        if limit is not None and len(entries) > limit:
            return ConnectionsPage(entries[:limit], entries[limit - 1].connection_id)
        return ConnectionsPage(entries, None)

    def get_users(self, user_ids: Iterable[str]) -> dict[str, User]:
        return {uid: self.users[uid] for uid in set(user_ids) if uid in self.users}

    def find_users(self, name_prefix: str, limit: int, start_after: UserKey | None = None) -> list[User]:
        prefix = name_prefix.lower()
        found = sorted(
            (
                u
                for u in self.users.values()
                if u.name.lower().startswith(prefix) and (start_after is None or UserKey.of(u) > start_after)
            ),
            key=UserKey.of,
        )
        return found[:limit]

    def get_room(self, room_id: str) -> RoomRecord | None:
        room = self.rooms.get(room_id)
        return replace(room, last_seq=0, last_message=None, last_version=0) if room else None

    def get_rooms(self, room_ids: Iterable[str]) -> list[RoomRecord]:
        return [room for room_id in set(room_ids) if (room := self.get_room(room_id)) is not None]

    def room_of_member(self, room_id: str, user_id: str) -> MemberView:
        with self._lock:
            room = self.rooms.get(room_id)
            if room is None or user_id not in self.members.get(room_id, set()):
                raise not_a_member(room_id)
            return MemberView(room, self.users.get(user_id))

    def require_member(self, room_id: str, user_id: str) -> None:
        if user_id not in self.members.get(room_id, set()):
            raise not_a_member(room_id)

    def create_room(self, room: RoomRecord, member_ids: Collection[str]) -> RoomRecord:
        with self._lock:
            if room.id in self.rooms:
                return self.get_room(room.id)  # type: ignore[return-value]
            self.rooms[room.id] = room
            self.members[room.id] = set()
            self._join(room.id, member_ids)
            return self.get_room(room.id)  # type: ignore[return-value]

    def add_members(self, room_id: str, by_user_id: str, user_ids: Iterable[str]) -> RoomRecord:
        with self._lock:
            room = self.room_of_member(room_id, by_user_id).room
            if not room.is_group:
                raise Forbidden("members cannot be added to a direct room")
            self._join(room_id, set(user_ids) - self.members[room_id])
            return self.get_room(room_id)  # type: ignore[return-value]

    def remove_member(self, room_id: str, user_id: str) -> RoomRecord:
        with self._lock:
            self.room_of_member(room_id, user_id)
            self.members[room_id].discard(user_id)
            self.read_seqs.pop((room_id, user_id), None)
            room = self.rooms[room_id]
            if user_id in room.admin_ids:
                admins = tuple(a for a in room.admin_ids if a != user_id)
                if not admins and self.members[room_id]:
                    admins = (min(self.members[room_id]),)  # the last admin left: the first member by id
                self.rooms[room_id] = replace(room, admin_ids=admins)
            for cid in [cid for cid, e in self.index.get(room_id, {}).items() if e.user_id == user_id]:
                del self.index[room_id][cid]
            self._sync(room_id)
            return self.get_room(room_id)  # type: ignore[return-value]

    def member_ids(self, room_id: str, *, after: str | None, limit: int) -> list[str]:
        return [m for m in sorted(self.members.get(room_id, ())) if after is None or m > after][:limit]

    def rename_room(self, room_id: str, name: str) -> RoomRecord:
        with self._lock:
            if room_id not in self.rooms:
                raise not_a_member(room_id)
            self.rooms[room_id] = replace(self.rooms[room_id], name=name)
            return self.get_room(room_id)  # type: ignore[return-value]

    def rooms_of(self, user_id: str) -> list[MemberRoom]:
        with self._lock:
            return [
                MemberRoom(self.rooms[r], self.read_seqs.get((r, user_id), 0), (r, user_id) in self.muted)
                for r in sorted(r for r, m in self.members.items() if user_id in m)
            ]

    def add_push_subscription(self, user_id: str, subscription: PushSubscription, *, keep: int) -> None:
        with self._lock:
            devices = self.devices.setdefault(user_id, {})
            devices.pop(subscription.endpoint, None)
            devices[subscription.endpoint] = subscription
            for endpoint in sorted(devices, key=lambda e: devices[e].created_at)[: max(0, len(devices) - keep)]:
                del devices[endpoint]

    def remove_push_subscription(self, user_id: str, endpoint: str) -> bool:
        with self._lock:
            return self.devices.get(user_id, {}).pop(endpoint, None) is not None

    def push_subscriptions(self, user_ids: Iterable[str]) -> dict[str, list[PushSubscription]]:
        with self._lock:
            return {
                u: sorted(self.devices[u].values(), key=lambda d: d.endpoint)
                for u in set(user_ids)
                if self.devices.get(u)
            }

    def set_muted(self, room_id: str, user_id: str, muted: bool) -> None:
        with self._lock:
            self.room_of_member(room_id, user_id)
            if muted:
                self.muted.add((room_id, user_id))
            else:
                self.muted.discard((room_id, user_id))

    def member_settings(self, room_id: str, user_ids: Iterable[str]) -> dict[str, tuple[int, bool]]:
        with self._lock:
            members = self.members.get(room_id, set())
            return {
                u: (self.read_seqs.get((room_id, u), 0), (room_id, u) in self.muted)
                for u in set(user_ids)
                if u in members
            }

    def set_show_previews(self, user_id: str, show: bool) -> User:
        with self._lock:
            if user_id not in self.users:
                raise NotFound("connect before changing your settings")
            self.users[user_id] = replace(self.users[user_id], show_previews=show)
            return self.users[user_id]

    def mark_read(self, room_id: str, user_id: str, seq: int) -> ReadMarker:
        with self._lock:
            room = self.room_of_member(room_id, user_id).room
            before = self.read_seqs.get((room_id, user_id))
            target = max(0, min(seq, room.last_seq))
            if before is not None and before >= target:
                return ReadMarker(before, moved=False)
            self.read_seqs[(room_id, user_id)] = target
            return ReadMarker(target, moved=True)

    def read_states(self, user_id: str, room_ids: Iterable[str]) -> dict[str, ReadState]:
        with self._lock:
            return {
                r: ReadState(r, self.rooms[r].last_seq, self.rooms[r].last_version, self.read_seqs.get((r, user_id), 0))
                for r in set(room_ids)
                if user_id in self.members.get(r, set())
            }

    def read_marks(self, room_id: str, user_ids: Iterable[str]) -> dict[str, int]:
        with self._lock:
            members = self.members.get(room_id, set())
            return {u: self.read_seqs.get((room_id, u), 0) for u in set(user_ids) if u in members}

    def append_message(self, draft: MessageDraft, *, last_seq_hint: int | None = None) -> Appended:
        with self._lock:
            stored_seq = self.sent.get((draft.room_id, draft.sender_id, draft.client_msg_id))
            if stored_seq is not None:
                return Appended(self.messages[draft.room_id][stored_seq - 1], created=False)
            room = self.rooms.get(draft.room_id)
            if room is None:
                raise not_a_member(draft.room_id)
            message = draft.stored_as(room.last_seq + 1)
            self.messages.setdefault(room.id, []).append(message)
            self.sent[(room.id, draft.sender_id, draft.client_msg_id)] = message.seq
            preview = message
            if len(message.content) > p.LAST_MESSAGE_PREVIEW_CHARS:
                preview = message.model_copy(update={"content": message.content[: p.LAST_MESSAGE_PREVIEW_CHARS] + "…"})
            self.rooms[room.id] = replace(room, last_seq=message.seq, last_message=preview)
            return Appended(message, created=True)

    def history(self, room_id: str, *, before_seq: int | None, after_seq: int | None, limit: int) -> HistorySlice:
        messages = self.messages.get(room_id, [])
        if after_seq is not None:
            nearest_first = [m for m in messages if m.seq > after_seq]
        else:
            nearest_first = [m for m in reversed(messages) if before_seq is None or m.seq < before_seq]
        page = within_bytes(nearest_first[:limit])
        has_more = len(page) < len(nearest_first)
        return HistorySlice(page if after_seq is not None else page[::-1], has_more)

    def get_messages(self, room_id: str, seqs: Iterable[int], *, consistent: bool = True) -> dict[int, p.Message]:
        with self._lock:
            messages = self.messages.get(room_id, [])
            return {seq: messages[seq - 1] for seq in set(seqs) if 1 <= seq <= len(messages)}

    def change_message(self, room_id: str, seq: int, user_id: str, decide: Decide) -> Changed:
        with self._lock:
            message = self.get_messages(room_id, [seq]).get(seq)
            if message is None:
                raise NotFound("no such message")
            mine = self.reactions.get((room_id, user_id, seq), frozenset())
            revision = decide(message, mine)
            if revision is None:
                return Changed(message, False, mine)
            room = self.rooms[room_id]
            version = room.last_version + 1
            stored = revision.message.model_copy(update={"version": version, "my_reactions": None, "reply_to": None})
            self.messages[room_id][seq - 1] = stored
            self.change_log.setdefault(room_id, []).append(seq)
            last_message = room.last_message
            if seq == room.last_seq:
                last_message = stored
                if len(stored.content) > p.LAST_MESSAGE_PREVIEW_CHARS:
                    cut = stored.content[: p.LAST_MESSAGE_PREVIEW_CHARS] + "…"
                    last_message = stored.model_copy(update={"content": cut})
            self.rooms[room_id] = replace(room, last_version=version, last_message=last_message)
            if revision.my_reactions is not None:
                mine = revision.my_reactions
                if mine:
                    self.reactions[(room_id, user_id, seq)] = mine
                else:
                    self.reactions.pop((room_id, user_id, seq), None)
            return Changed(stored, True, mine)

    def changes(self, room_id: str, *, after_version: int, limit: int) -> ChangesSlice:
        with self._lock:
            log = self.change_log.get(room_id, [])
            entries = list(enumerate(log, start=1))[after_version : after_version + limit]
            messages = self.messages.get(room_id, [])
            current = [messages[seq - 1] for version, seq in entries if messages[seq - 1].version == version]
            kept = within_bytes(current)
            if len(kept) < len(current):
                return ChangesSlice(kept, kept[-1].version, True)
            end = entries[-1][0] if entries else after_version
            return ChangesSlice(kept, end, len(log) > end)

    def my_reactions(self, room_id: str, user_id: str, seqs: Iterable[int]) -> dict[int, frozenset[str]]:
        with self._lock:
            return {seq: mine for seq in set(seqs) if (mine := self.reactions.get((room_id, user_id, seq)))}

    def count_frame(self, user_id: str, now: float, limit: int, window_seconds: int) -> int | None:
        with self._lock:
            admission = FrameBudget(limit, window_seconds).admit(self.frame_budgets.get(user_id), int(now * 1000))
            if admission.next_tat_ms is None:
                return admission.retry_after_ms
            self.frame_budgets[user_id] = admission.next_tat_ms
            return None

    def claim_room_typing(self, room_id: str, now: float, interval_seconds: float) -> bool:
        with self._lock:
            if self.typing_until.get(room_id, 0.0) > now:
                return False
            self.typing_until[room_id] = now + interval_seconds
            return True

    def _join(self, room_id: str, user_ids: Iterable[str]) -> None:
        """Members join, and their live connections enter the room's index."""
        for user_id in user_ids:
            self.members[room_id].add(user_id)
            user = self.users.get(user_id)
            for connection in user.connections if user else ():
                self.index.setdefault(room_id, {})[connection.connection_id] = RoomConnection(user_id, connection)
        self._sync(room_id)

    def _sync(self, room_id: str) -> None:
        members = sorted(self.members[room_id])
        self.rooms[room_id] = replace(
            self.rooms[room_id], member_count=len(members), member_ids=tuple(members[: p.ROOM_MEMBER_IDS_SHOWN])
        )


@dataclass
class RecordingNotifier:
    """Captures every posted frame per connection; connections listed in `gone` answer 410, those in `failing`
    cannot be reached (throttled beyond retries, timeouts)."""

    gone: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    frames: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    posts: int = 0

    def post(self, connection_ids: Sequence[str], payload: bytes) -> Delivery:
        self.posts += len(connection_ids)
        gone = [cid for cid in connection_ids if cid in self.gone]
        failed = [cid for cid in connection_ids if cid in self.failing and cid not in self.gone]
        for cid in connection_ids:
            if cid not in self.gone and cid not in self.failing:
                self.frames.setdefault(cid, []).append(json.loads(payload))
        return Delivery(delivered=len(connection_ids) - len(gone) - len(failed), gone=gone, failed=failed)

    def close(self) -> None:
        pass

    def received(self, connection_id: str, frame_type: str | None = None) -> list[dict[str, object]]:
        frames = self.frames.get(connection_id, [])
        return [f for f in frames if frame_type is None or f["type"] == frame_type]


@dataclass
class RecordingPushService:
    """The push service: keeps each notification per endpoint; endpoints in `gone` answer 410, in `failing` cannot
    be reached."""

    gone: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    delivered: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    topics: dict[str, list[str]] = field(default_factory=dict)

    def send(self, subscription: PushSubscription, payload: bytes, *, topic: str, ttl_seconds: int) -> PushOutcome:
        if subscription.endpoint in self.gone:
            return "gone"
        if subscription.endpoint in self.failing:
            return "failed"
        self.delivered.setdefault(subscription.endpoint, []).append(json.loads(payload))
        self.topics.setdefault(subscription.endpoint, []).append(topic)
        return "delivered"


@dataclass
class RecordingQueue:
    """The fan-out queue: keeps the jobs; `drain` runs them through the service as the fan-out function would."""

    jobs: list[FanoutJob] = field(default_factory=list)
    failing: bool = False

    def enqueue(self, jobs: Sequence[FanoutJob]) -> None:
        if self.failing:
            raise RuntimeError("queue unavailable")
        self.jobs.extend(FanoutJob.from_json(job.to_json()) for job in jobs)  # as SQS would carry them

    def drain(self, run: Callable[[FanoutJob], None], *, limit: int = 1000) -> int:
        """Run queued jobs (and those they queue) until none is left; how many ran."""
        ran = 0
        while self.jobs and ran < limit:
            run(self.jobs.pop(0))
            ran += 1
        return ran
