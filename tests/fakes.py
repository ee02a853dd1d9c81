"""In-memory fakes of the service's ports, with the semantics the DynamoDB adapter has (see chat.ports)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from chat import protocol as p
from chat.errors import Forbidden, NotFound, not_a_member
from chat.flood import FrameBudget
from chat.ports import (
    Appended,
    Delivery,
    HistorySlice,
    Identity,
    LiveConnection,
    MessageDraft,
    PresenceChange,
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
        self._lock = threading.Lock()
        self.connections: dict[str, _Connection] = {}
        self.users: dict[str, User] = {}
        self.rooms: dict[str, RoomRecord] = {}
        self.messages: dict[str, list[p.Message]] = {}
        self.sent: dict[tuple[str, str, str], int] = {}  # (room, sender, clientMsgId) -> seq
        self.frame_budgets: dict[str, int] = {}  # user id -> GCRA's TAT (chat.flood)

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

    def forget_connections(self, stale: Iterable[tuple[str, LiveConnection]]) -> None:
        with self._lock:
            for user_id, live in stale:
                self.connections.pop(live.connection_id, None)
                user = self.users[user_id]
                self.users[user_id] = replace(user, connections=user.connections - {live})

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
        return self.rooms.get(room_id)

    def create_room(self, room: RoomRecord) -> RoomRecord:
        with self._lock:
            return self.rooms.setdefault(room.id, room)

    def add_members(self, room_id: str, by_user_id: str, user_ids: Iterable[str]) -> RoomRecord:
        with self._lock:
            room = self._member_room(room_id, by_user_id)
            if not room.is_group:
                raise Forbidden("members cannot be added to a direct room")
            room = self.rooms[room_id] = replace(room, member_ids=room.member_ids | set(user_ids))
            return room

    def remove_member(self, room_id: str, user_id: str) -> RoomRecord:
        with self._lock:
            room = self._member_room(room_id, user_id)
            room = self.rooms[room_id] = replace(room, member_ids=room.member_ids - {user_id})
            return room

    def rooms_of(self, user_id: str) -> list[RoomRecord]:
        return [r for r in self.rooms.values() if user_id in r.member_ids]

    def append_message(self, draft: MessageDraft, *, last_seq_hint: int | None = None) -> Appended:
        with self._lock:
            stored_seq = self.sent.get((draft.room_id, draft.sender_id, draft.client_msg_id))
            if stored_seq is not None:
                return Appended(self.messages[draft.room_id][stored_seq - 1], created=False)
            room = self.rooms.get(draft.room_id)
            if room is None or draft.sender_id not in room.member_ids:
                raise not_a_member(draft.room_id)
            message = draft.stored_as(room.last_seq + 1)
            self.messages.setdefault(room.id, []).append(message)
            self.sent[(room.id, draft.sender_id, draft.client_msg_id)] = message.seq
            self.rooms[room.id] = replace(room, last_seq=message.seq, last_message=message)
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

    def count_frame(self, user_id: str, now: float, limit: int, window_seconds: int) -> int | None:
        with self._lock:
            admission = FrameBudget(limit, window_seconds).admit(self.frame_budgets.get(user_id), int(now * 1000))
            if admission.next_tat_ms is None:
                return admission.retry_after_ms
            self.frame_budgets[user_id] = admission.next_tat_ms
            return None

    def _member_room(self, room_id: str, user_id: str) -> RoomRecord:
        room = self.rooms.get(room_id)
        if room is None or user_id not in room.member_ids:
            raise not_a_member(room_id)
        return room


@dataclass
class RecordingNotifier:
    """Captures every posted frame per connection; connections listed in `gone` answer 410."""

    gone: set[str] = field(default_factory=set)
    frames: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def post(self, connection_ids: Sequence[str], payload: bytes) -> Delivery:
        gone = [cid for cid in connection_ids if cid in self.gone]
        for cid in connection_ids:
            if cid not in self.gone:
                self.frames.setdefault(cid, []).append(json.loads(payload))
        return Delivery(delivered=len(connection_ids) - len(gone), gone=gone)

    def close(self) -> None:
        pass

    def received(self, connection_id: str, frame_type: str | None = None) -> list[dict[str, object]]:
        frames = self.frames.get(connection_id, [])
        return [f for f in frames if frame_type is None or f["type"] == frame_type]
