"""SqsFanoutQueue: batches of 10 and 256 KiB, delays for retries, bounded resends of failed entries, never a
silent loss. A fake client for the failure paths, moto's SQS for the request shape."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from chat.errors import EnqueueFailed, Unavailable
from chat.ports import FanoutJob
from chat.sqs_queue import MAX_BATCH_BYTES, MAX_DELAY_SECONDS, SqsFanoutQueue, delay_seconds

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/chat-fanout"


def job(n: int = 0, *, attempt: int = 0, payload_bytes: int = 20) -> FanoutJob:
    return FanoutJob(room_id=f"room-{n}", payload="x" * payload_bytes, attempt=attempt, after_connection_id=str(n))


class FakeSqs:
    """Records each SendMessageBatch; `fail` answers the n-th call's entries with these (Id -> (code, sender))."""

    def __init__(self, fail: list[dict[str, tuple[str, bool]]] | None = None, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = fail or []
        self.error = error

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self.error is not None:
            raise self.error
        failing = self.fail[len(self.calls) - 1] if len(self.calls) <= len(self.fail) else {}
        entries = request["Entries"]
        assert len(entries) <= 10 and len({e["Id"] for e in entries}) == len(entries)
        assert sum(len(e["MessageBody"].encode()) for e in entries) <= MAX_BATCH_BYTES
        return {
            "Successful": [{"Id": e["Id"], "MessageId": f"m-{e['Id']}"} for e in entries if e["Id"] not in failing],
            "Failed": [
                {"Id": e["Id"], "Code": failing[e["Id"]][0], "SenderFault": failing[e["Id"]][1], "Message": "no"}
                for e in entries
                if e["Id"] in failing
            ],
        }


def queue(client: Any, **kwargs: Any) -> SqsFanoutQueue:
    return SqsFanoutQueue(client, QUEUE_URL, sleep=lambda _: None, **kwargs)


def sent_bodies(client: FakeSqs) -> list[str]:
    return [e["MessageBody"] for call in client.calls for e in call["Entries"]]


def test_jobs_go_ten_to_a_call_in_order_as_their_json() -> None:
    client = FakeSqs()
    jobs = [job(n) for n in range(23)]
    queue(client).enqueue(jobs)
    assert [len(call["Entries"]) for call in client.calls] == [10, 10, 3]
    assert {call["QueueUrl"] for call in client.calls} == {QUEUE_URL}
    assert [FanoutJob.from_json(b) for b in sent_bodies(client)] == jobs


def test_nothing_to_enqueue_makes_no_call() -> None:
    client = FakeSqs()
    queue(client).enqueue([])
    assert client.calls == []


def test_batches_are_cut_by_size_too() -> None:
    client = FakeSqs()
    jobs = [job(n, payload_bytes=100_000) for n in range(5)]  # two fit in 256 KiB, three do not
    queue(client).enqueue(jobs)
    assert [len(call["Entries"]) for call in client.calls] == [2, 2, 1]
    assert [FanoutJob.from_json(b) for b in sent_bodies(client)] == jobs


def test_sizes_are_counted_in_utf8_bytes_not_characters() -> None:
    big = FanoutJob(room_id="r", payload="😀" * 33_000)  # 132,000 bytes of UTF-8: two do not fit in 256 KiB
    client = FakeSqs()
    queue(client).enqueue([big, big, job()])
    assert [len(call["Entries"]) for call in client.calls] == [1, 2]


def test_a_job_over_the_limit_raises_before_anything_is_sent() -> None:
    client = FakeSqs()
    with pytest.raises(EnqueueFailed, match="bytes"):
        queue(client).enqueue([job(), job(payload_bytes=MAX_BATCH_BYTES)])
    assert client.calls == []


@pytest.mark.parametrize(("attempt", "delay"), [(0, None), (1, 2), (3, 8), (9, 512), (10, 900), (40, 900)])
def test_retries_wait_exponentially_up_to_sqs_maximum(attempt: int, delay: int | None) -> None:
    client = FakeSqs()
    queue(client).enqueue([job(attempt=attempt)])
    (entry,) = client.calls[0]["Entries"]
    assert entry.get("DelaySeconds") == delay
    assert delay_seconds(attempt) == (delay or 0) <= MAX_DELAY_SECONDS


def test_failed_entries_are_resent_alone_until_they_go() -> None:
    client = FakeSqs(fail=[{"1": ("InternalError", False), "3": ("ServiceUnavailable", False)}, {"3": ("X", False)}])
    jobs = [job(n) for n in range(5)]
    queue(client).enqueue(jobs)
    assert [[e["Id"] for e in call["Entries"]] for call in client.calls] == [
        ["0", "1", "2", "3", "4"],
        ["1", "3"],
        ["3"],
    ]
    assert FanoutJob.from_json(client.calls[2]["Entries"][0]["MessageBody"]) == jobs[3]


def test_entries_still_failing_after_the_bounded_resends_raise() -> None:
    always = {"0": ("InternalError", False)}
    client = FakeSqs(fail=[always] * 10)
    with pytest.raises(EnqueueFailed, match="InternalError") as raised:
        queue(client, max_resends=2).enqueue([job()])
    assert len(client.calls) == 3
    assert isinstance(raised.value, Unavailable) and raised.value.retry_after_ms


def test_a_sender_fault_is_not_resent_and_raises_at_once() -> None:
    client = FakeSqs(fail=[{"0": ("InvalidParameterValue", True)}])
    with pytest.raises(EnqueueFailed, match="InvalidParameterValue"):
        queue(client).enqueue([job(), job(1)])
    assert len(client.calls) == 1


def test_a_failed_batch_stops_the_later_ones() -> None:
    client = FakeSqs(fail=[{}, {"10": ("InvalidParameterValue", True)}])
    with pytest.raises(EnqueueFailed):
        queue(client).enqueue([job(n) for n in range(25)])
    assert len(client.calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "m"}}, "SendMessageBatch"),
        EndpointConnectionError(endpoint_url=QUEUE_URL),
    ],
)
def test_a_call_that_fails_raises_a_domain_error_without_the_bodies(error: Exception) -> None:
    client = FakeSqs(error=error)
    secret = FanoutJob(room_id="r", payload='{"content":"my secret"}')
    with pytest.raises(EnqueueFailed) as raised:
        queue(client).enqueue([secret])
    assert "secret" not in str(raised.value)
    assert raised.value.__cause__ is error


def test_against_moto_the_jobs_arrive_with_their_delays() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="chat-fanout")["QueueUrl"]
        jobs = [job(n, payload_bytes=60_000) for n in range(12)] + [job(99, attempt=1)]
        SqsFanoutQueue(sqs, url).enqueue(jobs)
        received: list[str] = []
        for _ in range(5):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            received += [m["Body"] for m in messages]
        # The retry is delayed by 2 s: not visible yet.
        assert sorted(json.loads(b)["roomId"] for b in received) == sorted(f"room-{n}" for n in range(12))
