"""`chat.ports.ChatStore` on DynamoDB, with the low-level boto3 client (built once per cold start, passed in).

Item layout (key schemas in `chat.tables`):

    connections  connectionId -> userId, connectedAt, expiresAt, ttl (= expiresAt + 1 h)
    users        userId -> name, nameKey (lowercase), directory (constant: the `byName` index partition),
                 avatarUrl?, connections (String Set of "{expiresAt}:{connectionId}"), lastSeen?
                 (`byName` projects only `name`: connects and disconnects, which change `connections` and
                 `lastSeen`, never write to the index)
    rooms        roomId -> name?, isGroup, memberIds (String Set), createdAt, lastSeq, lastMessage? (Map)
    memberships  (userId, roomId) -> joinedAt
    messages     (roomId, seq) -> id, senderId, senderName, content, createdAt, clientMsgId, replyToId?
    idempotency  (roomId, senderMsgId = "{senderId}#{clientMsgId}") -> seq, messageId
    rate_limits  bucket (userId) -> tat (epoch ms: GCRA's theoretical arrival time, see chat.flood), ttl

No Scan anywhere. Every AWS error leaves as a domain error (`raise ... from exc`): a failed condition becomes
the error it means (`NotFound`, `Forbidden`, ...); throttling and write contention that outlast the retries
become `Unavailable` with `retry_after_ms`; anything else is an internal `ChatError` that leaks nothing.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from botocore.exceptions import BotoCoreError, ClientError

from chat.errors import BadRequest, ChatError, Forbidden, NotFound, Unavailable, not_a_member
from chat.flood import FrameBudget
from chat.ports import (
    Appended,
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
from chat.protocol import PAGE_MAX_BYTES, Message
from chat.settings import Settings
from chat.tables import TABLES, USER_DIRECTORY_PARTITION, USERS_BY_NAME_INDEX

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
    )

Item: TypeAlias = "dict[str, AttributeValueTypeDef]"
Reason: TypeAlias = Mapping[str, Any]  # one entry of a TransactionCanceledException's CancellationReasons

# Connection items outlive the connection's hard lifetime a little: a late $disconnect still finds them.
CONNECTION_TTL_SLACK_SECONDS = 3600
RATE_LIMIT_TTL_SLACK_SECONDS = 60
MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_GET_KEYS = 100

# Sends racing for one room: a loser's pause must spread the losers over more than one commit's time, or they
# collide again (20 senders on one room: base 10 ms / cap 200 ms took ~4.5 transactions per message,
# 50 ms / 500 ms ~2.3). Everything but a send: 8 attempts sleep ~2.3 s in all, far inside API Gateway's 29 s.
DEFAULT_MAX_ATTEMPTS = 8
# A send keeps trying while other senders win the room's next seq: concurrent senders in one room are ordinary,
# so a send gives up (`Unavailable`, retry with the same clientMsgId) only after this long, inside the 29 s
# API Gateway waits for the reply.
SEND_CONTENTION_BUDGET_SECONDS = 25.0
MAX_SEND_ATTEMPTS = 100
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.5
# botocore has already retried throttling with its own backoff when one of these reaches us.
THROTTLED_RETRY_AFTER_MS = 1000

_CONDITION_FAILED = "ConditionalCheckFailed"
_RETRYABLE_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
_THROTTLING_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)

_log = logging.getLogger(__name__)


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
        names = {
            spec.name: tables.table_name(spec.name) if isinstance(tables, Settings) else tables[spec.name]
            for spec in TABLES
        }
        self._client = client
        self._connections = names["connections"]
        self._users = names["users"]
        self._rooms = names["rooms"]
        self._memberships = names["memberships"]
        self._messages = names["messages"]
        self._idempotency = names["idempotency"]
        self._rate_limits = names["rate_limits"]
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._max_attempts = max_attempts
        self._max_send_attempts = max_send_attempts
        self._send_budget = send_budget_seconds
        self._monotonic = monotonic

    # ---------------------------------------------------------------------------------------------- users

    def register_user(self, user_id: str, name: str) -> None:
        self._profile_named(user_id, name)

    def _profile_named(self, user_id: str, name: str) -> Item:
        """The user's profile, named `name` unless it already has a name: the user item as it now is."""
        with _aws_errors("register_user"):
            return self._client.update_item(
                TableName=self._users,
                Key={"userId": _s(user_id)},
                UpdateExpression="SET #name = if_not_exists(#name, :name), "
                "#nameKey = if_not_exists(#nameKey, :nameKey), #directory = :directory",
                ExpressionAttributeNames=_names("name", "nameKey", "directory"),
                ExpressionAttributeValues={
                    ":name": _s(name),
                    ":nameKey": _s(name.lower()),
                    ":directory": _s(USER_DIRECTORY_PARTITION),
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]

    def update_profile(self, user_id: str, *, name: str | None, avatar_url: str | None) -> User:
        sets, removes = [], []
        values: Item = {}
        names = _names("userId")
        if name is not None:
            sets += ["#name = :name", "#nameKey = :nameKey"]
            names.update(_names("name", "nameKey"))
            values.update({":name": _s(name), ":nameKey": _s(name.lower())})
        if avatar_url:
            sets.append("#avatarUrl = :avatarUrl")
            values[":avatarUrl"] = _s(avatar_url)
        elif avatar_url == "":
            removes.append("#avatarUrl")
        if avatar_url is not None:
            names.update(_names("avatarUrl"))
        expression = " ".join(
            part
            for part in (f"SET {', '.join(sets)}" if sets else "", f"REMOVE {', '.join(removes)}" if removes else "")
            if part
        )
        with _aws_errors("update_profile"):
            try:
                attributes = self._client.update_item(
                    TableName=self._users,
                    Key={"userId": _s(user_id)},
                    UpdateExpression=expression,
                    ConditionExpression="attribute_exists(#userId)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )["Attributes"]
            except ClientError as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                raise NotFound("connect before changing your profile") from exc
        return _user_from(attributes)

    # ------------------------------------------------------------------------------ connections and presence

    def add_connection(
        self, connection: LiveConnection, identity: Identity, connected_at: str, now: float
    ) -> PresenceChange:
        with _aws_errors("add_connection"):
            self._client.put_item(
                TableName=self._connections,
                Item={
                    "connectionId": _s(connection.connection_id),
                    "userId": _s(identity.user_id),
                    "connectedAt": _s(connected_at),
                    "expiresAt": _n(connection.expires_at),
                    "ttl": _n(connection.expires_at + CONNECTION_TTL_SLACK_SECONDS),
                },
            )
            # Only the connection set: no indexed or projected attribute changes on an ordinary connect.
            old = self._client.update_item(
                TableName=self._users,
                Key={"userId": _s(identity.user_id)},
                UpdateExpression="ADD #connections :entry",
                ExpressionAttributeNames=_names("connections"),
                ExpressionAttributeValues={":entry": _ss([connection.encode()])},
                ReturnValues="ALL_OLD",
            ).get("Attributes", {})
        if "name" not in old:  # the user's first connection, without a sign-up before it
            profile = self._profile_named(identity.user_id, identity.name)
            old = {
                **old,
                **{attribute: profile[attribute] for attribute in ("name", "avatarUrl") if attribute in profile},
            }
        before = _connections_of(old) - {connection}
        expired = frozenset(c for c in before if c.expires_at <= now)
        if expired and self._drop_expired(identity.user_id, expired):
            before -= expired
        user = replace(_user_from({**old, "userId": _s(identity.user_id)}), connections=before | {connection})
        return PresenceChange(user, changed=not any(c.expires_at > now for c in before))

    def _drop_expired(self, user_id: str, expired: frozenset[LiveConnection]) -> bool:
        """Best effort: a leftover expired entry never counts as online, it only takes a few bytes."""
        try:
            self._client.update_item(
                TableName=self._users,
                Key={"userId": _s(user_id)},
                UpdateExpression="DELETE #connections :expired",
                ExpressionAttributeNames=_names("connections"),
                ExpressionAttributeValues={":expired": _ss(c.encode() for c in expired)},
            )
        except (ClientError, BotoCoreError):
            _log.warning("could not drop expired connection entries", exc_info=True)
            return False
        return True

    def remove_connection(self, connection_id: str, now: float, last_seen: str) -> PresenceChange | None:
        with _aws_errors("remove_connection"):
            old = self._client.delete_item(
                TableName=self._connections, Key={"connectionId": _s(connection_id)}, ReturnValues="ALL_OLD"
            ).get("Attributes")
            if not old:
                return None
            user_id = _str(old, "userId")
            entry = LiveConnection(connection_id, _int(old, "expiresAt")).encode()
            try:
                attributes = self._client.update_item(
                    TableName=self._users,
                    Key={"userId": _s(user_id)},
                    UpdateExpression="DELETE #connections :entry SET #lastSeen = :lastSeen",
                    ConditionExpression="attribute_exists(#userId)",
                    ExpressionAttributeNames=_names("connections", "lastSeen", "userId"),
                    ExpressionAttributeValues={":entry": _ss([entry]), ":lastSeen": _s(last_seen)},
                    ReturnValues="ALL_NEW",
                )["Attributes"]
            except ClientError as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                # The $connect that stored this connection failed before the user: nobody went offline.
                return PresenceChange(User(user_id, "", last_seen=last_seen), changed=False)
        user = _user_from(attributes)
        return PresenceChange(user, changed=not user.is_online(now))

    def forget_connections(self, stale: Iterable[tuple[str, LiveConnection]]) -> None:
        """Delete the connection items and the users' entries; a user left with no live connection gets
        `lastSeen` = now (the time the connection was found gone: the closest to its end this store knows)."""
        by_user: defaultdict[str, set[LiveConnection]] = defaultdict(set)
        for user_id, connection in stale:
            by_user[user_id].add(connection)
        for user_id, connections in by_user.items():
            with _aws_errors("forget_connections"):
                for connection in connections:
                    self._client.delete_item(
                        TableName=self._connections, Key={"connectionId": _s(connection.connection_id)}
                    )
                try:
                    old = self._client.update_item(
                        TableName=self._users,
                        Key={"userId": _s(user_id)},
                        UpdateExpression="DELETE #connections :gone",
                        ConditionExpression="attribute_exists(#userId)",
                        ExpressionAttributeNames=_names("connections", "userId"),
                        ExpressionAttributeValues={":gone": _ss(c.encode() for c in connections)},
                        ReturnValues="ALL_OLD",
                    )["Attributes"]
                except ClientError as exc:
                    if _error_code(exc) != "ConditionalCheckFailedException":
                        raise
                    continue
                before = _connections_of(old)
                now = self._clock()
                # Only when this call took the user offline: a $disconnect that came first set a truer one.
                if before & connections and not any(c.expires_at > now for c in before - connections):
                    self._client.update_item(
                        TableName=self._users,
                        Key={"userId": _s(user_id)},
                        UpdateExpression="SET #lastSeen = :lastSeen",
                        ExpressionAttributeNames=_names("lastSeen"),
                        ExpressionAttributeValues={":lastSeen": _s(_iso(now))},
                    )

    def get_users(self, user_ids: Iterable[str]) -> dict[str, User]:
        keys = [{"userId": _s(user_id)} for user_id in dict.fromkeys(user_ids)]
        users = (_user_from(item) for item in self._batch_get(self._users, keys, "get_users"))
        return {user.user_id: user for user in users}

    def find_users(self, name_prefix: str, limit: int, start_after: UserKey | None = None) -> list[User]:
        """Users whose name starts with `name_prefix` (case-insensitive), by lowercase name then id.

        The `byName` index holds only the keys and the name, so that presence changes never write to it: the
        page's users are then read from the table (their presence, lastSeen and avatar).
        """
        if limit < 1:
            return []
        prefix = name_prefix.lower()
        key_condition = "#directory = :directory"
        names = _names("directory")
        values: Item = {":directory": _s(USER_DIRECTORY_PARTITION)}
        if prefix:
            key_condition += " AND begins_with(#nameKey, :prefix)"
            names.update(_names("nameKey"))
            values[":prefix"] = _s(prefix)
        request: QueryInputTypeDef = {
            "TableName": self._users,
            "IndexName": USERS_BY_NAME_INDEX,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": limit,
        }
        if start_after is not None:
            request["ExclusiveStartKey"] = {
                "directory": _s(USER_DIRECTORY_PARTITION),
                "nameKey": _s(start_after.name_key),
                "userId": _s(start_after.user_id),
            }
        with _aws_errors("find_users"):
            items = self._client.query(**request)["Items"]
        user_ids = [_str(item, "userId") for item in items]
        users = self.get_users(user_ids)
        return [users[user_id] for user_id in user_ids if user_id in users]

    # ---------------------------------------------------------------------------------------------- rooms

    def get_room(self, room_id: str) -> RoomRecord | None:
        with _aws_errors("get_room"):
            item = self._client.get_item(TableName=self._rooms, Key={"roomId": _s(room_id)}, ConsistentRead=True).get(
                "Item"
            )
        return _room_from(item) if item else None

    def create_room(self, room: RoomRecord) -> RoomRecord:
        """One transaction puts the room (if its id is new) and the members' membership items.

        Beyond one transaction's 100 items, the extra memberships are written first: should the process stop
        in between, a membership without its room is harmless (`rooms_of` skips it), a room without its
        memberships is not (a member would not find it).
        """
        room = replace(room, last_seq=0, last_message=None)
        members = sorted(room.member_ids)
        in_transaction, extra = members[: MAX_TRANSACTION_ITEMS - 1], members[MAX_TRANSACTION_ITEMS - 1 :]
        self._write_memberships(room.id, extra, room.created_at)
        put_room: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._rooms,
                "Item": _room_item(room),
                "ConditionExpression": "attribute_not_exists(#roomId)",
                "ExpressionAttributeNames": _names("roomId"),
            }
        }
        reasons = self._transact(
            [put_room, *self._membership_updates(room.id, in_transaction, room.created_at)], "create_room"
        )
        if not reasons:
            return room
        stored = self.get_room(room.id)
        if stored is None:  # the condition failed on a room that is not there: nothing deletes rooms
            raise ChatError("storage error")
        return stored

    def add_members(self, room_id: str, by_user_id: str, user_ids: Iterable[str]) -> RoomRecord:
        """Add users to a group room `by_user_id` belongs to, else `Forbidden` (no such room, not a member, or a
        direct room). Already-members keep their `joinedAt`."""
        newcomers = sorted(set(user_ids))
        if not newcomers:
            raise BadRequest("memberIds: nobody to add")
        in_transaction, extra = newcomers[: MAX_TRANSACTION_ITEMS - 1], newcomers[MAX_TRANSACTION_ITEMS - 1 :]
        joined_at = _iso(self._clock())
        update_room: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._rooms,
                "Key": {"roomId": _s(room_id)},
                "UpdateExpression": "ADD #memberIds :newcomers",
                "ConditionExpression": "attribute_exists(#roomId) AND contains(#memberIds, :by) AND #isGroup = :true",
                "ExpressionAttributeNames": _names("memberIds", "roomId", "isGroup"),
                "ExpressionAttributeValues": {
                    ":newcomers": _ss(newcomers),
                    ":by": _s(by_user_id),
                    ":true": {"BOOL": True},
                },
            }
        }
        if self._transact([update_room, *self._membership_updates(room_id, in_transaction, joined_at)], "add_members"):
            raise self._membership_refused(room_id, by_user_id)
        # Only after the room said yes: a membership must never exist for someone the room refused.
        self._write_memberships(room_id, extra, joined_at)
        return self._require_room(room_id)

    def remove_member(self, room_id: str, user_id: str) -> RoomRecord:
        """Take `user_id` out of the room, else `Forbidden` (no such room, or not a member)."""
        update_room: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._rooms,
                "Key": {"roomId": _s(room_id)},
                "UpdateExpression": "DELETE #memberIds :leaver",
                "ConditionExpression": "attribute_exists(#roomId) AND contains(#memberIds, :userId)",
                "ExpressionAttributeNames": _names("memberIds", "roomId"),
                "ExpressionAttributeValues": {":leaver": _ss([user_id]), ":userId": _s(user_id)},
            }
        }
        delete_membership: TransactWriteItemTypeDef = {
            "Delete": {"TableName": self._memberships, "Key": {"userId": _s(user_id), "roomId": _s(room_id)}}
        }
        if self._transact([update_room, delete_membership], "remove_member"):
            raise self._membership_refused(room_id, user_id)
        return self._require_room(room_id)

    def rooms_of(self, user_id: str) -> list[RoomRecord]:
        """The user's rooms, ordered by id."""
        request: QueryInputTypeDef = {
            "TableName": self._memberships,
            "KeyConditionExpression": "#userId = :userId",
            "ProjectionExpression": "#roomId",
            "ExpressionAttributeNames": _names("userId", "roomId"),
            "ExpressionAttributeValues": {":userId": _s(user_id)},
            "ConsistentRead": True,
        }
        room_keys: list[Item] = []
        while True:
            with _aws_errors("rooms_of"):
                page = self._client.query(**request)
            room_keys.extend({"roomId": item["roomId"]} for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        rooms = (_room_from(item) for item in self._batch_get(self._rooms, room_keys, "rooms_of"))
        # The room's member set is the truth; a membership item can outlive it (see create_room).
        return sorted((room for room in rooms if user_id in room.member_ids), key=lambda room: room.id)

    # ---------------------------------------------------------------------------------------------- messages

    def append_message(self, draft: MessageDraft, *, last_seq_hint: int | None = None) -> Appended:
        """One transaction moves the room's `lastSeq` from n-1 to n, puts message n and the idempotency item
        (roomId, senderId#clientMsgId). A taken key returns the stored message; a moved `lastSeq` (a concurrent
        sender won) retries with the `lastSeq` the failed condition returned, with jittered backoff, for up to
        `send_budget_seconds`; only then `Unavailable`."""
        last_seq = self._last_seq(draft.room_id) if last_seq_hint is None else last_seq_hint
        deadline = self._monotonic() + self._send_budget
        for attempt in range(self._max_send_attempts):
            if attempt and self._monotonic() >= deadline:
                break
            self._backoff(attempt)
            message = draft.stored_as(last_seq + 1)
            try:
                reasons = self._try_transact(self._append_items(message, last_seq), "append_message")
            except Unavailable:  # throttled beyond botocore's retries: nothing committed, try again
                continue
            if reasons is None:
                return Appended(message, created=True)
            room_reason, _, idempotency_reason = _three(reasons)
            if _code(idempotency_reason) == _CONDITION_FAILED:
                return Appended(self._stored_message(draft, idempotency_reason.get("Item")), created=False)
            if _code(room_reason) == _CONDITION_FAILED:
                last_seq = self._last_seq_of_member(draft, room_reason.get("Item"))
            elif not all(_code(reason) in _RETRYABLE_REASONS | {"None"} for reason in reasons):
                # e.g. message n exists while lastSeq says n-1: retrying cannot fix that.
                _log.error("append_message cancelled: %s", [_code(r) for r in reasons])
                raise ChatError("storage error")
        raise self._unavailable()

    def _append_items(self, message: Message, last_seq: int) -> list[TransactWriteItemTypeDef]:
        attributes = _message_attributes(message)
        return [
            {
                "Update": {
                    "TableName": self._rooms,
                    "Key": {"roomId": _s(message.room_id)},
                    "UpdateExpression": "SET #lastSeq = :seq, #lastMessage = :message",
                    # Still a member at commit: a send racing the sender's own leaveRoom is refused.
                    "ConditionExpression": (
                        "attribute_exists(#roomId) AND #lastSeq = :lastSeq AND contains(#memberIds, :sender)"
                    ),
                    "ExpressionAttributeNames": _names("lastSeq", "lastMessage", "roomId", "memberIds"),
                    "ExpressionAttributeValues": {
                        ":seq": _n(message.seq),
                        ":message": {"M": attributes},
                        ":lastSeq": _n(last_seq),
                        ":sender": _s(message.sender_id),
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": self._messages,
                    "Item": attributes,
                    "ConditionExpression": "attribute_not_exists(#seq)",
                    "ExpressionAttributeNames": _names("seq"),
                }
            },
            {
                "Put": {
                    "TableName": self._idempotency,
                    "Item": {
                        "roomId": _s(message.room_id),
                        "senderMsgId": _s(_sender_msg_id(message.sender_id, message.client_msg_id)),
                        "seq": _n(message.seq),
                        "messageId": _s(message.id),
                    },
                    "ConditionExpression": "attribute_not_exists(#senderMsgId)",
                    "ExpressionAttributeNames": _names("senderMsgId"),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]

    def _last_seq(self, room_id: str) -> int:
        return self._require_room(room_id).last_seq

    def _last_seq_of_member(self, draft: MessageDraft, room_item: Mapping[str, Any] | None) -> int:
        """The room's lastSeq from the item a failed condition returned, else a consistent read;
        `Forbidden` when the room is gone or the sender is no longer a member."""
        if room_item and "lastSeq" in room_item:
            member_ids = room_item.get("memberIds", {}).get("SS", [])
            last_seq = int(room_item["lastSeq"]["N"])
        else:
            room = self._require_room(draft.room_id)
            member_ids, last_seq = list(room.member_ids), room.last_seq
        if draft.sender_id not in member_ids:
            raise not_a_member(draft.room_id)
        return last_seq

    def _stored_message(self, draft: MessageDraft, idempotency_item: Mapping[str, Any] | None) -> Message:
        """The message stored before under the draft's (roomId, clientMsgId)."""
        with _aws_errors("append_message"):
            if not idempotency_item:
                idempotency_item = self._client.get_item(
                    TableName=self._idempotency,
                    Key={
                        "roomId": _s(draft.room_id),
                        "senderMsgId": _s(_sender_msg_id(draft.sender_id, draft.client_msg_id)),
                    },
                    ConsistentRead=True,
                ).get("Item")
            if not idempotency_item:
                raise ChatError("storage error")
            item = self._client.get_item(
                TableName=self._messages,
                Key={"roomId": _s(draft.room_id), "seq": idempotency_item["seq"]},
                ConsistentRead=True,
            ).get("Item")
        if not item:
            raise ChatError("storage error")
        return _message_from(item)

    def history(self, room_id: str, *, before_seq: int | None, after_seq: int | None, limit: int) -> HistorySlice:
        """Up to `limit` messages, ascending: just before `before_seq`, just after `after_seq`, or the latest.

        The page is also cut to PAGE_MAX_BYTES of JSON, dropping the messages farthest from the anchor
        (the oldest of a before/latest page, the newest of an after page); `has_more` then says so.
        """
        values: Item = {":roomId": _s(room_id)}
        key_condition = "#roomId = :roomId"
        if after_seq is not None:
            key_condition += " AND #seq > :after"
            values[":after"] = _n(after_seq)
        elif before_seq is not None:
            key_condition += " AND #seq < :before"
            values[":before"] = _n(before_seq)
        names = _names("roomId", "seq") if len(values) > 1 else _names("roomId")
        with _aws_errors("history"):
            page = self._client.query(
                TableName=self._messages,
                KeyConditionExpression=key_condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ScanIndexForward=after_seq is not None,
                Limit=limit + 1,
                # Read-your-writes: a message acked a moment ago must be in the catch-up page.
                ConsistentRead=True,
            )
        found = [_message_from(item) for item in page["Items"]]
        # Limit stops at limit + 1 items; LastEvaluatedKey with fewer means the 1 MB page limit stopped it.
        has_more = len(found) > limit or "LastEvaluatedKey" in page
        kept = within_bytes(found[:limit], PAGE_MAX_BYTES)
        has_more = has_more or len(kept) < min(len(found), limit)
        if after_seq is None:
            kept.reverse()
        return HistorySlice(kept, has_more)

    # ---------------------------------------------------------------------------------------- flood control

    def count_frame(self, user_id: str, now: float, limit: int, window_seconds: int) -> int | None:
        """GCRA (`chat.flood`) in at most two conditional writes, neither of which can lose a race.

        A rested user (stored TAT in the past, or none): SET the TAT to now + interval. Mid-burst (the first
        condition failed and returned the TAT): ADD the interval, on condition that the result stays within one
        window of now. DynamoDB applies each update atomically to the current item, so concurrent frames of one
        user never overdraw the budget and never need a retry; a refusal writes nothing.
        """
        budget = FrameBudget(limit, window_seconds)
        now_ms = math.floor(now * 1000)
        ttl = _n(budget.expires_at(now_ms + budget.window_ms) + RATE_LIMIT_TTL_SLACK_SECONDS)
        rested = {
            "UpdateExpression": "SET #tat = :tat, #ttl = :ttl",
            "ConditionExpression": "attribute_not_exists(#tat) OR #tat < :now",
            "ExpressionAttributeValues": {":tat": _n(now_ms + budget.interval_ms), ":ttl": ttl, ":now": _n(now_ms)},
        }
        mid_burst = {
            "UpdateExpression": "ADD #tat :interval SET #ttl = :ttl",
            "ConditionExpression": "#tat <= :latest",
            "ExpressionAttributeValues": {
                ":interval": _n(budget.interval_ms),
                ":ttl": ttl,
                ":latest": _n(now_ms + budget.window_ms - budget.interval_ms),
            },
        }
        stored_tat: int | None = None
        for update in (rested, mid_burst):
            with _aws_errors("count_frame"):
                try:
                    self._client.update_item(
                        TableName=self._rate_limits,
                        Key={"bucket": _s(user_id)},
                        ExpressionAttributeNames=_names("tat", "ttl"),
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                        **update,  # type: ignore[arg-type]
                    )
                    return None
                except ClientError as exc:
                    if _error_code(exc) != "ConditionalCheckFailedException":
                        raise
                    returned: Any = exc.response.get("Item")  # ALL_OLD: the item as the condition saw it
                    stored_tat = self._stored_tat(user_id, returned)
            admission = budget.admit(stored_tat, now_ms)
            if admission.next_tat_ms is None:
                return admission.retry_after_ms
        # Only when the item expired (TTL) between our two writes: refuse this one frame for one interval.
        return budget.interval_ms

    def _stored_tat(self, user_id: str, item: Mapping[str, Any] | None) -> int:
        """The TAT from the item a failed condition returned, else a consistent read; 0 without one."""
        if not item:
            with _aws_errors("count_frame"):
                item = self._client.get_item(
                    TableName=self._rate_limits, Key={"bucket": _s(user_id)}, ConsistentRead=True
                ).get("Item", {})
        return _int(item, "tat") if "tat" in item else 0

    # ---------------------------------------------------------------------------------------------- plumbing

    def _try_transact(self, items: Sequence[TransactWriteItemTypeDef], operation: str) -> list[Reason] | None:
        """None when committed, else the cancellation reasons (one per item, in order).

        botocore fills in a ClientRequestToken and keeps it across its own retries, so a retry after a lost
        response does not commit twice.
        """
        with _aws_errors(operation):
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if _error_code(exc) != "TransactionCanceledException":
                    raise
                reasons: list[Reason] = list(exc.response.get("CancellationReasons") or [])
                if not reasons:
                    raise
                return reasons
        return None

    def _transact(self, items: Sequence[TransactWriteItemTypeDef], operation: str) -> list[Reason]:
        """Commit, retrying conflicts and throttling: [] when committed, the reasons if a condition failed."""
        for attempt in range(self._max_attempts):
            self._backoff(attempt)
            reasons = self._try_transact(items, operation)
            if reasons is None:
                return []
            codes = {_code(reason) for reason in reasons}
            if _CONDITION_FAILED in codes:
                return reasons
            if not codes <= _RETRYABLE_REASONS | {"None"}:
                _log.error("%s cancelled: %s", operation, sorted(codes))
                raise ChatError("storage error")
        raise self._unavailable()

    def _membership_updates(
        self, room_id: str, user_ids: Iterable[str], joined_at: str
    ) -> list[TransactWriteItemTypeDef]:
        return [
            {
                "Update": {
                    "TableName": self._memberships,
                    "Key": {"userId": _s(user_id), "roomId": _s(room_id)},
                    "UpdateExpression": "SET #joinedAt = if_not_exists(#joinedAt, :joinedAt)",
                    "ExpressionAttributeNames": _names("joinedAt"),
                    "ExpressionAttributeValues": {":joinedAt": _s(joined_at)},
                }
            }
            for user_id in user_ids
        ]

    def _write_memberships(self, room_id: str, user_ids: Sequence[str], joined_at: str) -> None:
        for start in range(0, len(user_ids), MAX_TRANSACTION_ITEMS):
            chunk = user_ids[start : start + MAX_TRANSACTION_ITEMS]
            self._transact(self._membership_updates(room_id, chunk, joined_at), "write_memberships")

    def _membership_refused(self, room_id: str, user_id: str) -> ChatError:
        """Why a room's membership condition failed, from one consistent read."""
        room = self.get_room(room_id)
        if room is None or user_id not in room.member_ids:
            return not_a_member(room_id)
        return Forbidden("members cannot be added to a direct room")

    def _require_room(self, room_id: str) -> RoomRecord:
        room = self.get_room(room_id)
        if room is None:
            raise not_a_member(room_id)
        return room

    def _batch_get(self, table: str, keys: Sequence[Item], operation: str) -> list[Item]:
        """BatchGetItem in chunks of 100 keys, retrying unprocessed keys with backoff (consistent reads)."""
        found: list[Item] = []
        for start in range(0, len(keys), MAX_BATCH_GET_KEYS):
            pending: list[Item] = list(keys[start : start + MAX_BATCH_GET_KEYS])
            for attempt in range(self._max_attempts):
                self._backoff(attempt)
                with _aws_errors(operation):
                    response = self._client.batch_get_item(
                        RequestItems={table: {"Keys": pending, "ConsistentRead": True}}
                    )
                found.extend(response["Responses"].get(table, []))
                unprocessed = response.get("UnprocessedKeys", {}).get(table)
                if not unprocessed:
                    break
                pending = list(unprocessed["Keys"])
            else:
                raise self._unavailable()
        return found

    def _backoff(self, attempt: int) -> None:
        """Before a retry (attempt >= 1), full jitter: a random pause up to an exponential, capped bound."""
        if attempt:
            self._sleep(self._jitter() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)))

    def _unavailable(self) -> Unavailable:
        # Jittered so that the clients that lost together do not come back together.
        retry_after_ms = int(BACKOFF_CAP_SECONDS * 1000 * (1 + self._jitter()))
        return Unavailable("the service is busy: retry shortly", retry_after_ms=retry_after_ms)


# -------------------------------------------------------------------------------------------------- errors


@contextmanager
def _aws_errors(operation: str) -> Iterator[None]:
    """Turn what boto3 raises into domain errors; the AWS details stay in the exception chain and the log."""
    try:
        yield
    except ClientError as exc:
        code = _error_code(exc)
        if code in _THROTTLING_ERRORS:
            raise Unavailable("the service is busy: retry shortly", retry_after_ms=THROTTLED_RETRY_AFTER_MS) from exc
        _log.error("DynamoDB %s failed: %s", operation, code)
        raise ChatError("storage error") from exc
    except BotoCoreError as exc:  # connection errors and timeouts, after botocore's retries
        raise Unavailable("the service is busy: retry shortly", retry_after_ms=THROTTLED_RETRY_AFTER_MS) from exc


def _sender_msg_id(sender_id: str, client_msg_id: str) -> str:
    """The idempotency key within a room: a clientMsgId is the sender's own, so another member reusing it can
    never get this sender's ack (or make their own content vanish)."""
    return f"{sender_id}#{client_msg_id}"


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _code(reason: Reason) -> str:
    return str(reason.get("Code", "None"))


def _three(reasons: list[Reason]) -> tuple[Reason, Reason, Reason]:
    room, message, idempotency = [*reasons, {}, {}, {}][:3]
    return room, message, idempotency


# -------------------------------------------------------------------------------------------------- codec


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


def _str_set(item: Mapping[str, Any], name: str) -> frozenset[str]:
    # DynamoDB has no empty set: deleting the last element removes the attribute.
    return frozenset(item[name]["SS"]) if name in item else frozenset()


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _connections_of(user_item: Mapping[str, Any]) -> frozenset[LiveConnection]:
    return frozenset(LiveConnection.decode(entry) for entry in _str_set(user_item, "connections"))


def _user_from(item: Mapping[str, Any]) -> User:
    return User(
        _str(item, "userId"),
        _opt_str(item, "name") or "",  # only between a first connect's two writes (see add_connection)
        _connections_of(item),
        _opt_str(item, "lastSeen"),
        _opt_str(item, "avatarUrl"),
    )


def _room_item(room: RoomRecord) -> Item:
    item: Item = {
        "roomId": _s(room.id),
        "isGroup": {"BOOL": room.is_group},
        "createdAt": _s(room.created_at),
        "lastSeq": _n(room.last_seq),
    }
    if room.name is not None:
        item["name"] = _s(room.name)
    if room.member_ids:
        item["memberIds"] = _ss(room.member_ids)
    return item


def _room_from(item: Mapping[str, Any]) -> RoomRecord:
    return RoomRecord(
        id=_str(item, "roomId"),
        name=_opt_str(item, "name"),
        is_group=bool(item["isGroup"]["BOOL"]),
        member_ids=_str_set(item, "memberIds"),
        created_at=_str(item, "createdAt"),
        last_seq=_int(item, "lastSeq"),
        last_message=_message_from(item["lastMessage"]["M"]) if "lastMessage" in item else None,
    )


def _message_attributes(message: Message) -> Item:
    """A message item, also the room's `lastMessage` map: the wire fields, replyToId only when set."""
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
    )
