"""Wire protocol v1: the single source of truth for every frame a client sends or receives.

Client frames are one discriminated union on `action`; server frames carry `type`. Field names are snake_case
in Python and camelCase on the wire. Extend freely (new actions, new optional fields); never rename or remove.
`docs/protocol.md` is generated from this module (`python -m chat.protocol_doc`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator
from pydantic.alias_generators import to_camel

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 32 * 1024  # API Gateway WebSocket frame limit
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway WebSocket message (and PostToConnection payload) limit
MAX_CONTENT_CHARS = 4000
MAX_REQUEST_ID_CHARS = 64
MAX_MEMBERS_PER_FRAME = 100
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100

_UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Ids are opaque strings; printable, no whitespace, short enough to use in keys and logs.
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
ClientMsgId = Annotated[str, StringConstraints(pattern=_UUID_PATTERN)]
RoomName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Seq = Annotated[int, Field(ge=0)]


class WireModel(BaseModel):
    """camelCase on the wire, strict types (no "true" for true), unknown fields ignored for forward compatibility."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, strict=True, extra="ignore"
    )


# ---------------------------------------------------------------------------------------------- client frames


class ClientFrame(WireModel):
    request_id: Annotated[str, StringConstraints(max_length=MAX_REQUEST_ID_CHARS)] | None = None


class SendMessage(ClientFrame):
    """Store a message once per (roomId, clientMsgId); reply `ack`, push `message` to the room."""

    action: Literal["sendMessage"]
    room_id: Id
    content: Annotated[str, StringConstraints(min_length=1, max_length=MAX_CONTENT_CHARS)]
    client_msg_id: ClientMsgId
    reply_to_id: Id | None = None

    @field_validator("content")
    @classmethod
    def _not_blank(cls, content: str) -> str:
        if not content.strip():
            raise ValueError("content must not be blank")
        return content


class Typing(ClientFrame):
    """Tell the other members online that the sender is (or stopped) typing; never stored."""

    action: Literal["typing"]
    room_id: Id
    is_typing: bool


class History(ClientFrame):
    """Page through a room's messages, ascending `seq`: before `beforeSeq`, after `afterSeq`, or the latest."""

    action: Literal["history"]
    room_id: Id
    before_seq: Seq | None = None
    after_seq: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=HISTORY_MAX_LIMIT)] = HISTORY_DEFAULT_LIMIT

    @field_validator("after_seq")
    @classmethod
    def _one_direction(cls, after_seq: int | None, info: Any) -> int | None:
        if after_seq is not None and info.data.get("before_seq") is not None:
            raise ValueError("give beforeSeq or afterSeq, not both")
        return after_seq


class CreateRoom(ClientFrame):
    """Create a group room; the creator is always a member."""

    action: Literal["createRoom"]
    name: RoomName
    member_ids: Annotated[list[Id], Field(max_length=MAX_MEMBERS_PER_FRAME)] = []


class OpenDirect(ClientFrame):
    """Open (or reopen) the one direct room of the sender and `userId`."""

    action: Literal["openDirect"]
    user_id: Id


class AddMembers(ClientFrame):
    """Add users to a group room the sender belongs to."""

    action: Literal["addMembers"]
    room_id: Id
    member_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_MEMBERS_PER_FRAME)]


class LeaveRoom(ClientFrame):
    """Leave a room; the remaining members get the updated room."""

    action: Literal["leaveRoom"]
    room_id: Id


class ListRooms(ClientFrame):
    """The sender's rooms with their last message."""

    action: Literal["listRooms"]


class ListUsers(ClientFrame):
    """Users whose name starts with `query` (case-insensitive), or all users, with presence."""

    action: Literal["listUsers"]
    query: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class Presence(ClientFrame):
    """Who of a room's members is online, and when the others were last seen."""

    action: Literal["presence"]
    room_id: Id


class Ping(ClientFrame):
    """Keep the connection from idling out (API Gateway closes it after 10 minutes idle)."""

    action: Literal["ping"]


ClientAction = Annotated[
    SendMessage
    | Typing
    | History
    | CreateRoom
    | OpenDirect
    | AddMembers
    | LeaveRoom
    | ListRooms
    | ListUsers
    | Presence
    | Ping,
    Field(discriminator="action"),
]
CLIENT_FRAME: TypeAdapter[ClientAction] = TypeAdapter(ClientAction)
CLIENT_FRAME_TYPES: tuple[type[ClientFrame], ...] = (
    SendMessage,
    Typing,
    History,
    CreateRoom,
    OpenDirect,
    AddMembers,
    LeaveRoom,
    ListRooms,
    ListUsers,
    Presence,
    Ping,
)
ACTIONS: tuple[str, ...] = tuple(t.model_fields["action"].annotation.__args__[0] for t in CLIENT_FRAME_TYPES)  # type: ignore[union-attr]

# ---------------------------------------------------------------------------------------------- objects


class Message(WireModel):
    id: str
    room_id: str
    seq: int
    sender_id: str
    sender_name: str
    content: str
    created_at: str
    client_msg_id: str
    reply_to_id: str | None = None


class Room(WireModel):
    id: str
    name: str | None
    is_group: bool
    member_ids: list[str]
    created_at: str


class RoomSummary(Room):
    last_seq: int
    last_message: Message | None = None


class UserInfo(WireModel):
    id: str
    name: str
    online: bool
    last_seen: str | None = None


class MemberPresence(WireModel):
    user_id: str
    online: bool
    last_seen: str | None = None


# ---------------------------------------------------------------------------------------------- server frames


class ServerFrame(WireModel):
    # Frame-level optional keys are left out of the JSON when unset; object fields (replyToId, lastSeen) stay null.
    _omit_when_none: ClassVar[frozenset[str]] = frozenset({"requestId", "action", "clientMsgId", "retryAfterMs"})
    request_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        data = self.model_dump(by_alias=True, mode="json")
        return {k: v for k, v in data.items() if not (v is None and k in self._omit_when_none)}


class Ack(ServerFrame):
    type: Literal["ack"] = "ack"
    client_msg_id: str
    message: Message


class MessagePush(ServerFrame):
    type: Literal["message"] = "message"
    message: Message


class TypingPush(ServerFrame):
    type: Literal["typing"] = "typing"
    room_id: str
    user_id: str
    user_name: str
    is_typing: bool


class HistoryPage(ServerFrame):
    type: Literal["history"] = "history"
    room_id: str
    messages: list[Message]
    has_more: bool


class RoomFrame(ServerFrame):
    type: Literal["room"] = "room"
    room: Room


class RoomsFrame(ServerFrame):
    type: Literal["rooms"] = "rooms"
    rooms: list[RoomSummary]


class UsersFrame(ServerFrame):
    type: Literal["users"] = "users"
    users: list[UserInfo]


class RoomPresence(ServerFrame):
    """Reply to `presence`: every member of the room."""

    type: Literal["presence"] = "presence"
    room_id: str
    users: list[MemberPresence]


class PresencePush(ServerFrame):
    """Pushed to the members of a user's rooms when the user goes on- or offline."""

    type: Literal["presence"] = "presence"
    user_id: str
    online: bool
    last_seen: str | None = None


class Pong(ServerFrame):
    type: Literal["pong"] = "pong"


ErrorCode = Literal[
    "bad_request",
    "too_large",
    "unauthorized",
    "forbidden",
    "not_found",
    "rate_limited",
    "rejected",
    "internal",
]


class ErrorFrame(ServerFrame):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    action: str | None = None
    client_msg_id: str | None = None
    retry_after_ms: int | None = None


SERVER_FRAME_TYPES: tuple[type[ServerFrame], ...] = (
    Ack,
    MessagePush,
    TypingPush,
    HistoryPage,
    RoomFrame,
    RoomsFrame,
    UsersFrame,
    RoomPresence,
    PresencePush,
    Pong,
    ErrorFrame,
)


def encode(frame: ServerFrame) -> bytes:
    """The bytes posted to a connection (compact JSON, UTF-8)."""
    return json.dumps(frame.to_wire(), separators=(",", ":"), ensure_ascii=False).encode()
