"""The fan-out queue on Amazon SQS: `FanoutQueue.enqueue` as `SendMessageBatch` calls.

- At most 10 entries and 256 KiB of bodies per call (SQS's batch limits; a job's payload alone may be ~128 KB, so
  batches are cut by size as well as by count). SQS now takes 1 MiB per batch, but 256 KiB holds everywhere.
- A retry (`attempt` > 0) waits `DelaySeconds` = min(2**attempt, 900) before it is visible: SQS's maximum delay.
- `SendMessageBatch` succeeds as a call even when some entries fail (`Failed`): those are resent, a bounded number
  of times, unless SQS says the fault is ours (`SenderFault`), which no resend fixes. Whatever is left raises
  `EnqueueFailed`: the caller must not report success (the send handler's caller keeps the push in history; the
  fan-out function fails the record, which SQS then redelivers). Never a silent loss.
- Bodies are message bodies: they are never logged, and no error message quotes them.

botocore's own retries (the client's `standard` mode) cover throttling and 5xx of the call as a whole; a call
that still fails raises `EnqueueFailed` too.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chat.errors import EnqueueFailed
from chat.ports import FanoutJob

MAX_ENTRIES_PER_BATCH = 10
# SQS's limit on the bodies (and attributes, which we send none of) of one SendMessageBatch, and of one message.
MAX_BATCH_BYTES = 256 * 1024
MAX_DELAY_SECONDS = 900
# How often the entries SQS lists in `Failed` (not by our fault) are sent again before giving up.
MAX_RESENDS = 3
# Retrying a whole failed send after this long tells the caller when to try again.
RETRY_AFTER_MS = 1000


def delay_seconds(attempt: int) -> int:
    """How long a job waits in the queue before it is delivered: none for a first attempt, then exponential."""
    return 0 if attempt <= 0 else min(2**attempt, MAX_DELAY_SECONDS)


@dataclass(frozen=True)
class _Entry:
    id: str  # unique within a call: the job's index in `enqueue`'s sequence
    body: str
    size: int  # UTF-8 bytes of `body`
    delay: int

    def request(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"Id": self.id, "MessageBody": self.body}
        if self.delay:
            entry["DelaySeconds"] = self.delay
        return entry


def batches(entries: Sequence[_Entry], max_entries: int = MAX_ENTRIES_PER_BATCH) -> Iterator[list[_Entry]]:
    """Consecutive runs of at most `max_entries` entries whose bodies add up to at most MAX_BATCH_BYTES."""
    batch: list[_Entry] = []
    used = 0
    for entry in entries:
        if batch and (len(batch) == max_entries or used + entry.size > MAX_BATCH_BYTES):
            yield batch
            batch, used = [], 0
        batch.append(entry)
        used += entry.size
    if batch:
        yield batch


class SqsFanoutQueue:
    """`chat.ports.FanoutQueue` on one standard SQS queue, through a boto3 SQS client."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        *,
        max_resends: int = MAX_RESENDS,
        backoff_base_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._queue_url = queue_url
        self._max_resends = max_resends
        self._backoff_base = backoff_base_seconds
        self._sleep = sleep

    def enqueue(self, jobs: Sequence[FanoutJob]) -> None:
        entries = []
        for index, job in enumerate(jobs):
            body = job.to_json()
            entry = _Entry(str(index), body, len(body.encode()), delay_seconds(job.attempt))
            if entry.size > MAX_BATCH_BYTES:
                raise EnqueueFailed(f"a fan-out job of {entry.size} bytes is over SQS's {MAX_BATCH_BYTES} bytes")
            entries.append(entry)
        for batch in batches(entries):
            self._send(batch)

    def _send(self, batch: list[_Entry]) -> None:
        pending = {entry.id: entry for entry in batch}
        for resend in range(self._max_resends + 1):
            if resend:
                self._sleep(random.uniform(0, self._backoff_base * 2**resend))
            try:
                response = self._client.send_message_batch(
                    QueueUrl=self._queue_url, Entries=[entry.request() for entry in pending.values()]
                )
            except (ClientError, BotoCoreError) as exc:
                raise EnqueueFailed(
                    f"the fan-out queue refused {len(pending)} jobs: {_code(exc)}", retry_after_ms=RETRY_AFTER_MS
                ) from exc
            failed = response.get("Failed") or []
            ours = [f for f in failed if f.get("SenderFault")]
            if ours:
                codes = sorted({str(f.get("Code")) for f in ours})
                raise EnqueueFailed(f"the fan-out queue refused {len(ours)} jobs as invalid: {', '.join(codes)}")
            pending = {f["Id"]: pending[f["Id"]] for f in failed}
            if not pending:
                return
        codes = sorted({str(f.get("Code")) for f in failed})
        raise EnqueueFailed(
            f"the fan-out queue failed {len(pending)} jobs {self._max_resends + 1} times: {', '.join(codes)}",
            retry_after_ms=RETRY_AFTER_MS,
        )


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__
