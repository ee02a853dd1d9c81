"""The data model: what each table's items hold, and the codecs between items and `chat.ports` records.

Item layout (key schemas in `chat.tables`):

    connections  connectionId -> userId, connectedAt, expiresAt, ttl (= expiresAt + 1 h)
    users        userId -> name, nameKey (lowercase), directory (constant: the `byName` index partition),
                 avatarUrl?, connections (String Set of "{expiresAt}:{connectionId}"), lastSeen?,
                 showPreviews? (notifications carry the message's text; absent: true)
                 (`byName` projects only `name`: connects and disconnects, which change `connections` and
                 `lastSeen`, never write to the index)
    rooms        roomId -> name?, isGroup, createdAt, memberCount, memberIds? (String Set: the first 100 by id),
                 adminIds? (String Set; absent when none),
                 version (moves with every member change: the optimistic lock on memberCount, memberIds, adminIds)
    room_counters  roomId -> lastSeq, lastMessage? (Map: the message, its content cut to 200 characters),
                 lastVersion? (the room's latest change number; absent: 0)
    members      (roomId, userId) -> joinedAt            (the truth: a member's actions check this item)
    memberships  (userId, roomId) -> joinedAt, readSeq?, muted?  (written with it, in the same transaction;
                 readSeq is the member's read marker, absent: 0; muted: no notifications from the room)
    room_connections  (roomId, connectionId) -> userId, expiresAt, ttl
    messages     (roomId, seq) -> id, senderId, senderName, content, createdAt, clientMsgId, replyToId?,
                 version? (absent: 0), editedAt?, deletedAt?, reactions? (Map emoji -> count, counts > 0 only)
                 (`myReactions` and `replyTo` are never stored: they depend on the reader)
    idempotency  (roomId, senderMsgId = "{senderId}#{clientMsgId}") -> seq, messageId
    message_changes  (roomId, version) -> seq        (the room's change feed: which message each change changed)
    reactions    (roomUser = "{roomId}#{userId}", seq) -> emojis (String Set: the user's own reactions on it)
    push_subscriptions  (userId, endpointKey = sha256 of the endpoint) -> endpoint, platform, p256dh?, auth?,
                 createdAt            (a user's devices, reachable with no live connection)
    rate_limits  bucket (userId) -> tat (epoch ms: GCRA's theoretical arrival time, see chat.flood), ttl

Every item a send writes (counter, message, idempotency record) is small and bounded; no item holds a list that
grows with a room. The user item's `connections` set answers "is this user online" (presence, the directory);
`room_connections` answers "who in this room is online" (fan-out), at a cost that follows the online members.

The `_`-prefixed helpers are the adapter's own codec, shared by the modules of `chat.dynamo` and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from chat.ports import LiveConnection, RoomConnection, RoomRecord, User
from chat.protocol import LAST_MESSAGE_PREVIEW_CHARS, REACTION_EMOJIS, Message, ReactionCount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item: TypeAlias = "dict[str, AttributeValueTypeDef]"


# ---------------------------------------------------------------------------------------- attribute values


def _names(*attributes: str) -> dict[str, str]:
    """Placeholders for every attribute an expression names (some of ours are reserved words: name, ttl)."""
    return {f"#{attribute}": attribute for attribute in attributes}


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _ss(values: Iterable[str]) -> AttributeValueTypeDef:
    return {"SS": sorted(values)}


def _str(item: Mapping[str, Any], name: str) -> str:
    return str(item[name]["S"])


def _opt_str(item: Mapping[str, Any], name: str) -> str | None:
    return str(item[name]["S"]) if name in item else None


def _int(item: Mapping[str, Any], name: str) -> int:
    return int(item[name]["N"])


def _opt_int(item: Mapping[str, Any], name: str) -> int:
    """A number that is absent while it is 0 (versions, markers): items written before it existed need no rewrite."""
    return int(item[name]["N"]) if name in item else 0


def _str_set(item: Mapping[str, Any], name: str) -> frozenset[str]:
    # DynamoDB has no empty set: deleting the last element removes the attribute.
    return frozenset(item[name]["SS"]) if name in item else frozenset()


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -------------------------------------------------------------------------------------------------- users


def _connections_of(user_item: Mapping[str, Any]) -> frozenset[LiveConnection]:
    return frozenset(LiveConnection.decode(entry) for entry in _str_set(user_item, "connections"))


def _user_from(item: Mapping[str, Any]) -> User:
    return User(
        _str(item, "userId"),
        _opt_str(item, "name") or "",  # only between a first connect's two writes (see add_connection)
        _connections_of(item),
        _opt_str(item, "lastSeen"),
        _opt_str(item, "avatarUrl"),
        bool(item["showPreviews"]["BOOL"]) if "showPreviews" in item else True,
    )


# -------------------------------------------------------------------------------------------------- rooms


def _room_item(room: RoomRecord) -> Item:
    item: Item = {
        "roomId": _s(room.id),
        "isGroup": {"BOOL": room.is_group},
        "createdAt": _s(room.created_at),
        "memberCount": _n(room.member_count),
        "version": _n(0),
    }
    if room.name is not None:
        item["name"] = _s(room.name)
    if room.member_ids:
        item["memberIds"] = _ss(room.member_ids)
    if room.admin_ids:
        item["adminIds"] = _ss(room.admin_ids)
    return item


def _room_from(item: Mapping[str, Any], counter: Mapping[str, Any] | None = None) -> RoomRecord:
    counter = counter or {}
    return RoomRecord(
        id=_str(item, "roomId"),
        name=_opt_str(item, "name"),
        is_group=bool(item["isGroup"]["BOOL"]),
        created_at=_str(item, "createdAt"),
        member_count=_int(item, "memberCount"),
        member_ids=tuple(sorted(_str_set(item, "memberIds"))),
        last_seq=_opt_int(counter, "lastSeq"),
        last_message=_message_from(counter["lastMessage"]["M"]) if "lastMessage" in counter else None,
        admin_ids=tuple(sorted(_str_set(item, "adminIds"))),
        last_version=_opt_int(counter, "lastVersion"),
    )


def _version(item: Mapping[str, Any]) -> int:
    return _int(item, "version")


def _member_item(room_id: str, user_id: str, joined_at: str) -> Item:
    """One membership, as both `members` (room -> user) and `memberships` (user -> room) store it: the same
    attributes, under each table's own key schema."""
    return {"roomId": _s(room_id), "userId": _s(user_id), "joinedAt": _s(joined_at)}


def _room_connection_item(room_id: str, entry: RoomConnection, ttl_slack_seconds: int) -> Item:
    return {
        "roomId": _s(room_id),
        "connectionId": _s(entry.connection_id),
        "userId": _s(entry.user_id),
        "expiresAt": _n(entry.connection.expires_at),
        "ttl": _n(entry.connection.expires_at + ttl_slack_seconds),
    }


def _room_connection_from(item: Mapping[str, Any]) -> RoomConnection:
    return RoomConnection(_str(item, "userId"), LiveConnection(_str(item, "connectionId"), _int(item, "expiresAt")))


# ----------------------------------------------------------------------------------------------- messages


def _preview(message: Message) -> Message:
    """The message as the room's counter keeps it: its content cut, so that the item a send rewrites stays small."""
    if len(message.content) <= LAST_MESSAGE_PREVIEW_CHARS:
        return message
    return message.model_copy(update={"content": message.content[:LAST_MESSAGE_PREVIEW_CHARS] + "…"})


def _message_attributes(message: Message) -> Item:
    """A message item, also the counter's `lastMessage` map: the wire fields, the optional ones only when set;
    never `myReactions` nor `replyTo`, which the service fills in for each reader."""
    attributes: Item = {
        "roomId": _s(message.room_id),
        "seq": _n(message.seq),
        "id": _s(message.id),
        "senderId": _s(message.sender_id),
        "senderName": _s(message.sender_name),
        "content": _s(message.content),
        "createdAt": _s(message.created_at),
        "clientMsgId": _s(message.client_msg_id),
    }
    if message.reply_to_id is not None:
        attributes["replyToId"] = _s(message.reply_to_id)
    if message.version:
        attributes["version"] = _n(message.version)
    if message.edited_at is not None:
        attributes["editedAt"] = _s(message.edited_at)
    if message.deleted_at is not None:
        attributes["deletedAt"] = _s(message.deleted_at)
    counts: dict[str, AttributeValueTypeDef] = {r.emoji: _n(r.count) for r in message.reactions if r.count > 0}
    if counts:
        attributes["reactions"] = {"M": counts}
    return attributes


def _message_from(item: Mapping[str, Any]) -> Message:
    return Message(
        id=_str(item, "id"),
        room_id=_str(item, "roomId"),
        seq=_int(item, "seq"),
        sender_id=_str(item, "senderId"),
        sender_name=_str(item, "senderName"),
        content=_str(item, "content"),
        created_at=_str(item, "createdAt"),
        client_msg_id=_str(item, "clientMsgId"),
        reply_to_id=_opt_str(item, "replyToId"),
        version=_opt_int(item, "version"),
        edited_at=_opt_str(item, "editedAt"),
        deleted_at=_opt_str(item, "deletedAt"),
        reactions=_reactions_from(item),
    )


def _reactions_from(item: Mapping[str, Any]) -> list[ReactionCount]:
    """The stored counts in the order of REACTION_EMOJIS, so that equal states compare and render equal."""
    counts = {emoji: int(value["N"]) for emoji, value in item.get("reactions", {}).get("M", {}).items()}
    return [ReactionCount(emoji=e, count=counts[e]) for e in REACTION_EMOJIS if counts.get(e, 0) > 0]


def _room_user(room_id: str, user_id: str) -> str:
    """The partition of a user's own reactions in a room (`reactions` table)."""
    return f"{room_id}#{user_id}"


def _sender_msg_id(sender_id: str, client_msg_id: str) -> str:
    """The idempotency key within a room: a clientMsgId is the sender's own, so another member reusing it can
    never get this sender's ack (or make their own content vanish)."""
    return f"{sender_id}#{client_msg_id}"
