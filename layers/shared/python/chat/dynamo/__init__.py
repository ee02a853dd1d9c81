"""`chat.ports.ChatStore` on DynamoDB, with the low-level boto3 client (built once per cold start, passed in).

One module per aggregate, each readable on its own:

    base.py         DynamoTables: the client, table names, clocks; AWS errors as domain errors; transactions,
                    batch reads and backoff
    items.py        the item layout of every table, and the codecs between items and `chat.ports` records
    users.py        UserStore: profiles, connections and presence, the user directory
    live.py         LiveIndex: each room's live connections (who to push to)
    rooms.py        RoomStore: rooms, their counters and members, admins, renames
    reads.py        ReadMarkers: a user's rooms with their read markers, moving a marker, read states
    devices.py      DeviceStore: a user's devices for notifications, per-room mute, the preview setting
    messages.py     MessageStore: the send transaction, idempotency, history, messages by seq
    changes.py      ChangeStore: edits, deletes and reactions with the room's change number; the change feed
    rate_limits.py  RateLimitStore: flood control's per-user GCRA bucket

`DynamoChatStore` below is only the facade the service sees: it builds the stores on one `DynamoTables` and
delegates each `ChatStore` method to the store of its aggregate.

No Scan anywhere. Every AWS error leaves as a domain error (`raise ... from exc`): a failed condition becomes
the error it means (`NotFound`, `Forbidden`, ...); throttling and write contention that outlast the retries
become `Unavailable` with `retry_after_ms`; anything else is an internal `ChatError` that leaks nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from chat.dynamo.base import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    MAX_BATCH_GET_KEYS,
    THROTTLED_RETRY_AFTER_MS,
    DynamoTables,
)
from chat.dynamo.changes import ChangeStore
from chat.dynamo.devices import DeviceStore
from chat.dynamo.live import ROOM_CONNECTION_TTL_SLACK_SECONDS, LiveIndex
from chat.dynamo.messages import MAX_SEND_ATTEMPTS, SEND_CONTENTION_BUDGET_SECONDS, MessageStore
from chat.dynamo.rate_limits import RATE_LIMIT_TTL_SLACK_SECONDS, RateLimitStore
from chat.dynamo.reads import ReadMarkers
from chat.dynamo.rooms import MAX_TRANSACTION_ITEMS, MEMBERS_PER_TRANSACTION, RoomStore
from chat.dynamo.users import CONNECTION_TTL_SLACK_SECONDS, UserStore
from chat.ports import (
    Appended,
    Changed,
    ChangesSlice,
    ConnectionsPage,
    Decide,
    HistorySlice,
    Identity,
    LiveConnection,
    MemberRoom,
    MemberView,
    MessageDraft,
    PresenceChange,
    PushSubscription,
    ReadMarker,
    ReadState,
    RoomConnection,
    RoomRecord,
    User,
    UserKey,
)
from chat.protocol import Message
from chat.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "CONNECTION_TTL_SLACK_SECONDS",
    "DEFAULT_MAX_ATTEMPTS",
    "MAX_BATCH_GET_KEYS",
    "MAX_SEND_ATTEMPTS",
    "MAX_TRANSACTION_ITEMS",
    "MEMBERS_PER_TRANSACTION",
    "RATE_LIMIT_TTL_SLACK_SECONDS",
    "ROOM_CONNECTION_TTL_SLACK_SECONDS",
    "SEND_CONTENTION_BUDGET_SECONDS",
    "THROTTLED_RETRY_AFTER_MS",
    "DynamoChatStore",
]


class DynamoChatStore:
    """The DynamoDB adapter of `ChatStore`; thread-safe as far as the boto3 client is (it is)."""

    def __init__(
        self,
        client: DynamoDBClient,
        tables: Settings | Mapping[str, str],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_send_attempts: int = MAX_SEND_ATTEMPTS,
        send_budget_seconds: float = SEND_CONTENTION_BUDGET_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`tables`: the settings, or each logical table name (`chat.tables`) mapped to its physical name."""
        db = DynamoTables(
            client, tables, clock=clock, sleep=sleep, jitter=jitter, monotonic=monotonic, max_attempts=max_attempts
        )
        self._users = UserStore(db)
        self._live = LiveIndex(db)
        self._rooms = RoomStore(db, self._live)
        self._reads = ReadMarkers(db)
        self._messages = MessageStore(db, max_send_attempts=max_send_attempts, send_budget_seconds=send_budget_seconds)
        # A change contends for the room's counter as a send does: the same patience.
        self._changes = ChangeStore(db, max_attempts=max_send_attempts, budget_seconds=send_budget_seconds)
        self._devices = DeviceStore(db)
        self._rate_limits = RateLimitStore(db)

    # ------------------------------------------------------------------------- users, connections, presence

    def register_user(self, user_id: str, name: str) -> None:
        self._users.register_user(user_id, name)

    def update_profile(self, user_id: str, *, name: str | None, avatar_url: str | None) -> User:
        return self._users.update_profile(user_id, name=name, avatar_url=avatar_url)

    def add_connection(
        self, connection: LiveConnection, identity: Identity, connected_at: str, now: float
    ) -> PresenceChange:
        return self._users.add_connection(connection, identity, connected_at, now)

    def remove_connection(self, connection_id: str, now: float, last_seen: str) -> PresenceChange | None:
        return self._users.remove_connection(connection_id, now, last_seen)

    def forget_connections(self, room_id: str | None, stale: Iterable[RoomConnection]) -> None:
        stale = list(stale)
        self._users.forget_connections((entry.user_id, entry.connection) for entry in stale)
        if room_id is not None:
            self._live.forget(room_id, (entry.connection_id for entry in stale))

    def index_connection(self, user_id: str, connection: LiveConnection) -> list[str]:
        return self._live.index_connection(user_id, connection)

    def unindex_connection(self, user_id: str, connection_id: str) -> list[str]:
        return self._live.unindex_connection(user_id, connection_id)

    def room_connections(self, room_id: str, *, after: str | None = None, limit: int | None = None) -> ConnectionsPage:
        return self._live.page(room_id, after=after, limit=limit)

    def get_users(self, user_ids: Iterable[str]) -> dict[str, User]:
        return self._users.get_users(user_ids)

    def find_users(self, name_prefix: str, limit: int, start_after: UserKey | None = None) -> list[User]:
        return self._users.find_users(name_prefix, limit, start_after)

    # ---------------------------------------------------------------------------------- rooms and members

    def get_room(self, room_id: str) -> RoomRecord | None:
        return self._rooms.get_room(room_id)

    def get_rooms(self, room_ids: Iterable[str]) -> list[RoomRecord]:
        return self._rooms.get_rooms(room_ids)

    def room_of_member(self, room_id: str, user_id: str) -> MemberView:
        return self._rooms.room_of_member(room_id, user_id)

    def require_member(self, room_id: str, user_id: str) -> None:
        self._rooms.require_member(room_id, user_id)

    def create_room(self, room: RoomRecord, member_ids: Collection[str]) -> RoomRecord:
        return self._rooms.create_room(room, member_ids)

    def add_members(self, room_id: str, by_user_id: str, user_ids: Iterable[str]) -> RoomRecord:
        return self._rooms.add_members(room_id, by_user_id, user_ids)

    def remove_member(self, room_id: str, user_id: str) -> RoomRecord:
        return self._rooms.remove_member(room_id, user_id)

    def member_ids(self, room_id: str, *, after: str | None, limit: int) -> list[str]:
        return self._rooms.member_ids(room_id, after=after, limit=limit)

    def rename_room(self, room_id: str, name: str) -> RoomRecord:
        return self._rooms.rename_room(room_id, name)

    def rooms_of(self, user_id: str) -> list[MemberRoom]:
        return self._reads.rooms_of(user_id)

    # -------------------------------------------------------------------------------------------- read state

    def mark_read(self, room_id: str, user_id: str, seq: int) -> ReadMarker:
        return self._reads.mark_read(room_id, user_id, seq)

    def read_states(self, user_id: str, room_ids: Iterable[str]) -> dict[str, ReadState]:
        return self._reads.read_states(user_id, room_ids)

    def read_marks(self, room_id: str, user_ids: Iterable[str]) -> dict[str, int]:
        return self._reads.read_marks(room_id, user_ids)

    # ---------------------------------------------------------------------------------------------- messages

    def append_message(self, draft: MessageDraft, *, last_seq_hint: int | None = None) -> Appended:
        return self._messages.append_message(draft, last_seq_hint=last_seq_hint)

    def history(self, room_id: str, *, before_seq: int | None, after_seq: int | None, limit: int) -> HistorySlice:
        return self._messages.history(room_id, before_seq=before_seq, after_seq=after_seq, limit=limit)

    def get_messages(self, room_id: str, seqs: Iterable[int], *, consistent: bool = True) -> dict[int, Message]:
        return self._messages.get_messages(room_id, seqs, consistent=consistent)

    def change_message(self, room_id: str, seq: int, user_id: str, decide: Decide) -> Changed:
        return self._changes.change_message(room_id, seq, user_id, decide)

    def changes(self, room_id: str, *, after_version: int, limit: int) -> ChangesSlice:
        return self._changes.changes(room_id, after_version=after_version, limit=limit)

    def my_reactions(self, room_id: str, user_id: str, seqs: Iterable[int]) -> dict[int, frozenset[str]]:
        return self._changes.my_reactions(room_id, user_id, seqs)

    # ----------------------------------------------------------------------------------------- notifications

    def add_push_subscription(self, user_id: str, subscription: PushSubscription, *, keep: int) -> None:
        self._devices.add_push_subscription(user_id, subscription, keep=keep)

    def remove_push_subscription(self, user_id: str, endpoint: str) -> bool:
        return self._devices.remove_push_subscription(user_id, endpoint)

    def push_subscriptions(self, user_ids: Iterable[str]) -> dict[str, list[PushSubscription]]:
        return self._devices.push_subscriptions(user_ids)

    def set_muted(self, room_id: str, user_id: str, muted: bool) -> None:
        self._devices.set_muted(room_id, user_id, muted)

    def set_show_previews(self, user_id: str, show: bool) -> User:
        return self._devices.set_show_previews(user_id, show)

    def member_settings(self, room_id: str, user_ids: Iterable[str]) -> dict[str, tuple[int, bool]]:
        return self._devices.member_settings(room_id, user_ids)

    # ---------------------------------------------------------------------------------------- flood control

    def count_frame(self, user_id: str, now: float, limit: int, window_seconds: int) -> int | None:
        return self._rate_limits.count_frame(user_id, now, limit, window_seconds)

    def claim_room_typing(self, room_id: str, now: float, interval_seconds: float) -> bool:
        return self._rate_limits.claim_room_typing(room_id, now, interval_seconds)
