"""The local fan-out queue: moto's SQS on the embedded server, and the poller acting as Lambda's SQS event source
mapping (the event it sends, deleting what succeeded, redelivering what failed, dead-lettering, stopping)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from chat.pushes import INLINE_PUSH_MAX_MEMBERS
from local.dynamodb import EmbeddedDynamoDB
from local.events import REGION
from local.functions import FunctionRunner, Invocation
from local.queue_poller import FanoutQueues, QueuePoller, create_fanout_queues, failed_message_ids, sqs_event
from local.stack import LocalStack, StackOptions
from tests.local.chat_client import StackProcess, User

Handler = Callable[[dict[str, Any], Any], Any]


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedDynamoDB]:
    with EmbeddedDynamoDB() as embedded:
        yield embedded


@pytest.fixture
def sqs(server: EmbeddedDynamoDB) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


_names = iter(range(1_000_000))


def queues(sqs: Any, *, max_receive_count: int = 3) -> FanoutQueues:
    return create_fanout_queues(
        sqs, f"fanout-test-{next(_names)}", visibility_timeout_seconds=1, max_receive_count=max_receive_count
    )


class Recorder:
    """A fake fan-out function: records every event; `fail(body, receive_count)` says which records to fail."""

    def __init__(self, fail: Callable[[str, int], bool] = lambda body, count: False) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.events.append(event)
        failures = [
            {"itemIdentifier": r["messageId"]}
            for r in event["Records"]
            if self.fail(r["body"], int(r["attributes"]["ApproximateReceiveCount"]))
        ]
        return {"batchItemFailures": failures}

    def bodies(self) -> list[str]:
        with self.lock:
            return [r["body"] for e in self.events for r in e["Records"]]


def poller(sqs: Any, q: FanoutQueues, handler: Handler, **options: Any) -> tuple[QueuePoller, FunctionRunner]:
    runner = FunctionRunner({"fanout": handler}, max_workers=4, timeout_seconds=5)
    # Batches of up to 10 (SQS's maximum), to exercise partial batch failures; the stack's is one job.
    options = {"batch_size": 10, **options}
    return QueuePoller(
        sqs, q, runner, "fanout", poll_interval_seconds=0.02, max_poll_interval_seconds=0.05, **options
    ), runner


def count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def send(sqs: Any, url: str, *bodies: str) -> None:
    for n in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[n : n + 10])]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def test_the_function_gets_lambdas_sqs_event_and_successes_are_deleted(sqs: Any) -> None:
    q = queues(sqs)
    recorder = Recorder()
    bodies = [json.dumps({"job": n}) for n in range(25)]
    send(sqs, q.url, *bodies)
    p, runner = poller(sqs, q, recorder)
    p.start()
    try:
        eventually(lambda: sorted(recorder.bodies()) == sorted(bodies))
        eventually(lambda: count(sqs, q.url) == 0)
    finally:
        p.stop()
        runner.close()
    assert all(len(e["Records"]) <= 10 for e in recorder.events)
    record = recorder.events[0]["Records"][0]
    assert set(record) == {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody", "eventSource",
        "eventSourceARN", "awsRegion",
    }  # fmt: skip
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == q.arn and record["awsRegion"] == REGION
    assert q.arn.startswith("arn:aws:sqs:") and q.arn.endswith(q.url.rsplit("/", 1)[1])
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} <= set(record["attributes"])
    assert count(sqs, q.dead_letter_url) == 0


def test_a_failed_record_comes_back_after_the_visibility_timeout_and_the_others_do_not(sqs: Any) -> None:
    q = queues(sqs)
    recorder = Recorder(fail=lambda body, receive_count: body == "flaky" and receive_count < 2)
    send(sqs, q.url, "ok-1", "flaky", "ok-2")
    p, runner = poller(sqs, q, recorder)
    p.start()
    try:
        eventually(lambda: recorder.bodies().count("flaky") == 2)
        eventually(lambda: count(sqs, q.url) == 0)
    finally:
        p.stop()
        runner.close()
    assert sorted(recorder.bodies()) == ["flaky", "flaky", "ok-1", "ok-2"]
    (second,) = [r for e in recorder.events[1:] for r in e["Records"]]
    assert second["attributes"]["ApproximateReceiveCount"] == "2"
    assert count(sqs, q.dead_letter_url) == 0


def test_a_record_that_keeps_failing_goes_to_the_dead_letter_queue_after_max_receive_count(sqs: Any) -> None:
    q = queues(sqs, max_receive_count=2)
    recorder = Recorder(fail=lambda body, receive_count: body == "poison")
    send(sqs, q.url, "poison", "fine")
    p, runner = poller(sqs, q, recorder)
    p.start()
    try:
        eventually(lambda: count(sqs, q.dead_letter_url) == 1)
        eventually(lambda: count(sqs, q.url) == 0)
    finally:
        p.stop()
        runner.close()
    assert recorder.bodies().count("poison") == 2, "received maxReceiveCount times, then dead-lettered"
    (dead,) = sqs.receive_message(QueueUrl=q.dead_letter_url)["Messages"]
    assert dead["Body"] == "poison"


def test_an_invocation_that_raises_fails_the_whole_batch(sqs: Any) -> None:
    q = queues(sqs)
    calls: list[int] = []

    def crashes_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return {"batchItemFailures": []}

    send(sqs, q.url, "a", "b", "c")
    p, runner = poller(sqs, q, crashes_once, threads=1)
    p.start()
    try:
        eventually(lambda: sum(calls) >= 6 and count(sqs, q.url) == 0)
    finally:
        p.stop()
        runner.close()
    assert sum(calls) == 6, "every record of the failed batch came back"


def test_lambda_rules_for_reading_the_response() -> None:
    ids = ["m1", "m2", "m3"]
    ok = Invocation("fanout", result={"batchItemFailures": [{"itemIdentifier": "m2"}]})
    assert failed_message_ids(ok, ids) == {"m2"}
    assert failed_message_ids(Invocation("fanout", result={"batchItemFailures": []}), ids) == set()
    assert failed_message_ids(Invocation("fanout", result=None), ids) == set()
    assert failed_message_ids(Invocation("fanout", result={}), ids) == set()
    for broken in (
        {"batchItemFailures": [{"itemIdentifier": "nope"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{}]},
        {"batchItemFailures": "m1"},
        ["m1"],
    ):
        assert failed_message_ids(Invocation("fanout", result=broken), ids) == set(ids), broken
    assert failed_message_ids(Invocation("fanout", error=RuntimeError()), ids) == set(ids)
    assert failed_message_ids(Invocation("fanout", timed_out=True), ids) == set(ids)


def test_the_event_carries_the_md5_of_the_body_and_the_received_attributes() -> None:
    message = {"MessageId": "m", "ReceiptHandle": "h", "Body": "hello", "Attributes": {"ApproximateReceiveCount": "3"}}
    (record,) = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:q")["Records"]
    assert record["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert record["attributes"]["ApproximateReceiveCount"] == "3"


def test_the_poller_stops_promptly_and_leaves_no_thread(sqs: Any) -> None:
    q = queues(sqs)
    p, runner = poller(sqs, q, Recorder(), threads=3)
    before = {t.name for t in threading.enumerate()}
    p.start()
    assert p.running
    started = time.monotonic()
    p.stop()
    runner.close()
    assert time.monotonic() - started < 2
    assert not p.running
    assert not [t for t in threading.enumerate() if t.name.startswith("sqs-poller") and t.name not in before]


def test_the_local_stack_creates_the_queues_and_polls_them_until_it_stops() -> None:
    asyncio.run(asyncio.wait_for(_local_stack_scenario(), 30))


async def _local_stack_scenario() -> None:
    recorder = Recorder()
    stack = LocalStack(StackOptions(port=0, fanout_visibility_timeout_seconds=1), handlers={"fanout": recorder})
    stack_with_queue = LocalStack(
        StackOptions(port=0, fanout_visibility_timeout_seconds=1),
        handlers={"fanout": recorder},
        embedded_dynamodb=True,
    )
    async with stack:
        assert stack.fanout_queues is None, "no embedded server, no queue"
    async with stack_with_queue:
        q = stack_with_queue.fanout_queues
        assert q is not None
        client = boto3.client(
            "sqs",
            endpoint_url=q.url.rsplit("/", 2)[0],  # http://127.0.0.1:port/{account}/{name}
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        attributes = client.get_queue_attributes(QueueUrl=q.url, AttributeNames=["All"])["Attributes"]
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": q.dead_letter_arn,
            "maxReceiveCount": 5,
        }
        send(client, q.url, "job")
        deadline = time.monotonic() + 10
        while recorder.bodies() != ["job"]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
    assert not [t for t in threading.enumerate() if t.name.startswith("sqs-poller")]


# ---------------------------------------------------------------------------------- the real stack, end to end


def test_a_big_rooms_push_reaches_every_member_online_through_the_queue(chat_stack: StackProcess) -> None:
    """A room above the inline threshold: the sender is acked at once, and every other connection of its members
    (the sender's other tab too) gets the message from the fan-out function, which the poller invokes."""

    async def scenario() -> None:
        alice, bob, carol = [await User.sign_in(chat_stack, name) for name in ("alice", "bob", "carol")]
        offline = [await User.sign_in(chat_stack, f"member{n}") for n in range(INLINE_PUSH_MAX_MEMBERS - 2)]
        a, a2, b, c = [await user.connect() for user in (alice, alice, bob, carol)]
        members = [bob.id, carol.id, *(u.id for u in offline)]
        created = await a.request({"action": "createRoom", "name": "everyone", "memberIds": members})
        room = created["room"]
        assert room["memberCount"] == INLINE_PUSH_MAX_MEMBERS + 1 > INLINE_PUSH_MAX_MEMBERS
        for client in (a2, b, c):  # the room itself was pushed through the queue
            assert (await client.expect(type="room", timeout=10))["room"]["id"] == room["id"]

        ack = await a.request(send_frame(room["id"], "hello everyone"))
        assert ack["type"] == "ack" and ack["message"]["seq"] == 1
        for client in (a2, b, c):
            pushed = (await client.expect(type="message", timeout=10))["message"]
            assert (pushed["id"], pushed["content"]) == (ack["message"]["id"], "hello everyone")
        await a.assert_no_frame(type="message")  # the sending connection got its ack instead
        assert re.search(r"fanout +records=\d+ failed=0", chat_stack.log()), "pushed by the fan-out function"
        for client in (a, a2, b, c):
            await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 90))


def send_frame(room_id: str, content: str) -> dict[str, Any]:
    return {"action": "sendMessage", "roomId": room_id, "content": content, "clientMsgId": str(uuid.uuid4())}
