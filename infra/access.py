"""Least privilege, as data: the exact DynamoDB actions each function calls on each table or index, which
functions post to connections, and which send to or consume the fan-out queue.

The functions construct turns this into IAM policies. tests/infra/test_parity.py runs every handler under moto
through every path (parity_scenario.py) and checks both ways: every call is granted, and every grant is called.
A transaction needs the per-item action (PutItem, UpdateItem, DeleteItem, ConditionCheckItem) on each table it
touches; BatchGetItem is an action of its own, and a Query on an index needs it on the index's ARN, not the
table's.
"""

from __future__ import annotations

from chat.routes import AUTHORIZER_FUNCTION, FANOUT_FUNCTION, FUNCTIONS, NOTIFY_FUNCTION, SIGN_UP_FUNCTION
from chat.tables import TABLES, USERS_BY_NAME_INDEX

Actions = tuple[str, ...]

GET, BATCH_GET, QUERY = "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"
PUT, UPDATE, DELETE = "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
BATCH_WRITE = "dynamodb:BatchWriteItem"


def index(table: str, index_name: str) -> str:
    """An index as a resource of TABLE_ACCESS (its ARN is the table's plus `/index/{name}`)."""
    return f"{table}/index/{index_name}"


USERS_BY_NAME = index("users", USERS_BY_NAME_INDEX)

# Every function that pushes reads the room's live connections (QUERY on `room_connections`) and forgets the ones
# found gone (410): DELETE on `connections`, UPDATE on `users`, BATCH_WRITE on `room_connections`. Every member
# action reads the room, its counter, the member item and the profile in one BATCH_GET. Every frame route but
# `ping` counts the frame in `rate_limits`: UPDATE, and GET when a failed condition comes back without the bucket
# (it expired between the two writes); a big room's typing slot is an UPDATE there too.
MEMBER_VIEW: dict[str, Actions] = {table: (BATCH_GET,) for table in ("rooms", "room_counters", "members", "users")}
PUSH: dict[str, Actions] = {
    "room_connections": (QUERY, BATCH_WRITE),
    "connections": (DELETE,),
    "users": (UPDATE,),
}
FRAME: dict[str, Actions] = {"rate_limits": (UPDATE, GET)}


def merged(*parts: dict[str, Actions]) -> dict[str, Actions]:
    """The union of the parts' actions on each resource."""
    access: dict[str, Actions] = {}
    for part in parts:
        for resource, actions in part.items():
            access[resource] = tuple(dict.fromkeys((*access.get(resource, ()), *actions)))
    return access


TABLE_ACCESS: dict[str, dict[str, Actions]] = {
    # Verifies the token against the issuer's JWKS over HTTPS: no AWS rights.
    AUTHORIZER_FUNCTION: {},
    # Cognito's post-confirmation trigger: the profile with the name chosen at sign-up.
    SIGN_UP_FUNCTION: {"users": (UPDATE,)},
    "connect": merged(
        PUSH,
        {
            "connections": (PUT, DELETE),  # the new connection
            "memberships": (QUERY,),  # the user's rooms, to enter the connection into their index
            "rooms": (BATCH_GET,),  # their sizes: presence goes to small rooms only
        },
    ),
    "disconnect": merged(PUSH, {"memberships": (QUERY,), "rooms": (BATCH_GET,)}),
    "send_message": merged(
        FRAME,
        MEMBER_VIEW,
        PUSH,
        {
            "room_counters": (UPDATE,),  # the message's transaction moves lastSeq; a change's, lastVersion
            # GET: the message stored before under a retried clientMsgId; BATCH_GET: a reply's parent, a change's
            # read of the message; PUT: a new message, a changed one.
            "messages": (PUT, GET, BATCH_GET),
            "idempotency": (PUT, GET),  # GET: when the failed transaction did not return the taken key
            "members": (GET,),  # an edit's or a reaction's membership check
            "message_changes": (PUT,),  # a change's entry in the room's feed
            "reactions": (BATCH_GET, PUT, DELETE),  # the reactor's own item, read with the message, then written
        },
    ),
    "typing": merged(FRAME, MEMBER_VIEW, PUSH),
    "history": merged(
        FRAME,
        {
            "members": (GET,),  # membership
            "messages": (QUERY, BATCH_GET),  # a page; a page's reply parents, getMessage, the feed's messages
            "message_changes": (QUERY,),  # the change feed
            "reactions": (BATCH_GET,),  # the caller's own reactions on a page
            # sync: the caller's rooms with their read markers (one Query), the asked rooms' counters (one batch)
            "memberships": (QUERY,),
            "room_counters": (BATCH_GET,),
        },
    ),
    "rooms": merged(
        FRAME,
        MEMBER_VIEW,
        PUSH,
        {
            "rooms": (GET, PUT, UPDATE),  # a room; created, joined or left in a transaction
            # Created with the room; listRooms reads it (BATCH_GET); markRead reads lastSeq (GET).
            "room_counters": (PUT, GET),
            # Joined or left in the room's transaction (a check of the adder); presence: the caller, then a page.
            "members": (GET, PUT, DELETE, "dynamodb:ConditionCheckItem", QUERY),
            # markRead moves the marker (UPDATE); presence reads the page's markers (BATCH_GET).
            "memberships": (PUT, DELETE, QUERY, UPDATE, BATCH_GET),
            "users": (GET,),  # a leaver's connections, out of the room's index
            USERS_BY_NAME: (QUERY,),  # listUsers
            # A device registered (then the user's devices, the oldest past the limit deleted) or unregistered.
            "push_subscriptions": (PUT, QUERY, DELETE),
        },
    ),
    # The fan-out queue's consumer: a page of the room's live connections (or the connections of a retry), posted
    # to; the ones found gone are forgotten.
    FANOUT_FUNCTION: merged(PUSH),
    # New messages from the stream: the rooms (names, kinds), their members page by page, the members' profiles
    # (online? previews?) and memberships (muted? read that far?), their devices; a device found gone is deleted.
    NOTIFY_FUNCTION: {
        "rooms": (BATCH_GET,),
        "members": (QUERY,),
        "users": (BATCH_GET,),
        "memberships": (BATCH_GET,),
        "push_subscriptions": (QUERY, DELETE),
    },
}

# Functions that post frames to connections through the API Gateway Management API (POST only: no handler
# reads a connection or closes one).
POSTS_TO_CONNECTIONS: frozenset[str] = frozenset(
    {"connect", "disconnect", "send_message", "typing", "rooms", FANOUT_FUNCTION}
)

# The fan-out queue (chat.sqs_queue): who hands it jobs (a big room's message, typing or room change; the fan-out
# function itself, a room's next page and its retries), with SendMessage, which also allows SendMessageBatch (SQS
# has no right of its own for it). Who consumes it: the fan-out function's role is what its event source mapping
# polls with, and Lambda's poller needs exactly these three (AWSLambdaSQSQueueExecutionRole).
SQS_SEND: Actions = ("sqs:SendMessage",)
SQS_CONSUME: Actions = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
SENDS_FANOUT_JOBS: frozenset[str] = frozenset({"send_message", "typing", "rooms", FANOUT_FUNCTION})
CONSUMES_FANOUT_JOBS: frozenset[str] = frozenset({FANOUT_FUNCTION})

# The messages table's stream: read by the notifier's event source mapping, with its role (the four actions
# Lambda's poller needs on a DynamoDB stream).
STREAM_CONSUME: Actions = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
CONSUMES_MESSAGE_STREAM: frozenset[str] = frozenset({NOTIFY_FUNCTION})
# The VAPID secret (Secrets Manager): the notifier signs pushes with it; `rooms` answers `getSettings` with its
# public half.
READS_VAPID_SECRET: frozenset[str] = frozenset({NOTIFY_FUNCTION, "rooms"})

assert set(TABLE_ACCESS) == set(FUNCTIONS), "every function needs an entry, even an empty one"
assert set(FUNCTIONS) >= SENDS_FANOUT_JOBS | CONSUMES_FANOUT_JOBS
assert {resource for access in TABLE_ACCESS.values() for resource in access} <= {
    *(spec.name for spec in TABLES),
    *(index(spec.name, i.name) for spec in TABLES for i in spec.indexes),
}, "a resource is a table of chat.tables, or one of its indexes"
