"""The `messages` table's stream locally: a poller that does what Lambda's DynamoDB stream event source mapping
does on AWS (infra/notifications.py) for the notify function.

It reads every shard of the stream through the embedded server (serialized with every other request, as moto is
not thread-safe), keeps the INSERT records (the mapping's filter), and invokes the function with a batch once the
batching window has passed since the batch's first record, or the batch is full. A batch whose invocation fails
is invoked again, up to `retry_attempts` times, then skipped with a warning (on AWS the mapping also halves it
first). Every loop waits on an event that `stop()` sets: bounded, and it ends promptly.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from local.console import FrameLog
from local.events import REGION
from local.functions import FunctionRunner

log = logging.getLogger("local.stream_poller")


class StreamPoller:
    def __init__(
        self,
        dynamodb: Any,
        streams: Any,
        table_name: str,
        runner: FunctionRunner,
        function: str,
        *,
        batch_size: int,
        batching_window_seconds: float,
        retry_attempts: int,
        poll_interval_seconds: float = 0.2,
        region: str = REGION,
        frame_log: FrameLog | None = None,
    ) -> None:
        self._streams = streams
        self._stream_arn = str(dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"])
        self._runner = runner
        self._function = function
        self._batch_size = batch_size
        self._window = batching_window_seconds
        self._retry_attempts = retry_attempts
        self._poll_interval = poll_interval_seconds
        self._region = region
        self._frame_log = frame_log or FrameLog()
        self._iterators: dict[str, str] = {}
        self._pending: list[dict[str, Any]] = []
        self._first_pending_at = 0.0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self.batches = 0  # invocations made, for tests

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_seconds: float = 35.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_seconds)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("polling the messages stream failed")
            self._stopping.wait(self._poll_interval)

    def poll_once(self) -> None:
        """Read what the shards have; invoke the function when a batch is due."""
        for record in self._read():
            if record.get("eventName") == "INSERT":
                if not self._pending:
                    self._first_pending_at = time.monotonic()
                self._pending.append({**record, "eventSourceARN": self._stream_arn, "awsRegion": self._region})
        while self._pending and (
            len(self._pending) >= self._batch_size or time.monotonic() - self._first_pending_at >= self._window
        ):
            batch, self._pending = self._pending[: self._batch_size], self._pending[self._batch_size :]
            self._first_pending_at = time.monotonic()
            self._invoke(batch)

    def _read(self) -> list[dict[str, Any]]:
        shards = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            response = self._streams.get_records(ShardIterator=self._iterators[shard_id], Limit=1000)
            records += response["Records"]
            if response.get("NextShardIterator"):
                self._iterators[shard_id] = response["NextShardIterator"]
        return records

    def _invoke(self, batch: list[dict[str, Any]]) -> None:
        for attempt in range(1 + self._retry_attempts):
            invocation = self._runner.invoke_blocking(self._function, {"Records": batch})
            self.batches += 1
            self._frame_log.event("%-7s records=%d ms=%.1f", "notify", len(batch), invocation.ms)
            if not invocation.failed:
                return
            log.warning("notify batch failed (attempt %d)", attempt + 1)
        log.warning("notify batch skipped after %d attempts: its notifications are lost", 1 + self._retry_attempts)
