"""Users: profiles, live connections and presence (the `connections` and `users` tables).

A user's live connections are a String Set on the user item, so presence is one item per user: a connect adds
an entry, a disconnect removes it and sets `lastSeen`. Who in a room is online is the room's live-connection
index instead (`chat.dynamo.live`), so that a push never reads every member.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chat.dynamo.base import DynamoTables, aws_errors, error_code, log
from chat.dynamo.items import (
    Item,
    _connections_of,
    _int,
    _iso,
    _n,
    _names,
    _s,
    _ss,
    _str,
    _user_from,
)
from chat.errors import NotFound
from chat.ports import Identity, LiveConnection, PresenceChange, User, UserKey
from chat.tables import USER_DIRECTORY_PARTITION, USERS_BY_NAME_INDEX

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

# Connection items outlive the connection's hard lifetime a little: a late $disconnect still finds them.
CONNECTION_TTL_SLACK_SECONDS = 3600


class UserStore:
    """Profiles, connections and presence; the user directory (`byName` index)."""

    def __init__(self, db: DynamoTables) -> None:
        self._db = db
        self._client = db.client
        self._users = db.users
        self._connections = db.connections

    # ----------------------------------------------------------------------------------------------- profiles

    def register_user(self, user_id: str, name: str) -> None:
        self._profile_named(user_id, name)

    def _profile_named(self, user_id: str, name: str) -> Item:
        """The user's profile, named `name` unless it already has a name: the user item as it now is."""
        with aws_errors("register_user"):
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
        # Only removing the avatar uses no value, and DynamoDB refuses an empty ExpressionAttributeValues.
        optional: dict[str, Any] = {"ExpressionAttributeValues": values} if values else {}
        with aws_errors("update_profile"):
            try:
                attributes = self._client.update_item(
                    TableName=self._users,
                    Key={"userId": _s(user_id)},
                    UpdateExpression=expression,
                    ConditionExpression="attribute_exists(#userId)",
                    ExpressionAttributeNames=names,
                    ReturnValues="ALL_NEW",
                    **optional,
                )["Attributes"]
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                raise NotFound("connect before changing your profile") from exc
        return _user_from(attributes)

    # ------------------------------------------------------------------------------ connections and presence

    def add_connection(
        self, connection: LiveConnection, identity: Identity, connected_at: str, now: float
    ) -> PresenceChange:
        with aws_errors("add_connection"):
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
            log.warning("could not drop expired connection entries", exc_info=True)
            return False
        return True

    def remove_connection(self, connection_id: str, now: float, last_seen: str) -> PresenceChange | None:
        with aws_errors("remove_connection"):
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
                if error_code(exc) != "ConditionalCheckFailedException":
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
            with aws_errors("forget_connections"):
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
                    if error_code(exc) != "ConditionalCheckFailedException":
                        raise
                    continue
                before = _connections_of(old)
                now = self._db.clock()
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
        users = (_user_from(item) for item in self._db.batch_get(self._users, keys, "get_users"))
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
        with aws_errors("find_users"):
            items = self._client.query(**request)["Items"]
        user_ids = [_str(item, "userId") for item in items]
        users = self.get_users(user_ids)
        return [users[user_id] for user_id in user_ids if user_id in users]
