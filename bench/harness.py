"""What the measuring benches share: the real handlers on moto, a metered DynamoDB, rooms of any size.

Rooms: the store's `create_room` with the first 100 members, the rest and the online members' connections written
in bulk with the adapter's own item codecs (`chat.dynamo.items`), and checked through the store's public reads
(see `Stack.create_room`: moto is far too slow for 10,000 `add_members` and `add_connection` calls). The members
who send, type and connect are connected through the `$connect` handler, before the room exists.

When the stack has a fan-out queue (a `*_queue_url` setting) and `functions/fanout/handler.py`, the queue is
created on moto and `drain()` runs the fan-out function on what the send path enqueued, as Lambda's SQS event
source would (one batch of up to 10 messages per invocation), so that its invocations, requests and posts count.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT), str(ROOT / "bench")]
# Read when chat.observability is first imported (Powertools' logger, metrics and tracer).
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_SERVICE_NAME="chat",
    POWERTOOLS_METRICS_NAMESPACE="chat-bench",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_LOG_LEVEL="ERROR",
)
warnings.simplefilter("ignore")

import boto3  # noqa: E402
from capacity import CapacityMeter  # noqa: E402
from connections_server import ConnectionsServer  # noqa: E402
from moto import mock_aws  # noqa: E402

from chat.dynamo import DynamoChatStore  # noqa: E402
from chat.dynamo.items import _member_item, _room_connection_item  # noqa: E402
from chat.dynamo.live import ROOM_CONNECTION_TTL_SLACK_SECONDS  # noqa: E402
from chat.ports import LiveConnection, RoomConnection, RoomRecord  # noqa: E402
from chat.pushes import FANOUT_JOBS_PER_INVOCATION  # noqa: E402
from chat.service import iso  # noqa: E402
from chat.settings import Settings, load_settings  # noqa: E402
from chat.tables import USER_DIRECTORY_PARTITION  # noqa: E402
from local.dynamodb import create_tables  # noqa: E402
from local.events import ConnectionInfo  # noqa: E402
from tests.integration.handler_harness import (  # noqa: E402
    TABLE_NAMES,
    Gateway,
    Session,
    chat_environment,
    reset_caches,
)
from tests.support.connections_api import ConnectionsApi  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FANOUT_HANDLER = ROOT / "functions" / "fanout" / "handler.py"


def fanout_queue_configured() -> bool:
    """Whether this build hands big rooms' pushes to a fan-out queue (a queue setting and the fan-out function)."""
    return any(name.endswith("queue_url") for name in Settings.model_fields) and FANOUT_HANDLER.is_file()


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def machine() -> dict[str, Any]:
    import platform

    return {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def fast_moto() -> None:
    """Bench only: moto's DynamoDB answers serialized with `json.dumps`.

    moto 5 serializes every answer by walking botocore's output shapes, ~3 ms per item: a BatchGetItem of 100 user
    items took 300 ms, and one message to a 10,000-member room over a minute. Its DynamoDB results are already in
    the wire format (attribute values as `{"S": ...}`), and the chat's items hold no binary, so `json.dumps` gives
    the same answer. Errors and every other service keep moto's serializer.
    """
    from moto.core.responses import ActionResult

    if getattr(ActionResult, "_bench_fast", False):
        return
    original = ActionResult.execute_result

    def execute_result(self: ActionResult, context: Any) -> Any:
        result = self.result
        if context.service_model.service_name == "dynamodb" and isinstance(result, dict):
            try:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(result)
            except TypeError:  # DescribeTable's dates and the like
                pass
        return original(self, context)

    ActionResult.execute_result = execute_result  # type: ignore[method-assign]
    ActionResult._bench_fast = True  # type: ignore[attr-defined]


class PostCounter:
    """Bench only: PostToConnection answered 200 in-process (no HTTP), counted per connection, for the benches
    that count posts and do not time them."""

    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        connection_id = unquote(request.url.rsplit("/@connections/", 1)[-1])
        with self._lock:
            self.posts[connection_id] += 1
        return AWSResponse(request.url, 200, {}, _EmptyRaw())


class _EmptyRaw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""

    def read(self, *_: Any) -> bytes:
        return b""


class CountingGateway(Gateway):
    """The handler harness's API Gateway, counting Lambda invocations per function."""

    def __init__(self, api: ConnectionsApi) -> None:
        super().__init__(api)
        self.invocations: Counter[str] = Counter()

    def handler(self, function: str) -> Any:
        handle = super().handler(function)

        def counted(event: dict[str, Any], context: Any) -> Any:
            self.invocations[function] += 1
            return handle(event, context)

        return counted


class Stack:
    """The handlers on moto with a metered DynamoDB and a stand-in Management API, for one scenario."""

    def __init__(
        self, meter: CapacityMeter, *, http_posts: bool = False, post_delay_seconds: float = 0.0, **environment: str
    ) -> None:
        """`http_posts`: posts go to the stand-in Management API over HTTP (timed, `post_delay_seconds` each);
        otherwise they are answered in-process and only counted."""
        fast_moto()
        self.meter = meter
        # Timed posts go to the stand-in API in a process of its own (bench/connections_server.py), so that its
        # request handling does not share this process's GIL with the posting threads.
        self.server = ConnectionsServer(post_delay_seconds) if http_posts else None
        self.api = ConnectionsApi()
        self.counter = None if http_posts else PostCounter()
        env = chat_environment(
            self.server.url if self.server else self.api.url, RATE_LIMIT_FRAMES="1000000", POWERTOOLS_LOG_LEVEL="ERROR"
        )
        env.update(environment)
        os.environ.update(env)
        reset_caches()
        self._mock = mock_aws()
        self._mock.start()  # moto starts a new default boto3 session: hook it before any client is made
        events = boto3._get_default_session().events
        meter.attach(events)
        events.register("after-call.sqs", _count_sqs, unique_id="bench-sqs-requests")
        if self.counter is not None:
            events.register("before-send.apigatewaymanagementapi", self.counter, unique_id=f"bench-posts-{id(self)}")
        self.meter.shadow = boto3.session.Session().client("dynamodb")
        self.meter.forget_tables()
        create_tables(boto3.client("dynamodb"), TABLE_NAMES)
        self.queue_url = self._create_queue()
        # When each fan-out job was queued, and when each fan-out invocation ran (time.monotonic()): see `jobs`.
        self.enqueued_at: list[float] = []
        self.invocations: list[tuple[float, float]] = []
        if self.queue_url is not None:
            self._record_enqueues()
        self.settings: Settings = load_settings()
        self.store = DynamoChatStore(boto3.client("dynamodb"), self.settings)
        self.gateway = CountingGateway(self.api)
        self.rooms: dict[str, set[str]] = {}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            from chat.lambda_app import close_service

            close_service()
        if self.queue_url is not None:
            self._restore_enqueue()
        self._mock.stop()
        if self.server is not None:
            self.server.stop()
        reset_caches()

    # ------------------------------------------------------------------------------------- fan-out queue

    def _create_queue(self) -> str | None:
        queue_settings = [name for name in Settings.model_fields if name.endswith("queue_url")]
        if not queue_settings or not FANOUT_HANDLER.is_file():
            return None
        field = Settings.model_fields[queue_settings[0]]
        url = str(boto3.client("sqs").create_queue(QueueName="bench-fanout")["QueueUrl"])
        os.environ[str(field.alias or queue_settings[0].upper())] = url
        reset_caches()
        return url

    def _record_enqueues(self) -> None:
        from chat.sqs_queue import SqsFanoutQueue

        enqueue = SqsFanoutQueue.enqueue
        enqueued_at = self.enqueued_at

        def recorded(queue: Any, jobs: Any) -> None:
            enqueue(queue, jobs)
            enqueued_at.append(time.monotonic())

        SqsFanoutQueue.enqueue = recorded  # type: ignore[method-assign]
        self._restore_enqueue = lambda: setattr(SqsFanoutQueue, "enqueue", enqueue)

    def parallel_finish(
        self, since: float, instances: int, hop_seconds: float, read_seconds: float | None = None
    ) -> float:
        """Seconds from `since` until the last fan-out job would be done were the jobs run as Lambda runs them, up
        to `instances` at once, instead of one after another in this process: each job (as long as it took here)
        starts `hop_seconds` after the job before it queued it, or when an instance is free. The first job is the
        one the send queued. Only for one chain of page jobs (no retries).

        A job reads its page of the index, queues the next page's job, then posts. With `read_seconds`, that read
        (the time from a job's start to its queueing the next) takes `read_seconds` instead of moto's time (moto
        reads a page of 1,000 out of 10,000 entries in over a second; DynamoDB in tens of milliseconds)."""
        if not self.invocations:
            return 0.0
        queued = [t for t in self.enqueued_at if t >= since]
        jobs = []  # (read, the rest) per job, as measured
        for start, end in self.invocations:
            successor = next((t for t in queued if start <= t <= end), None)
            jobs.append((None if successor is None else successor - start, end - start))
        reads = [read for read, _ in jobs if read is not None]
        typical_read = sum(reads) / len(reads) if reads else 0.0
        free = [0.0] * instances
        available = queued[0] - since + hop_seconds
        finish = 0.0
        for read, duration in jobs:
            measured_read = typical_read if read is None else read
            read_time = measured_read if read_seconds is None else read_seconds
            duration = duration - measured_read + read_time
            slot = min(range(instances), key=free.__getitem__)
            projected_start = max(available, free[slot])
            free[slot] = projected_start + duration
            finish = max(finish, free[slot])
            available = projected_start + read_time + hop_seconds
        return finish

    def drain(self) -> int:
        """Run the fan-out function on everything queued (including what it enqueues); its invocations."""
        if self.queue_url is None:
            return 0
        sqs = boto3.client("sqs")
        handler = self.gateway.handler("fanout")
        invocations = 0
        while True:
            batch = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=FANOUT_JOBS_PER_INVOCATION, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return invocations
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                }
                for m in batch
            ]
            from local.events import LambdaContext

            started = time.monotonic()
            with contextlib.redirect_stdout(io.StringIO()):
                handler({"Records": records}, LambdaContext("fanout"))
            self.invocations.append((started, time.monotonic()))
            invocations += 1
            # Lambda's event source deletes a batch the function returned without failures.
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )

    # ---------------------------------------------------------------------------------------------- rooms

    def user_ids(self, count: int) -> list[str]:
        return [f"user-{i:05d}" for i in range(count)]

    def connect(self, user_id: str) -> Session:
        """A connection through the `$connect` handler."""
        with contextlib.redirect_stdout(io.StringIO()):
            return self.gateway.connect(f"Name {user_id}", user_id=user_id)

    # Big rooms are populated by batch writes of the adapter's own items (`chat.dynamo.items`: `_member_item`,
    # `_room_connection_item`), then checked through the store's public reads (`get_room`, `room_connections`,
    # `get_users`): moto takes ~30 ms per UpdateItem (expression parsing) and copies every table on each
    # transaction, so 10,000 members through `add_members` and `add_connection` would take most of an hour.

    def _batch_put(self, table: str, items: list[dict[str, Any]]) -> None:
        client = self.meter.shadow  # unhooked: never metered
        for start in range(0, len(items), 25):
            request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    def _user_item(self, user_id: str, connections: list[str]) -> dict[str, Any]:
        name = f"Name {user_id}"
        item: dict[str, Any] = {
            "userId": {"S": user_id},
            "name": {"S": name},
            "nameKey": {"S": name.lower()},
            "directory": {"S": USER_DIRECTORY_PARTITION},
        }
        if connections:
            item["connections"] = {"SS": connections}
        return item

    def register_users(self, user_ids: list[str]) -> None:
        self._batch_put(self.settings.users_table, [self._user_item(u, []) for u in user_ids])

    def create_room(self, owner: str, members: list[str]) -> str:
        """A group room of `members` (owner first): the store's `create_room` with the first 100, the rest
        written in bulk as `add_members` writes them (member items both ways, then the room's count)."""
        room_id = str(uuid.uuid4())
        now = iso(time.time())
        first, rest = members[:100], members[100:]
        self.store.create_room(RoomRecord(room_id, "bench", True, now), first)
        items = [_member_item(room_id, u, now) for u in rest]
        self._batch_put(self.settings.members_table, items)
        self._batch_put(self.settings.memberships_table, items)
        if rest:
            self.meter.shadow.update_item(
                TableName=self.settings.rooms_table,
                Key={"roomId": {"S": room_id}},
                UpdateExpression="SET memberCount = :n ADD version :one",
                ExpressionAttributeValues={":n": {"N": str(len(members))}, ":one": {"N": "1"}},
            )
        room = self.store.get_room(room_id)
        assert room is not None and room.member_count == len(members), "the room does not count every member"
        self.rooms[room_id] = set(members)
        return room_id

    def go_online(self, user_ids: list[str]) -> None:
        """One live connection each (users registered by `register_users`, not yet online), in the connection
        table, the user item and the live-connection index of each of their rooms."""
        now = int(time.time())
        connections = {
            u: LiveConnection(ConnectionInfo().connection_id, now + self.settings.connection_lifetime_seconds)
            for u in user_ids
        }
        self._batch_put(
            self.settings.connections_table,
            [
                {
                    "connectionId": {"S": c.connection_id},
                    "userId": {"S": u},
                    "connectedAt": {"S": iso(now)},
                    "expiresAt": {"N": str(c.expires_at)},
                    "ttl": {"N": str(c.expires_at + 3600)},
                }
                for u, c in connections.items()
            ],
        )
        self._batch_put(self.settings.users_table, [self._user_item(u, [c.encode()]) for u, c in connections.items()])
        for room_id, members in self.rooms.items():
            self._batch_put(
                self.settings.room_connections_table,
                [
                    _room_connection_item(room_id, RoomConnection(u, c), ROOM_CONNECTION_TTL_SLACK_SECONDS)
                    for u, c in connections.items()
                    if u in members
                ],
            )
        sample = self.store.get_users(user_ids[:100])
        assert all(user.is_online(now) for user in sample.values()), "a member registered online is not"

    def online_in(self, room_id: str) -> int:
        """The room's live-connection index, through the store."""
        return len(self.store.room_connections(room_id).connections)

    def posts(self) -> int:
        if self.server is not None:
            return self.server.posts()
        return sum(self.counter.posts.values()) if self.counter is not None else 0

    def last_post_at(self) -> float:
        """`time.monotonic()` of the latest post the stand-in API answered (timed posts only)."""
        return float(self.server.stats()["last_post_at"]) if self.server is not None else 0.0


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The handlers' metrics (EMF) go to stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def new_meter() -> CapacityMeter:
    """One meter per process; each `Stack` hooks it on the default boto3 session it runs on."""
    return CapacityMeter(shadow=None)


SQS_REQUESTS: Counter[str] = Counter()  # the fan-out queue's sends, and the event source's receives and deletes


def _count_sqs(model: Any, parsed: Any = None, **_: Any) -> None:
    # An empty receive is the poller's, whether or not anyone chats (Lambda's pollers: a few a minute per
    # poller, billed, but not per message): only a receive that brought jobs counts towards a message.
    if model.name == "ReceiveMessage" and not (parsed or {}).get("Messages"):
        return
    SQS_REQUESTS[model.name] += 1
