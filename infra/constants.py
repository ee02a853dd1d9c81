"""Fixed choices of the deployment, each with its reason. What a deployer may change lives in config.py."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, aws_lambda, aws_logs

from chat.notifications import NOTIFY_BATCHING_WINDOW_SECONDS
from chat.pushes import FANOUT_JOBS_PER_INVOCATION

STACK_NAME = "ServerlessChat"
SERVICE_NAME = "chat"
METRICS_NAMESPACE = "ServerlessChat"

# Newest Python runtime for which pydantic-core and cryptography publish manylinux aarch64 wheels.
RUNTIME = aws_lambda.Runtime.PYTHON_3_14
# Graviton: about 20% cheaper per GB-second than x86, and every dependency ships aarch64 wheels.
ARCHITECTURE = aws_lambda.Architecture.ARM_64
PYTHON_VERSION = RUNTIME.name.removeprefix("python")
PIP_PLATFORM = "manylinux2014_aarch64"
WHEEL_MACHINE = "aarch64"

HANDLER = "handler.lambda_handler"
STAGE_NAME = "live"
LOG_RETENTION = aws_logs.RetentionDays.ONE_MONTH


@dataclass(frozen=True)
class Throttle:
    rate_per_second: int
    burst: int


# API Gateway gives every route of the stage a token bucket of its own (the stage default unless the route has
# its own), and all of them draw on the account's budget (10,000 requests per second per Region, across every
# API), the account's Lambda concurrency and DynamoDB. A flooding client is refused by the chat's own per-user
# limit (chat.flood), but each refused frame still costs an invocation and a write: the frames that are cheap to
# repeat get smaller buckets than the stage default, so that a flood of them (from one user or many) cannot take
# what `$connect`, `$disconnect` and `ping` (the stage default) need to keep everyone connected.
STAGE_THROTTLE = Throttle(rate_per_second=500, burst=1000)  # $connect: the account's 500 new connections a second
ROUTE_THROTTLES: dict[str, Throttle] = {
    "sendMessage": Throttle(200, 400),
    # Best-effort and pushed to every member online: the cheapest frame to flood with.
    "typing": Throttle(100, 200),
    # Catch-up after a reconnect: one or a few pages per client.
    "history": Throttle(100, 200),
    # Once per (re)connect and client.
    "listRooms": Throttle(50, 100),
    "presence": Throttle(50, 100),
    # Rare actions, each a transaction or a Query on the single-partition name index.
    "createRoom": Throttle(20, 40),
    "openDirect": Throttle(20, 40),
    "addMembers": Throttle(20, 40),
    "leaveRoom": Throttle(20, 40),
    "listUsers": Throttle(20, 40),
    # Unknown actions, only ever answered `bad_request`.
    "$default": Throttle(10, 20),
}


@dataclass(frozen=True)
class Sizing:
    memory_mb: int
    timeout: Duration


# Opt-in (`-c reservedConcurrency=true`): Lambda concurrency set aside for each function, which is also its
# ceiling, so that a flood on one route (or a slow DynamoDB stretching every invocation) cannot take the
# account's concurrency from the others. About the route's requests per second times its duration, with room
# for cold starts. Lambda keeps 100 unreserved: the account needs a concurrency quota of at least
# sum(RESERVED_CONCURRENCY) + 100 (new accounts may have only 10; the deployment fails below it).
# `sign_up` runs at Cognito's sign-up pace and stays in the unreserved pool.
RESERVED_CONCURRENCY: dict[str, int] = {
    "authorizer": 50,  # 500 new connections a second at about 0.1 s
    "connect": 50,
    "disconnect": 50,
    "send_message": 100,  # 200 a second at up to 0.5 s with its fan-out
    "typing": 10,
    "history": 20,
    "rooms": 50,  # ping keeps connections alive
    "fanout": 10,  # as many as its event source mapping's FANOUT_MAX_CONCURRENCY
    "notify": 10,  # one invocation per shard of the messages stream at a time
}

# Lambda CPU grows with memory: 512 MB keeps the cold start (pydantic, PyJWT, Powertools) near 1 s.
# API Gateway stops waiting for an integration after 29 s, so no route needs a longer timeout.
SIZING: dict[str, Sizing] = {
    # RS256 check plus a JWKS fetch on a cold start; API Gateway holds the upgrade meanwhile.
    "authorizer": Sizing(512, Duration.seconds(10)),
    # One UpdateItem, once per user; Cognito waits for it during sign-up (its trigger timeout is 5 s).
    "sign_up": Sizing(512, Duration.seconds(5)),
    # A few DynamoDB writes and a presence push to the user's rooms.
    "connect": Sizing(512, Duration.seconds(10)),
    "disconnect": Sizing(512, Duration.seconds(10)),
    # One transaction, then a fan-out by a thread pool: more memory buys more CPU and network for the pool.
    "send_message": Sizing(1024, Duration.seconds(29)),
    "typing": Sizing(512, Duration.seconds(10)),
    # One Query of at most 100 messages.
    "history": Sizing(512, Duration.seconds(10)),
    # Room changes push the room to its members.
    "rooms": Sizing(512, Duration.seconds(15)),
    # One job (a page of up to 1,000 of a big room's connections) an invocation, posted by a thread pool like
    # send_message's. Posting is CPU-bound (about 2 ms a post): 1,769 MB is one full vCPU, a page in about 2 s.
    # The queue's visibility timeout is six times this (infra/fanout.py).
    "fanout": Sizing(1769, Duration.seconds(20)),
    # A batch of new messages: the rooms' members read page by page, then one POST per device to its push service
    # (5 s each at most), one after another.
    "notify": Sizing(512, Duration.seconds(29)),
}

# The fan-out queue's event source mapping (infra/fanout.py).
FANOUT_BATCH_SIZE = FANOUT_JOBS_PER_INVOCATION
# No batching window: a job enqueues its room's next page before it posts, so pages follow one another through
# the queue, and a window would add its wait to every page of a big room.
FANOUT_MAX_BATCHING_WINDOW = Duration.seconds(0)
# Concurrent invocations at most: each posts FANOUT_CONCURRENCY (32) at a time, and every post draws on the
# account's API Gateway budget (10,000 requests per second per Region) that the routes need too.
FANOUT_MAX_CONCURRENCY = 10
# Deliveries of a job before it goes to the dead-letter queue (its alarm fires).
FANOUT_MAX_RECEIVE_COUNT = 5
# A push older than a day is long superseded: clients have caught up with `history afterSeq`.
FANOUT_RETENTION = Duration.days(1)

# The messages stream's event source mapping (infra/notifications.py; chat.notifications says why). A batch that
# failed is retried (halved each time) NOTIFY_RETRY_ATTEMPTS times, then skipped: its notifications are lost, the
# messages are not (members read them when they come back).
NOTIFY_MAX_BATCHING_WINDOW = Duration.seconds(NOTIFY_BATCHING_WINDOW_SECONDS)
