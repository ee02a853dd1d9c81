"""The fan-out queue locally: moto's SQS on the embedded server, and a poller that does what Lambda's SQS event
source mapping does on AWS.

Each poller thread receives up to 10 messages, invokes the function through the `FunctionRunner` with the event
Lambda sends (`Records` with `messageId`, `receiptHandle`, `body`, `attributes`, `eventSource: aws:sqs`, …), and
reads its `batchItemFailures` as Lambda does with ReportBatchItemFailures: the records it names stay in the queue
and come back after the visibility timeout; the others are deleted. An invocation that raises or times out, or a
response naming a record that was not in the batch, fails the whole batch. After `maxReceiveCount` receives the
queue's redrive policy moves a message to the dead-letter queue (moto does this on the next receive, as SQS does).

moto is not thread-safe, so every SQS request goes through the embedded server, which serializes requests with one
lock. That is also why the poller does not long-poll: a `WaitTimeSeconds` receive would hold the lock, and every
DynamoDB request with it, for its whole wait. It polls without waiting and sleeps between empty polls instead
(`poll_interval_seconds`, doubling up to `max_poll_interval_seconds` while the queue stays empty, back to the
minimum after a batch), on an event that `stop()` sets: every loop is bounded and ends promptly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from chat.pushes import FANOUT_JOBS_PER_INVOCATION
from local.console import FrameLog
from local.events import ACCOUNT_ID, REGION
from local.functions import FunctionRunner, Invocation

log = logging.getLogger("local.queue_poller")


@dataclass(frozen=True)
class FanoutQueues:
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str


def create_fanout_queues(
    sqs: Any, name: str, *, visibility_timeout_seconds: int, max_receive_count: int
) -> FanoutQueues:
    """The queue and its dead-letter queue, with the redrive policy the stack gives them on AWS (infra/fanout.py)."""
    dead_letter_url = sqs.create_queue(
        QueueName=f"{name}-dead-letters", Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
    )["QueueUrl"]
    dead_letter_arn = _arn(sqs, dead_letter_url)
    redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(max_receive_count)}
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": str(visibility_timeout_seconds), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return FanoutQueues(url, _arn(sqs, url), dead_letter_url, dead_letter_arn)


def _arn(sqs: Any, queue_url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping invokes the function with."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "0",
                    "SenderId": ACCOUNT_ID,
                    "ApproximateFirstReceiveTimestamp": "0",
                    **message.get("Attributes", {}),
                },
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_message_ids(invocation: Invocation, message_ids: list[str]) -> set[str]:
    """The records to leave in the queue, as Lambda reads a ReportBatchItemFailures response: the whole batch when
    the invocation failed or the response is not understood, else the ones listed."""
    everything = set(message_ids)
    if invocation.failed:
        return everything
    result = invocation.result
    if result is None:
        return set()
    if not isinstance(result, dict):
        return everything
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    named = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything  # Lambda: an empty, null or unknown identifier fails the whole batch
        named.add(identifier)
    return named


class QueuePoller:
    """`threads` pollers of `queue_url`, each invoking `function` with one batch at a time, until `stop()`."""

    def __init__(
        self,
        sqs: Any,
        queues: FanoutQueues,
        runner: FunctionRunner,
        function: str,
        *,
        threads: int = 2,
        batch_size: int = FANOUT_JOBS_PER_INVOCATION,  # the event source mapping's on AWS
        poll_interval_seconds: float = 0.05,
        max_poll_interval_seconds: float = 0.25,
        region: str = REGION,
        frame_log: FrameLog | None = None,
    ) -> None:
        self._sqs = sqs
        self._frame_log = frame_log or FrameLog()
        self._queues = queues
        self._runner = runner
        self._function = function
        self._batch_size = batch_size
        self._poll_interval = poll_interval_seconds
        self._max_poll_interval = max(poll_interval_seconds, max_poll_interval_seconds)
        self._region = region
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"sqs-poller-{n}", daemon=True) for n in range(threads)
        ]
        self.batches = 0  # invocations made, for tests and the console

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_seconds: float = 35.0) -> None:
        """Stop polling; wait for a batch in flight (bounded by the function's timeout) to be settled."""
        self._stopping.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout_seconds)

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def _run(self) -> None:
        wait = self._poll_interval
        while not self._stopping.is_set():
            try:
                handled = self.poll_once()
            except Exception:
                log.exception("polling the fan-out queue failed")
                handled = False
            if handled:
                wait = self._poll_interval
            else:
                self._stopping.wait(wait)
                wait = min(wait * 2, self._max_poll_interval)

    def poll_once(self) -> bool:
        """Receive one batch and settle it; False when the queue had nothing visible."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queues.url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return False
        invocation = self._runner.invoke_blocking(self._function, sqs_event(messages, self._queues.arn, self._region))
        self.batches += 1
        if invocation.failed:
            log.warning("fan-out batch failed: %s", type(invocation.error).__name__ if invocation.error else "timeout")
        failed = failed_message_ids(invocation, [m["MessageId"] for m in messages])
        self._frame_log.event("%-7s records=%d failed=%d ms=%.1f", "fanout", len(messages), len(failed), invocation.ms)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            # Entry ids only need to be unique in the call: a message's index in the batch.
            self._sqs.delete_message_batch(
                QueueUrl=self._queues.url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
        return True
