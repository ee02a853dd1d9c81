"""DynamoDB tables: key schemas, indexes and TTL attributes, defined once.

The DynamoDB adapter, the CDK stack, the local stack and the tests all build their tables from `TABLES`.
Each table's physical name reaches the code through the environment variable `env_var` (see settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

KeyType = Literal["S", "N"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: Key
    sort_key: Key | None = None
    # The non-key attributes copied into the index (the index's and the table's keys always are): only what the
    # queries on it read, so that writing any other attribute of an item costs no index write.
    projected: tuple[str, ...] = ()

    @property
    def projection(self) -> dict[str, object]:
        """The index's `Projection`, as CreateTable and CloudFormation spell it."""
        if not self.projected:
            return {"ProjectionType": "KEYS_ONLY"}
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.projected)}


@dataclass(frozen=True)
class TableSpec:
    name: str  # logical name: the settings field is f"{name}_table"
    partition_key: Key
    sort_key: Key | None = None
    ttl_attribute: str | None = None
    indexes: tuple[Index, ...] = field(default_factory=tuple)
    # Items that mean nothing once the stack is gone (live connections, flood-control buckets): deleted with
    # it. Every other table is the chat's data, kept together when the stack is deleted (retainHistory): history
    # nobody can read again (no memberships, no names) is no history.
    ephemeral: bool = False
    # The table's stream (DynamoDB Streams' StreamViewType), for what must follow its writes off the request path.
    stream: Literal["NEW_IMAGE"] | None = None

    @property
    def env_var(self) -> str:
        return f"{self.name.upper()}_TABLE"


USERS_BY_NAME_INDEX = "byName"
# Every user item carries this constant so that one Query on `byName` lists users by name prefix (no Scan).
USER_DIRECTORY_PARTITION = "users"

CONNECTIONS = TableSpec("connections", Key("connectionId"), ttl_attribute="ttl", ephemeral=True)
USERS = TableSpec(
    "users",
    Key("userId"),
    # The name search reads ids and names only; presence (`connections`, `lastSeen`) comes from the table, so
    # that connects and disconnects never write to this single-partition index.
    indexes=(Index(USERS_BY_NAME_INDEX, Key("directory"), Key("nameKey"), projected=("name",)),),
)
# A room's static part: written when it is created and when its members change, never by a send.
ROOMS = TableSpec("rooms", Key("roomId"))
# A room's sequence counter and last-message preview: the one room item a send writes (small, fixed in size).
ROOM_COUNTERS = TableSpec("room_counters", Key("roomId"))
# Membership, both ways, written together: room -> members (the truth a send checks) and user -> rooms.
MEMBERS = TableSpec("members", Key("roomId"), Key("userId"))
MEMBERSHIPS = TableSpec("memberships", Key("userId"), Key("roomId"))
# Each room's live connections, kept on connect and disconnect: who to push to, read in proportion to who is online.
ROOM_CONNECTIONS = TableSpec(
    "room_connections", Key("roomId"), Key("connectionId"), ttl_attribute="ttl", ephemeral=True
)
# Its stream feeds the notifier (chat.notifications): every new message, after its commit, never in the send.
MESSAGES = TableSpec("messages", Key("roomId"), Key("seq", "N"), stream="NEW_IMAGE")
IDEMPOTENCY = TableSpec("idempotency", Key("roomId"), Key("senderMsgId"))
# Each room's change feed: change number -> the seq of the message it changed (edit, delete, reaction).
MESSAGE_CHANGES = TableSpec("message_changes", Key("roomId"), Key("version", "N"))
# A member's own reactions on one message ("{roomId}#{userId}", seq): whether the caller reacted, per message.
REACTIONS = TableSpec("reactions", Key("roomUser"), Key("seq", "N"))
# A user's devices for notifications while they have no live connection (Web Push subscriptions; app tokens).
PUSH_SUBSCRIPTIONS = TableSpec("push_subscriptions", Key("userId"), Key("endpointKey"))
RATE_LIMITS = TableSpec("rate_limits", Key("bucket"), ttl_attribute="ttl", ephemeral=True)

TABLES: tuple[TableSpec, ...] = (
    CONNECTIONS,
    USERS,
    ROOMS,
    ROOM_COUNTERS,
    MEMBERS,
    MEMBERSHIPS,
    ROOM_CONNECTIONS,
    MESSAGES,
    IDEMPOTENCY,
    MESSAGE_CHANGES,
    REACTIONS,
    PUSH_SUBSCRIPTIONS,
    RATE_LIMITS,
)


def create_table_kwargs(spec: TableSpec, table_name: str) -> dict[str, object]:
    """`CreateTable` arguments for `spec` (on-demand), for moto and the local stack."""
    keys = [spec.partition_key, *([spec.sort_key] if spec.sort_key else [])]
    attributes = {k.name: k.type for k in keys}
    indexes = []
    for index in spec.indexes:
        index_keys = [index.partition_key, *([index.sort_key] if index.sort_key else [])]
        attributes.update({k.name: k.type for k in index_keys})
        indexes.append(
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index_keys),
                "Projection": index.projection,
            }
        )
    kwargs: dict[str, object] = {
        "TableName": table_name,
        "KeySchema": _key_schema(keys),
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = indexes
    if spec.stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream}
    return kwargs


def _key_schema(keys: list[Key]) -> list[dict[str, str]]:
    return [{"AttributeName": k.name, "KeyType": kind} for k, kind in zip(keys, ("HASH", "RANGE"), strict=False)]
