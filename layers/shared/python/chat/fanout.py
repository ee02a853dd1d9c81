"""Fan-out through the API Gateway Management API: concurrent, bounded, and honest about gone connections.

One boto3 client and one thread pool per cold start, reused by every warm invocation; the client's connection
pool matches the thread pool. A connection that answers 410 Gone is reported back so that the service removes
it; throttling is retried here with jittered backoff (botocore's own retries are off, so they never stack).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chat.ports import Delivery

THROTTLING_CODES = frozenset(
    {"LimitExceededException", "TooManyRequestsException", "ThrottlingException", "Throttling"}
)


class Outcome(Enum):
    DELIVERED = "delivered"
    GONE = "gone"
    FAILED = "failed"


class ManagementApiNotifier:
    def __init__(
        self,
        client: Any,
        *,
        max_workers: int,
        max_attempts: int = 4,
        backoff_base_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="fanout")
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._sleep = sleep

    def post(self, connection_ids: Sequence[str], payload: bytes) -> Delivery:
        if len(connection_ids) == 1:  # no thread hop for the common one-recipient push
            outcomes = [self._post_one(connection_ids[0], payload)]
        else:
            outcomes = list(self._pool.map(lambda cid: self._post_one(cid, payload), connection_ids))
        by_outcome: dict[Outcome, list[str]] = {o: [] for o in Outcome}
        for connection_id, outcome in zip(connection_ids, outcomes, strict=True):
            by_outcome[outcome].append(connection_id)
        return Delivery(
            delivered=len(by_outcome[Outcome.DELIVERED]),
            gone=by_outcome[Outcome.GONE],
            failed=by_outcome[Outcome.FAILED],
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _post_one(self, connection_id: str, payload: bytes) -> Outcome:
        for attempt in range(self._max_attempts):
            try:
                self._client.post_to_connection(ConnectionId=connection_id, Data=payload)
                return Outcome.DELIVERED
            # GoneException is a ClientError: catch it first, or stale connections are never removed.
            except self._client.exceptions.GoneException:
                return Outcome.GONE
            except ClientError as exc:
                if not _is_retryable(exc) or attempt == self._max_attempts - 1:
                    return Outcome.FAILED
            except BotoCoreError:  # connection errors, timeouts
                if attempt == self._max_attempts - 1:
                    return Outcome.FAILED
            self._sleep(random.uniform(0, self._backoff_base * 2**attempt))
        return Outcome.FAILED


def _is_retryable(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in THROTTLING_CODES or status == 429 or status >= 500
