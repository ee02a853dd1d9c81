"""Wire protocol v1: the single source of truth for every frame a client sends or receives.

Client frames are one discriminated union on `action`; server frames carry `type`. Field names are snake_case
in Python and camelCase on the wire. Extend freely (new actions, new optional fields); never rename or remove.
`docs/protocol.md` is generated from this module (`python -m chat.protocol_doc`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator, model_validator
from pydantic.alias_generators import to_camel

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 32 * 1024  # API Gateway WebSocket frame limit
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway WebSocket message (and PostToConnection payload) limit
MAX_CONTENT_CHARS = 4000
MAX_REQUEST_ID_CHARS = 64
MAX_MEMBERS_PER_FRAME = 100
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100
# Lists come in pages of at most PAGE_MAX_LIMIT items and PAGE_MAX_BYTES of JSON, so that every reply fits in
# one API Gateway message (MAX_MESSAGE_BYTES) with room to spare for the frame around the list.
PAGE_DEFAULT_LIMIT = 50
PAGE_MAX_LIMIT = 100
PAGE_MAX_BYTES = 100_000
MAX_CURSOR_CHARS = 512
# A `room` object lists at most this many member ids (the first, by id); `memberCount` is the true size and
# `presence` pages through every member.
ROOM_MEMBER_IDS_SHOWN = 100
# `lastMessage` in a room summary is a preview: its content is cut to this many characters (then "…").
LAST_MESSAGE_PREVIEW_CHARS = 200
MAX_NAME_CHARS = 64
MAX_AVATAR_URL_CHARS = 1024
# A reply carries a preview of its parent: the parent's content cut to this many characters (then "…").
REPLY_PREVIEW_CHARS = 100
# `sync`: rooms asked about at once, rooms with news per page, messages (and changes) per room in a page.
SYNC_MAX_ROOMS = 100
SYNC_ROOMS_PER_PAGE = 10
SYNC_MESSAGES_PER_ROOM = 20
CHANGES_DEFAULT_LIMIT = 50
# Web Push: at most this many devices (subscriptions) per user; registering one more drops the oldest.
MAX_PUSH_SUBSCRIPTIONS = 10
MAX_PUSH_ENDPOINT_CHARS = 2048
# A read receipt is pushed to the room's members in rooms of at most this many members; bigger rooms omit it
# (members ask with `presence`, which carries every member's read marker).
READ_RECEIPT_MAX_MEMBERS = 100

_UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Ids are opaque strings; printable, no whitespace, short enough to use in keys and logs.
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
ClientMsgId = Annotated[str, StringConstraints(pattern=_UUID_PATTERN)]
RoomName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# DynamoDB numbers hold 38 digits: a larger seq could only fail in storage, so it is refused here.
Seq = Annotated[int, Field(ge=0, le=2**53 - 1)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CURSOR_CHARS)]
PageLimit = Annotated[int, Field(ge=1, le=PAGE_MAX_LIMIT)]
# Reactions come from this fixed set, so that a message holds at most this many counts and a user this many
# reactions on one message: the set is the bound.
Emoji = Literal["👍", "❤️", "😂", "😮", "😢", "🙏", "🎉", "🔥", "👀", "✅"]
REACTION_EMOJIS: tuple[Emoji, ...] = get_args(Emoji)
Content = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CONTENT_CHARS)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)]


class WireModel(BaseModel):
    """camelCase on the wire, strict types (no "true" for true), unknown fields ignored for forward compatibility."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, strict=True, extra="ignore"
    )


# ---------------------------------------------------------------------------------------------- client frames


class ClientFrame(WireModel):
    request_id: Annotated[str, StringConstraints(max_length=MAX_REQUEST_ID_CHARS)] | None = None


class SendMessage(ClientFrame):
    """Store a message once per sender, room and `clientMsgId` (a retry gets the same `ack`); push `message` to the
    room. Another member reusing a `clientMsgId` never touches this sender's message. `replyToId` names a message
    of the same room (else `bad_request`); the reply then carries a preview of it (`replyTo`)."""

    action: Literal["sendMessage"]
    room_id: Id
    content: Content
    client_msg_id: ClientMsgId
    reply_to_id: Id | None = None

    @field_validator("content")
    @classmethod
    def _not_blank(cls, content: str) -> str:
        return _not_blank(content)


class Typing(ClientFrame):
    """Tell the other members online that the sender is (or stopped) typing; never stored. In a room of more than
    100 members, one typing frame per 3 seconds is passed on, whoever sends it: the others are dropped."""

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


class Paged(ClientFrame):
    """A list in pages: pass the `nextCursor` of the previous page to get the next one."""

    cursor: Cursor | None = None
    limit: PageLimit = PAGE_DEFAULT_LIMIT


class CreateRoom(ClientFrame):
    """Create a group room; the creator is always a member, and its admin."""

    action: Literal["createRoom"]
    name: RoomName
    member_ids: Annotated[list[Id], Field(max_length=MAX_MEMBERS_PER_FRAME)] = []


class OpenDirect(ClientFrame):
    """Open (or reopen) the one direct room of the sender and `userId`."""

    action: Literal["openDirect"]
    user_id: Id


class AddMembers(ClientFrame):
    """An admin of a group room adds users to it (in a group without admins, made before rooms had them, any
    member may)."""

    action: Literal["addMembers"]
    room_id: Id
    member_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_MEMBERS_PER_FRAME)]


class LeaveRoom(ClientFrame):
    """Leave a group room; the remaining members get the updated room. When its last admin leaves, the remaining
    member first by id becomes admin."""

    action: Literal["leaveRoom"]
    room_id: Id


class ListRooms(Paged):
    """The sender's rooms, most recently active first, each with a preview of its last message; paged."""

    action: Literal["listRooms"]


class ListUsers(Paged):
    """Users whose name starts with `query` (case-insensitive), or all users, by name, with presence; paged."""

    action: Literal["listUsers"]
    query: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class Presence(Paged):
    """A room's members by id, who of them is online and when the others were last seen; paged (up to 100)."""

    action: Literal["presence"]
    room_id: Id
    limit: PageLimit = PAGE_MAX_LIMIT


class UpdateProfile(ClientFrame):
    """Change the sender's display name and/or avatar; contacts are told. Give at least one of them."""

    action: Literal["updateProfile"]
    name: DisplayName | None = None
    # An https URL of an image; "" removes the avatar.
    avatar_url: Annotated[str, StringConstraints(max_length=MAX_AVATAR_URL_CHARS)] | None = None

    @field_validator("avatar_url")
    @classmethod
    def _https_or_empty(cls, url: str | None) -> str | None:
        if url and not (url.startswith("https://") and len(url) > len("https://") and url.isprintable()):
            raise ValueError('avatarUrl must be an https URL, or "" to remove the avatar')
        return url

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateProfile:
        if self.name is None and self.avatar_url is None:
            raise ValueError("give name and/or avatarUrl")
        return self


class MarkRead(ClientFrame):
    """Move the sender's read marker of a room forward to `seq` (never back; past the last message it stops at the
    last message). When it moves, the sender's other connections are told (`read`), and so are the members of a
    room of at most 100 members (a read receipt); `listRooms` and `sync` give the marker and the unread count.
    Send it for what the user has seen, the user's own messages included (after a send's `ack`)."""

    action: Literal["markRead"]
    room_id: Id
    seq: Seq


class EditMessage(ClientFrame):
    """Replace the content of the sender's own message (moderated again); it keeps its `seq` and gets a new
    `version` and `editedAt`. Sending the same content again changes nothing (a retry gets the same reply)."""

    action: Literal["editMessage"]
    room_id: Id
    message_id: Id
    content: Content

    @field_validator("content")
    @classmethod
    def _not_blank(cls, content: str) -> str:
        return _not_blank(content)


class DeleteMessage(ClientFrame):
    """Delete a message: the sender's own, or any message for an admin of the room. It stays as a tombstone (its
    `seq`, `deletedAt`, no content, no reactions); deleting it again changes nothing."""

    action: Literal["deleteMessage"]
    room_id: Id
    message_id: Id


class AddReaction(ClientFrame):
    """React to a message with one of the fixed set of emoji; reacting twice with the same one changes nothing."""

    action: Literal["addReaction"]
    room_id: Id
    message_id: Id
    emoji: Emoji


class RemoveReaction(ClientFrame):
    """Take the sender's reaction back; taking back one that is not there changes nothing."""

    action: Literal["removeReaction"]
    room_id: Id
    message_id: Id
    emoji: Emoji


class GetMessage(ClientFrame):
    """One message of a room by id, as it now is (for a reply whose parent is not loaded)."""

    action: Literal["getMessage"]
    room_id: Id
    message_id: Id


class Changes(ClientFrame):
    """The room's change feed: its messages edited, deleted or reacted to after `afterVersion`, each once, as it
    now is, in the order of their last change. Pass the reply's `version` back as `afterVersion` for the next page;
    keep the highest `version` seen per room (`listRooms` gives each room's `lastVersion`)."""

    action: Literal["changes"]
    room_id: Id
    after_version: Seq = 0
    limit: Annotated[int, Field(ge=1, le=HISTORY_MAX_LIMIT)] = CHANGES_DEFAULT_LIMIT


class Sync(ClientFrame):
    """After a reconnect, in one frame instead of a `history` per room: for each room in `rooms` (room id ->
    the last seq the client has) and `versions` (room id -> the last version it has), whether the room has news,
    with the first page of its new messages and of its changes. Rooms without news are left out; rooms the sender
    is no longer a member of are listed in `left`. Pages hold at most 10 rooms with news: pass `nextCursor` back
    (with the same `rooms` and `versions`) for the next."""

    action: Literal["sync"]
    rooms: Annotated[dict[Id, Seq], Field(max_length=SYNC_MAX_ROOMS)]
    versions: Annotated[dict[Id, Seq], Field(max_length=SYNC_MAX_ROOMS)] = {}
    cursor: Cursor | None = None


class RemoveMember(ClientFrame):
    """An admin of a group room takes a member out: they lose access at once and are told (`removed`)."""

    action: Literal["removeMember"]
    room_id: Id
    user_id: Id


class RenameRoom(ClientFrame):
    """An admin of a group room renames it; the members get the updated room."""

    action: Literal["renameRoom"]
    room_id: Id
    name: RoomName


class PushKeys(WireModel):
    """A Web Push subscription's keys, as the browser's `PushSubscription.toJSON()` gives them (base64url)."""

    # Spelled as browsers spell it (camelCase would make it p256Dh).
    p256dh: Annotated[
        str, Field(alias="p256dh"), StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+=*$")
    ]
    auth: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")]


class PushSubscriptionInfo(WireModel):
    """Where to reach one device of the user's when it has no connection: a Web Push endpoint (https) and keys."""

    endpoint: Annotated[str, StringConstraints(min_length=9, max_length=MAX_PUSH_ENDPOINT_CHARS)]
    keys: PushKeys

    @field_validator("endpoint")
    @classmethod
    def _https(cls, endpoint: str) -> str:
        if not (endpoint.startswith("https://") and endpoint.isprintable() and " " not in endpoint):
            raise ValueError("endpoint must be an https URL")
        return endpoint


class RegisterPush(ClientFrame):
    """Register this device for notifications while the user has no live connection (a Web Push subscription
    made with the `pushPublicKey` of `settings`); registering the same endpoint again replaces its keys. A user
    has at most 10 devices: one more replaces the oldest."""

    action: Literal["registerPush"]
    subscription: PushSubscriptionInfo


class UnregisterPush(ClientFrame):
    """Stop notifying the device with this endpoint (unknown endpoints change nothing)."""

    action: Literal["unregisterPush"]
    endpoint: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PUSH_ENDPOINT_CHARS)]


class MuteRoom(ClientFrame):
    """Mute (or unmute) a room's notifications for the sender, on every device; the sender's other connections
    are told (`roomMuted`), and `listRooms` gives `muted`."""

    action: Literal["muteRoom"]
    room_id: Id
    muted: bool


class UpdateSettings(ClientFrame):
    """Change the sender's notification settings, on every device (the other connections get `settings`):
    `showPreviews` false sends notifications without the message's text."""

    action: Literal["updateSettings"]
    show_previews: bool


class GetSettings(ClientFrame):
    """The sender's notification settings and the server's Web Push public key."""

    action: Literal["getSettings"]


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
    | UpdateProfile
    | MarkRead
    | EditMessage
    | DeleteMessage
    | AddReaction
    | RemoveReaction
    | GetMessage
    | Changes
    | Sync
    | RemoveMember
    | RenameRoom
    | RegisterPush
    | UnregisterPush
    | MuteRoom
    | UpdateSettings
    | GetSettings
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
    UpdateProfile,
    MarkRead,
    EditMessage,
    DeleteMessage,
    AddReaction,
    RemoveReaction,
    GetMessage,
    Changes,
    Sync,
    RemoveMember,
    RenameRoom,
    RegisterPush,
    UnregisterPush,
    MuteRoom,
    UpdateSettings,
    GetSettings,
    Ping,
)
ACTIONS: tuple[str, ...] = tuple(t.model_fields["action"].annotation.__args__[0] for t in CLIENT_FRAME_TYPES)  # type: ignore[union-attr]

# ---------------------------------------------------------------------------------------------- objects


class ReactionCount(WireModel):
    """How many members reacted to a message with `emoji`."""

    emoji: Emoji
    count: int


class ReplyPreview(WireModel):
    """The message a reply answers, in short: its content cut to 100 characters (then "…"); empty and `deleted`
    when the parent was deleted."""

    id: str
    seq: int
    sender_id: str
    sender_name: str
    content: str
    deleted: bool = False


class Message(WireModel):
    """A stored message. `seq` is per room, starts at 1, gap-free, in commit order.

    `version` is 0 until the message is first edited, deleted or reacted to; then it is the room's change number of
    its last change (see `changes`), so a higher `version` is always the newer state. A deleted message is a
    tombstone: `deletedAt` set, `content` empty, no reactions. `myReactions` is the caller's own reactions in
    replies; in pushes it is null (keep what you have: `reaction` pushes say who reacted).
    """

    id: str
    room_id: str
    seq: int
    sender_id: str
    sender_name: str
    content: str
    created_at: str
    client_msg_id: str
    reply_to_id: str | None = None
    reply_to: ReplyPreview | None = None
    version: int = 0
    edited_at: str | None = None
    deleted_at: str | None = None
    reactions: list[ReactionCount] = []
    my_reactions: list[Emoji] | None = None


class Room(WireModel):
    """A room. `memberIds` lists at most 100 members (the first by id; all of a direct or small room):
    `memberCount` is the true number, and `presence` pages through every member. `name` is null for direct rooms.
    """

    id: str
    name: str | None
    is_group: bool
    member_ids: list[str]
    created_at: str
    member_count: int
    # Who may add and remove members, rename the room and delete any message (a group's creator, at first).
    admin_ids: list[str] = []


class RoomSummary(Room):
    """A room in `listRooms`: `lastMessage` is a preview, its `content` cut to 200 characters (then "…");
    `history` has the whole message. `readSeq` is the caller's read marker, `unreadCount` the messages after it
    (the caller's own included: a client marks read what it shows, its own sends too); `lastVersion` the room's
    latest change number (see `changes`)."""

    last_seq: int
    last_message: Message | None = None
    read_seq: int = 0
    unread_count: int = 0
    last_version: int = 0
    muted: bool = False  # the caller muted the room's notifications


class UserInfo(WireModel):
    """A user as others see them: the display name they chose, an optional avatar URL, and presence."""

    id: str
    name: str
    online: bool
    last_seen: str | None = None
    avatar_url: str | None = None


class MemberPresence(WireModel):
    """A room member's presence (online, or when last seen), with the display name and avatar, so that a client
    can name every member of its rooms (a direct room has no name of its own) from this one reply."""

    user_id: str
    online: bool
    last_seen: str | None = None
    name: str
    avatar_url: str | None = None
    read_seq: int = 0  # the member's read marker in this room


# ---------------------------------------------------------------------------------------------- server frames


class ServerFrame(WireModel):
    # Frame-level optional keys are left out of the JSON when unset; object fields (replyToId, lastSeen) stay null.
    _omit_when_none: ClassVar[frozenset[str]] = frozenset(
        {"requestId", "action", "clientMsgId", "retryAfterMs", "nextCursor"}
    )
    request_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        data = self.model_dump(by_alias=True, mode="json")
        return {k: v for k, v in data.items() if not (v is None and k in self._omit_when_none)}


class Ack(ServerFrame):
    """Reply to `sendMessage`: the message as stored (the original one when the send was a retry)."""

    type: Literal["ack"] = "ack"
    client_msg_id: str
    message: Message


class MessagePush(ServerFrame):
    """Pushed to every connection of the room's members (the sender's other connections too) for a new message."""

    type: Literal["message"] = "message"
    message: Message


class TypingPush(ServerFrame):
    """Pushed to the other members of the room when a member starts or stops typing (in a room of more than 100
    members, at most one every 3 seconds: a client shows it for a few seconds unless it is renewed)."""

    type: Literal["typing"] = "typing"
    room_id: str
    user_id: str
    user_name: str
    is_typing: bool


class HistoryPage(ServerFrame):
    """Reply to `history`: messages in ascending `seq`; `hasMore` when there are more in that direction (a page
    also stops short of `limit` to stay under 100 KB)."""

    type: Literal["history"] = "history"
    room_id: str
    messages: list[Message]
    has_more: bool


class RoomFrame(ServerFrame):
    """Reply to `createRoom`, `openDirect`, `addMembers`, `removeMember`, `renameRoom` and `leaveRoom`; also pushed
    to the room's members (and to the leaver's other connections) when the room is created, renamed or its members
    change."""

    type: Literal["room"] = "room"
    room: Room


class RoomsFrame(ServerFrame):
    """Reply to `listRooms`: one page of rooms; `nextCursor` is absent on the last page."""

    type: Literal["rooms"] = "rooms"
    rooms: list[RoomSummary]
    next_cursor: str | None = None


class UsersFrame(ServerFrame):
    """Reply to `listUsers`: one page of users by name; `nextCursor` is absent on the last page."""

    type: Literal["users"] = "users"
    users: list[UserInfo]
    next_cursor: str | None = None


class RoomPresence(ServerFrame):
    """Reply to `presence`: one page of the room's members by id; `nextCursor` is absent on the last page."""

    type: Literal["presence"] = "presence"
    room_id: str
    users: list[MemberPresence]
    next_cursor: str | None = None


class PresencePush(ServerFrame):
    """Pushed to the members of a user's rooms of at most 100 members when the user goes on- or offline; in bigger
    rooms, ask with `presence`."""

    type: Literal["presence"] = "presence"
    user_id: str
    online: bool
    last_seen: str | None = None


class ProfileFrame(ServerFrame):
    """Reply to `updateProfile` with the sender's profile; also pushed to the members of the sender's rooms."""

    type: Literal["profile"] = "profile"
    user: UserInfo


class ReadFrame(ServerFrame):
    """Reply to `markRead` with the marker as it now is; pushed to the user's other connections (they move their
    marker too) and, in rooms of at most 100 members, to the other members as a read receipt."""

    type: Literal["read"] = "read"
    room_id: str
    user_id: str
    seq: int


class MessageUpdated(ServerFrame):
    """Reply to `editMessage` and `deleteMessage` with the message as it now is; pushed to the room's members."""

    type: Literal["messageUpdated"] = "messageUpdated"
    message: Message


class ReactionFrame(ServerFrame):
    """Reply to `addReaction` and `removeReaction`, and pushed to the room's members: `userId` added (or took back)
    `emoji`; `reactions` and `version` are the message's now."""

    type: Literal["reaction"] = "reaction"
    room_id: str
    message_id: str
    seq: int
    user_id: str
    emoji: Emoji
    added: bool
    reactions: list[ReactionCount]
    version: int


class MessageFrame(ServerFrame):
    """Reply to `getMessage`: the message as it now is."""

    type: Literal["messageFound"] = "messageFound"
    message: Message


class ChangesPage(ServerFrame):
    """Reply to `changes`: messages changed after `afterVersion`, in the order of their last change; `version` is
    where this page ends (pass it as the next `afterVersion`); `hasMore` when there are more."""

    type: Literal["changes"] = "changes"
    room_id: str
    messages: list[Message]
    version: int
    has_more: bool


class RoomNews(WireModel):
    """One room's news in `sync`: its counters and read marker, the first page of messages after the client's
    seq (`hasMore`: page on with `history` `afterSeq`) and of changes after its version (`changesHaveMore`: page
    on with `changes` from `version`)."""

    room_id: str
    last_seq: int
    last_version: int
    read_seq: int
    unread_count: int
    messages: list[Message]
    has_more: bool
    changes: list[Message]
    version: int
    changes_have_more: bool


class SyncPage(ServerFrame):
    """Reply to `sync`: the rooms with news (at most 10), those the sender has left or was removed from, and
    `nextCursor` when more rooms remain to look at."""

    type: Literal["sync"] = "sync"
    rooms: list[RoomNews]
    left: list[str]
    next_cursor: str | None = None


class RemovedPush(ServerFrame):
    """Pushed to every connection of a member an admin removed from a room: the room is no longer theirs."""

    type: Literal["removed"] = "removed"
    room_id: str
    by_user_id: str


class SettingsFrame(ServerFrame):
    """Reply to `getSettings` and `updateSettings`; pushed to the user's other connections when they change.
    `pushPublicKey` is the server's VAPID public key (base64url) for `PushManager.subscribe`, null when this
    deployment sends no notifications."""

    type: Literal["settings"] = "settings"
    show_previews: bool
    push_public_key: str | None = None


class PushRegistered(ServerFrame):
    """Reply to `registerPush` and `unregisterPush`: whether the endpoint is now registered."""

    type: Literal["pushRegistered"] = "pushRegistered"
    endpoint: str
    registered: bool


class RoomMuted(ServerFrame):
    """Reply to `muteRoom`; pushed to the user's other connections."""

    type: Literal["roomMuted"] = "roomMuted"
    room_id: str
    muted: bool


class Pong(ServerFrame):
    """Reply to `ping`."""

    type: Literal["pong"] = "pong"


ErrorCode = Literal[
    "bad_request",
    "too_large",
    "unauthorized",
    "forbidden",
    "not_found",
    "rate_limited",
    "rejected",
    "unavailable",
    "internal",
]


class ErrorFrame(ServerFrame):
    """Reply to a frame that changed nothing: `code` says why, `message` says it for people."""

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
    ProfileFrame,
    ReadFrame,
    MessageUpdated,
    ReactionFrame,
    MessageFrame,
    ChangesPage,
    SyncPage,
    RemovedPush,
    SettingsFrame,
    PushRegistered,
    RoomMuted,
    Pong,
    ErrorFrame,
)


def _not_blank(content: str) -> str:
    if not content.strip():
        raise ValueError("content must not be blank")
    return content


def encode(frame: ServerFrame) -> bytes:
    """The bytes posted to a connection (compact JSON, UTF-8)."""
    return json.dumps(frame.to_wire(), separators=(",", ":"), ensure_ascii=False).encode()
