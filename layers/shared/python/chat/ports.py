"""What the chat service needs from the outside world, as small interfaces, and the records it exchanges.

Adapters: `chat.dynamo.DynamoChatStore` (DynamoDB), `chat.fanout.ManagementApiNotifier` (API Gateway
Management API). Unit tests use in-memory fakes of the same ports.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel

from chat.identity import Identity as Identity  # re-exported: chat.dynamo, chat.service, tests
from chat.protocol import PAGE_MAX_BYTES, Message

Item = TypeVar("Item", bound=BaseModel)


@dataclass(frozen=True)
class LiveConnection:
    """One of a user's open connections, with the time API Gateway will close it at the latest.

    Stored on the user item as `"{expires_at}:{connection_id}"`, so that a `$disconnect` that never came cannot
    keep a user online past the connection's hard lifetime.
    """

    connection_id: str
    expires_at: int

    def encode(self) -> str:
        return f"{self.expires_at}:{self.connection_id}"

    @classmethod
    def decode(cls, entry: str) -> LiveConnection:
        expires_at, _, connection_id = entry.partition(":")
        return cls(connection_id, int(expires_at))


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    connections: frozenset[LiveConnection] = frozenset()
    last_seen: str | None = None
    avatar_url: str | None = None
    show_previews: bool = True  # notifications carry the message's text

    def live_connections(self, now: float) -> list[LiveConnection]:
        return [c for c in self.connections if c.expires_at > now]

    def is_online(self, now: float) -> bool:
        return bool(self.live_connections(now))


@dataclass(frozen=True, order=True)
class UserKey:
    """Where a user stands in the directory (by lowercased name, then id): the position a `listUsers` page
    ends at."""

    name_key: str
    user_id: str

    @classmethod
    def of(cls, user: User) -> UserKey:
        return cls(user.name.lower(), user.user_id)


@dataclass(frozen=True)
class RoomRecord:
    """A room as the store keeps it: never its whole member list, which may hold 10,000 ids."""

    id: str
    name: str | None
    is_group: bool
    created_at: str
    member_count: int = 0
    member_ids: tuple[str, ...] = ()  # the first ROOM_MEMBER_IDS_SHOWN by id: every member of a small room
    last_seq: int = 0
    last_message: Message | None = None  # its content cut to LAST_MESSAGE_PREVIEW_CHARS
    admin_ids: tuple[str, ...] = ()  # a group's admins (its creator at first); none in a direct room
    last_version: int = 0  # the room's latest change number (edits, deletes, reactions): the change feed's head

    def is_admin(self, user_id: str) -> bool:
        """Whether `user_id` may manage the room: an admin, or any member of a group made before rooms had admins."""
        return self.is_group and (user_id in self.admin_ids or not self.admin_ids)


@dataclass(frozen=True)
class MemberRoom:
    """One of a user's rooms, with the user's read marker in it."""

    room: RoomRecord
    read_seq: int = 0
    muted: bool = False  # the user muted the room's notifications


@dataclass(frozen=True)
class PushSubscription:
    """One device of a user's, reachable while the user has no live connection. `platform` "webpush": a Web Push
    endpoint with its keys (RFC 8030, 8291). The same shape holds a mobile app's token ("fcm", "apns": the token in
    `endpoint`, no keys)."""

    endpoint: str
    p256dh: str
    auth: str
    created_at: str
    platform: str = "webpush"


@dataclass(frozen=True)
class ReadMarker:
    seq: int  # the marker now
    moved: bool  # False: it was there already (or further), and nothing was written


@dataclass(frozen=True)
class ReadState:
    """Where a member stands in a room: the room's counters and the member's read marker (what `sync` compares)."""

    room_id: str
    last_seq: int
    last_version: int
    read_seq: int


@dataclass(frozen=True)
class RoomConnection:
    """An entry of a room's live-connection index: a member's open connection."""

    user_id: str
    connection: LiveConnection

    @property
    def connection_id(self) -> str:
        return self.connection.connection_id


@dataclass(frozen=True)
class ConnectionsPage:
    connections: list[RoomConnection]
    next_after: str | None  # the connection id to read on after; None on the last page


@dataclass(frozen=True)
class MemberView:
    """What a member's action needs, from one read: the room (with its sequence counter) and the member's profile."""

    room: RoomRecord
    profile: User | None


@dataclass(frozen=True)
class MessageDraft:
    """A message before it has its `seq`; the store assigns it in the commit."""

    id: str
    room_id: str
    sender_id: str
    sender_name: str
    content: str
    created_at: str
    client_msg_id: str
    reply_to_id: str | None

    def stored_as(self, seq: int) -> Message:
        return Message(
            id=message_id(self.id, seq),
            room_id=self.room_id,
            seq=seq,
            sender_id=self.sender_id,
            sender_name=self.sender_name,
            content=self.content,
            created_at=self.created_at,
            client_msg_id=self.client_msg_id,
            reply_to_id=self.reply_to_id,
        )


def message_id(token: str, seq: int) -> str:
    """A message's id: a random token and the message's seq, so that an id finds its message within its room with
    one key lookup (replies, `getMessage`, edits) and no index on ids."""
    return f"{token}-{seq}"


def seq_of(message_id: str) -> int | None:
    """The seq a message id carries (None: not an id this service made)."""
    _, dash, seq = message_id.rpartition("-")
    return int(seq) if dash and seq.isdigit() and len(seq) <= 16 else None


@dataclass(frozen=True)
class Revision:
    """What a change makes of a message: its next state (the store gives it the room's next change number as
    `version`) and, for a reaction, the changer's own reactions on it afterwards."""

    message: Message
    my_reactions: frozenset[str] | None = None  # None: the changer's reactions are not touched


# Given the message as stored and the changer's reactions on it, the change to commit (None: nothing to change).
Decide = Callable[[Message, frozenset[str]], Revision | None]


@dataclass(frozen=True)
class Changed:
    message: Message  # as stored now
    changed: bool  # False: `decide` found nothing to change (a retry, a reaction already there)
    my_reactions: frozenset[str] = frozenset()  # the changer's reactions on it now


@dataclass(frozen=True)
class ChangesSlice:
    """A page of a room's change feed: the messages whose last change is in the page, ascending `version`."""

    messages: list[Message]
    version: int  # the change number the page ends at: the next page's `after_version`
    has_more: bool


@dataclass(frozen=True)
class Appended:
    message: Message
    created: bool  # False: this (roomId, clientMsgId) was stored before; `message` is the original


@dataclass(frozen=True)
class HistorySlice:
    """At most `limit` messages, ascending, and at most PAGE_MAX_BYTES of them (see `within_bytes`)."""

    messages: list[Message]  # ascending seq
    has_more: bool


def within_bytes(items: Sequence[Item], budget: int = PAGE_MAX_BYTES) -> list[Item]:
    """The longest prefix whose JSON array (compact UTF-8, as `chat.protocol.encode` writes it) fits `budget` bytes,
    so that the frame around it fits API Gateway's 128 KB message; never empty when `items` is not."""
    kept: list[Item] = []
    used = 2  # the brackets
    for item in items:
        size = (
            len(
                json.dumps(
                    item.model_dump(by_alias=True, mode="json"), separators=(",", ":"), ensure_ascii=False
                ).encode()
            )
            + 1
        )
        if kept and used + size > budget:
            break
        kept.append(item)
        used += size
    return kept


@dataclass(frozen=True)
class PresenceChange:
    user: User
    changed: bool  # the user went online (connect) or offline (disconnect) with this change


@dataclass(frozen=True)
class Delivery:
    """The outcome of a fan-out: connections that are gone (410) and those that could not be reached."""

    delivered: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class ChatStore(Protocol):
    # users
    def register_user(self, user_id: str, name: str) -> None:
        """Create the user's profile at sign-up; a user that already has a name keeps it."""
        ...

    def update_profile(self, user_id: str, *, name: str | None, avatar_url: str | None) -> User:
        """Change the name and/or the avatar (None: unchanged; avatar "": removed) of a user who has connected."""
        ...

    # connections and presence
    def add_connection(
        self, connection: LiveConnection, identity: Identity, connected_at: str, now: float
    ) -> PresenceChange:
        """Register a live connection; a user without a profile yet gets one named `identity.name`."""
        ...

    def remove_connection(self, connection_id: str, now: float, last_seen: str) -> PresenceChange | None: ...

    def forget_connections(self, room_id: str | None, stale: Iterable[RoomConnection]) -> None:
        """Drop connections found gone during a fan-out to `room_id` (its index entries too)."""
        ...

    def index_connection(self, user_id: str, connection: LiveConnection) -> list[str]:
        """Enter a new connection into the live-connection index of each of the user's rooms: their ids."""
        ...

    def unindex_connection(self, user_id: str, connection_id: str) -> list[str]:
        """Take a closed connection out of each of the user's rooms' index: their ids."""
        ...

    def room_connections(self, room_id: str, *, after: str | None = None, limit: int | None = None) -> ConnectionsPage:
        """The room's live-connection index by connection id, after `after`; at most `limit` (None: all)."""
        ...

    def get_users(self, user_ids: Iterable[str]) -> dict[str, User]: ...

    def find_users(self, name_prefix: str, limit: int, start_after: UserKey | None = None) -> list[User]:
        """Up to `limit` users whose lowercased name starts with `name_prefix`, ordered by `UserKey.of`,
        after `start_after`."""
        ...

    # rooms
    def get_room(self, room_id: str) -> RoomRecord | None:
        """The room without its counter (`last_seq` 0), from a consistent read."""
        ...

    def get_rooms(self, room_ids: Iterable[str]) -> list[RoomRecord]:
        """The rooms that exist, without their counters (eventually consistent: for sizes and names)."""
        ...

    def room_of_member(self, room_id: str, user_id: str) -> MemberView:
        """The room with its counter and the member's profile, in one read; `Forbidden` (`errors.not_a_member`)
        when there is no such room or `user_id` is not a member."""
        ...

    def require_member(self, room_id: str, user_id: str) -> None:
        """`Forbidden` (`errors.not_a_member`) unless `user_id` is a member: one consistent read of the member
        item, for the actions that need nothing else of the room (history, presence)."""
        ...

    def create_room(self, room: RoomRecord, member_ids: Collection[str]) -> RoomRecord:
        """Store a new room with its members (and their live connections in its index); for an existing id (a
        direct room) return the stored one."""
        ...

    def add_members(self, room_id: str, by_user_id: str, user_ids: Iterable[str]) -> RoomRecord: ...

    def remove_member(self, room_id: str, user_id: str) -> RoomRecord: ...

    def member_ids(self, room_id: str, *, after: str | None, limit: int) -> list[str]:
        """The room's member ids in order, after `after`."""
        ...

    def rename_room(self, room_id: str, name: str) -> RoomRecord:
        """Rename a group room (`Forbidden` (`errors.not_a_member`) when there is no such room)."""
        ...

    def rooms_of(self, user_id: str) -> list[MemberRoom]:
        """The user's rooms with their counters, and the user's read marker in each."""
        ...

    # notifications
    def add_push_subscription(self, user_id: str, subscription: PushSubscription, *, keep: int) -> None:
        """Register a device (the same endpoint again replaces it); past `keep` devices, the oldest go."""
        ...

    def remove_push_subscription(self, user_id: str, endpoint: str) -> bool:
        """Forget a device: whether it was registered."""
        ...

    def push_subscriptions(self, user_ids: Iterable[str]) -> dict[str, list[PushSubscription]]:
        """The registered devices of these users (users with none are left out)."""
        ...

    def set_muted(self, room_id: str, user_id: str, muted: bool) -> None:
        """Mute or unmute a room for a member; `Forbidden` (`errors.not_a_member`) unless a member."""
        ...

    def set_show_previews(self, user_id: str, show: bool) -> User:
        """Whether the user's notifications carry message text; `NotFound` for a user who never connected."""
        ...

    def member_settings(self, room_id: str, user_ids: Iterable[str]) -> dict[str, tuple[int, bool]]:
        """Of these users, the room's members, each with their read marker and whether they muted the room."""
        ...

    # read state
    def mark_read(self, room_id: str, user_id: str, seq: int) -> ReadMarker:
        """Move the member's read marker forward to `seq`, but not past the room's `last_seq`, never back: the
        marker now, and whether it moved. `Forbidden` (`errors.not_a_member`) unless `user_id` is a member."""
        ...

    def read_states(self, user_id: str, room_ids: Iterable[str]) -> dict[str, ReadState]:
        """Of `room_ids`, the rooms `user_id` is a member of, with their counters (consistent) and the marker."""
        ...

    def read_marks(self, room_id: str, user_ids: Iterable[str]) -> dict[str, int]:
        """The read markers of these members of the room (members without one read nothing: 0)."""
        ...

    # messages
    def append_message(self, draft: MessageDraft, *, last_seq_hint: int | None = None) -> Appended:
        """Store once per (roomId, sender, clientMsgId) with the room's next gap-free seq, in one atomic commit.

        `last_seq_hint` is the room's lastSeq as the caller last read it: the first attempt's guess. Membership
        is the caller's to check (`room_of_member`). Raises `Forbidden` (`errors.not_a_member`) without the room.
        """
        ...

    def history(self, room_id: str, *, before_seq: int | None, after_seq: int | None, limit: int) -> HistorySlice: ...

    def get_messages(self, room_id: str, seqs: Iterable[int], *, consistent: bool = True) -> dict[int, Message]:
        """The room's messages with these seqs, those that exist, as they now are."""
        ...

    def change_message(self, room_id: str, seq: int, user_id: str, decide: Decide) -> Changed:
        """Edit, delete or react: read message `seq` and `user_id`'s reactions on it, ask `decide` for its next
        state, and commit that with the room's next change number (`version`; the room's `last_version`) in one
        transaction, again from the read while other changes of the room win. `NotFound` without the message;
        what `decide` raises is raised."""
        ...

    def changes(self, room_id: str, *, after_version: int, limit: int) -> ChangesSlice:
        """The room's change feed after `after_version`: each message whose last change is in the next `limit`
        change numbers, once, as it now is."""
        ...

    def my_reactions(self, room_id: str, user_id: str, seqs: Iterable[int]) -> dict[int, frozenset[str]]:
        """The user's own reactions on these messages (messages without any are left out)."""
        ...

    # flood control
    def count_frame(self, user_id: str, now: float, limit: int, window_seconds: int) -> int | None:
        """Count one frame of the user's; None when within the limit, else milliseconds until it resets."""
        ...

    def claim_room_typing(self, room_id: str, now: float, interval_seconds: float) -> bool:
        """True for the first typing frame of a room in each `interval_seconds` (one conditional write)."""
        ...


@dataclass(frozen=True)
class FanoutJob:
    """A push to a big room's online members, handed to the fan-out queue after the sender's `ack`.

    A job reads one page of the room's live-connection index after `after_connection_id` (and enqueues the next
    page's job before posting), or, when `retry` is set, posts to exactly those connections again.
    """

    room_id: str
    payload: str  # the encoded frame, JSON text
    skip_connection_id: str | None = None  # the sender's connection, which got the `ack` instead
    skip_user_id: str | None = None  # the typing member, whose own connections need no typing push
    after_connection_id: str | None = None
    retry: tuple[RoomConnection, ...] = ()
    attempt: int = 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "roomId": self.room_id,
                "payload": self.payload,
                "skip": self.skip_connection_id,
                "skipUser": self.skip_user_id,
                "after": self.after_connection_id,
                "retry": [[c.user_id, c.connection_id, c.connection.expires_at] for c in self.retry],
                "attempt": self.attempt,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, body: str) -> FanoutJob:
        data = json.loads(body)
        return cls(
            room_id=str(data["roomId"]),
            payload=str(data["payload"]),
            skip_connection_id=data.get("skip"),
            skip_user_id=data.get("skipUser"),
            after_connection_id=data.get("after"),
            retry=tuple(
                RoomConnection(str(user_id), LiveConnection(str(connection_id), int(expires_at)))
                for user_id, connection_id, expires_at in data.get("retry") or ()
            ),
            attempt=int(data.get("attempt", 0)),
        )


class FanoutQueue(Protocol):
    def enqueue(self, jobs: Sequence[FanoutJob]) -> None:
        """Hand every job to the queue (a retry, `attempt` > 0, after a delay), or raise: never a silent loss."""
        ...


PushOutcome = Literal["delivered", "gone", "failed"]


class PushSender(Protocol):
    def send(self, subscription: PushSubscription, payload: bytes, *, topic: str, ttl_seconds: int) -> PushOutcome:
        """Deliver one notification to one device: "gone" when the push service says the subscription is no more
        (404, 410), "failed" when it could not be reached now. `topic`: a newer notification with the same topic
        replaces one the device has not received yet (RFC 8030 section 5.4)."""
        ...


class Notifier(Protocol):
    def post(self, connection_ids: Sequence[str], payload: bytes) -> Delivery:
        """Send one payload to many connections, concurrently; never raises for a single connection."""
        ...

    def close(self) -> None:
        """Release the notifier's threads."""
        ...
