"""What every aggregate store shares: the client and the table names, AWS errors as domain errors, retries.

`DynamoTables` is built once per `DynamoChatStore` and handed to each aggregate's store; it holds no state of
its own beyond the injected client, clocks and retry policy, so the stores stay independent of each other.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

from botocore.exceptions import BotoCoreError, ClientError

from chat.errors import ChatError, Unavailable
from chat.settings import Settings
from chat.tables import TABLES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from chat.dynamo.items import Item

Reason: TypeAlias = Mapping[str, Any]  # one entry of a TransactionCanceledException's CancellationReasons

MAX_BATCH_GET_KEYS = 100
MAX_BATCH_WRITE_ITEMS = 25

# Everything but a send (see chat.dynamo.messages): 8 attempts sleep ~2.3 s in all, far inside API Gateway's 29 s.
DEFAULT_MAX_ATTEMPTS = 8
# Tuned on sends racing for one room (see SEND_CONTENTION_BUDGET_SECONDS in chat.dynamo.messages).
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.5
# botocore has already retried throttling with its own backoff when one of these reaches us.
THROTTLED_RETRY_AFTER_MS = 1000

CONDITION_FAILED = "ConditionalCheckFailed"
RETRYABLE_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
_THROTTLING_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)

# One logger for the whole adapter, "chat.dynamo" (its name before the module became a package).
log = logging.getLogger(__package__)


class DynamoTables:
    """The boto3 client, each table's physical name, the clocks, and the retry helpers every store uses."""

    def __init__(
        self,
        client: DynamoDBClient,
        tables: Settings | Mapping[str, str],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        """`tables`: the settings, or each logical table name (`chat.tables`) mapped to its physical name."""
        names = {
            spec.name: tables.table_name(spec.name) if isinstance(tables, Settings) else tables[spec.name]
            for spec in TABLES
        }
        self.client = client
        self.connections = names["connections"]
        self.users = names["users"]
        self.rooms = names["rooms"]
        self.room_counters = names["room_counters"]
        self.members = names["members"]
        self.memberships = names["memberships"]
        self.room_connections = names["room_connections"]
        self.messages = names["messages"]
        self.idempotency = names["idempotency"]
        self.message_changes = names["message_changes"]
        self.reactions = names["reactions"]
        self.push_subscriptions = names["push_subscriptions"]
        self.rate_limits = names["rate_limits"]
        self.clock = clock
        self.monotonic = monotonic
        self._sleep = sleep
        self._jitter = jitter
        self._max_attempts = max_attempts

    def try_transact(self, items: Sequence[TransactWriteItemTypeDef], operation: str) -> list[Reason] | None:
        """None when committed, else the cancellation reasons (one per item, in order).

        botocore fills in a ClientRequestToken and keeps it across its own retries, so a retry after a lost
        response does not commit twice.
        """
        with aws_errors(operation):
            try:
                self.client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons: list[Reason] = list(exc.response.get("CancellationReasons") or [])
                if not reasons:
                    raise
                return reasons
        return None

    def transact(self, items: Sequence[TransactWriteItemTypeDef], operation: str) -> list[Reason]:
        """Commit, retrying conflicts and throttling: [] when committed, the reasons if a condition failed."""
        for attempt in range(self._max_attempts):
            self.backoff(attempt)
            reasons = self.try_transact(items, operation)
            if reasons is None:
                return []
            codes = {reason_code(reason) for reason in reasons}
            if CONDITION_FAILED in codes:
                return reasons
            if not codes <= RETRYABLE_REASONS | {"None"}:
                log.error("%s cancelled: %s", operation, sorted(codes))
                raise ChatError("storage error")
        raise self.unavailable()

    def batch_get(self, table: str, keys: Sequence[Item], operation: str, *, consistent: bool = True) -> list[Item]:
        """BatchGetItem in chunks of 100 keys, retrying unprocessed keys with backoff."""
        found: list[Item] = []
        for start in range(0, len(keys), MAX_BATCH_GET_KEYS):
            pending: list[Item] = list(keys[start : start + MAX_BATCH_GET_KEYS])
            for attempt in range(self._max_attempts):
                self.backoff(attempt)
                with aws_errors(operation):
                    response = self.client.batch_get_item(
                        RequestItems={table: {"Keys": pending, "ConsistentRead": consistent}}
                    )
                found.extend(response["Responses"].get(table, []))
                unprocessed = response.get("UnprocessedKeys", {}).get(table)
                if not unprocessed:
                    break
                pending = list(unprocessed["Keys"])
            else:
                raise self.unavailable()
        return found

    def batch_get_tables(
        self, keys: Sequence[tuple[str, Item]], operation: str, *, consistent: bool = True
    ) -> dict[str, list[Item]]:
        """BatchGetItem of keys across tables, (table, key) pairs, 100 keys a request: each table's found items."""
        found: dict[str, list[Item]] = {table: [] for table, _ in keys}
        for start in range(0, len(keys), MAX_BATCH_GET_KEYS):
            pending: dict[str, Any] = {}
            for table, key in keys[start : start + MAX_BATCH_GET_KEYS]:
                pending.setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(key)
            for attempt in range(self._max_attempts):
                self.backoff(attempt)
                with aws_errors(operation):
                    response = self.client.batch_get_item(RequestItems=pending)
                for table, items in response["Responses"].items():
                    found[table].extend(items)
                pending = dict(response.get("UnprocessedKeys") or {})
                if not pending:
                    break
            else:
                raise self.unavailable()
        return found

    def batch_get_one_each(self, keys: Mapping[str, tuple[Item, bool]], operation: str) -> dict[str, Item]:
        """One BatchGetItem across tables: per table one key and whether to read it consistently; each table's
        item when it exists (a read of a few items in one round trip instead of one per item)."""
        pending: dict[str, Any] = {
            table: {"Keys": [key], "ConsistentRead": consistent} for table, (key, consistent) in keys.items()
        }
        found: dict[str, Item] = {}
        for attempt in range(self._max_attempts):
            self.backoff(attempt)
            with aws_errors(operation):
                response = self.client.batch_get_item(RequestItems=pending)
            for table, items in response["Responses"].items():
                if items:
                    found[table] = items[0]
            pending = dict(response.get("UnprocessedKeys") or {})
            if not pending:
                return found
        raise self.unavailable()

    def batch_write(self, table: str, requests: Sequence[Mapping[str, Any]], operation: str) -> None:
        """BatchWriteItem (puts and deletes) in chunks of 25, retrying unprocessed items with backoff."""
        for start in range(0, len(requests), MAX_BATCH_WRITE_ITEMS):
            pending: list[Any] = list(requests[start : start + MAX_BATCH_WRITE_ITEMS])
            for attempt in range(self._max_attempts):
                self.backoff(attempt)
                with aws_errors(operation):
                    response = self.client.batch_write_item(RequestItems={table: pending})
                pending = list((response.get("UnprocessedItems") or {}).get(table, []))
                if not pending:
                    break
            else:
                raise self.unavailable()

    def query_all(self, request: Mapping[str, Any], operation: str) -> list[Item]:
        """Every item a Query matches, page after page."""
        request = dict(request)
        items: list[Item] = []
        while True:
            with aws_errors(operation):
                page = self.client.query(**request)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def room_ids_of(self, user_id: str) -> list[str]:
        """The ids of the user's rooms, ordered by id (one consistent Query of `memberships` per 1 MB)."""
        return list(self.read_seqs_of(user_id))

    def read_seqs_of(self, user_id: str) -> dict[str, int]:
        """The user's rooms, ordered by id, each with the user's read marker in it (0: none yet)."""
        return {room_id: read_seq for room_id, (read_seq, _) in self.memberships_of(user_id).items()}

    def memberships_of(self, user_id: str) -> dict[str, tuple[int, bool]]:
        """The user's rooms, ordered by id, each with the user's read marker in it (0: none yet) and whether the
        user muted it: one consistent Query of `memberships` per 1 MB."""
        items = self.query_all(
            {
                "TableName": self.memberships,
                "KeyConditionExpression": "#userId = :userId",
                "ProjectionExpression": "#roomId, #readSeq, #muted",
                "ExpressionAttributeNames": {
                    "#userId": "userId",
                    "#roomId": "roomId",
                    "#readSeq": "readSeq",
                    "#muted": "muted",
                },
                "ExpressionAttributeValues": {":userId": {"S": user_id}},
                "ConsistentRead": True,
            },
            "room_ids_of",
        )
        return {
            str(item["roomId"]["S"]): (
                int(item["readSeq"]["N"]) if "readSeq" in item else 0,
                bool(item["muted"]["BOOL"]) if "muted" in item else False,
            )
            for item in items
        }

    def backoff(self, attempt: int) -> None:
        """Before a retry (attempt >= 1), full jitter: a random pause up to an exponential, capped bound."""
        if attempt:
            self._sleep(self._jitter() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)))

    def unavailable(self) -> Unavailable:
        # Jittered so that the clients that lost together do not come back together.
        retry_after_ms = int(BACKOFF_CAP_SECONDS * 1000 * (1 + self._jitter()))
        return Unavailable("the service is busy: retry shortly", retry_after_ms=retry_after_ms)


@contextmanager
def aws_errors(operation: str) -> Iterator[None]:
    """Turn what boto3 raises into domain errors; the AWS details stay in the exception chain and the log."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in _THROTTLING_ERRORS:
            raise Unavailable("the service is busy: retry shortly", retry_after_ms=THROTTLED_RETRY_AFTER_MS) from exc
        log.error("DynamoDB %s failed: %s", operation, code)
        raise ChatError("storage error") from exc
    except BotoCoreError as exc:  # connection errors and timeouts, after botocore's retries
        raise Unavailable("the service is busy: retry shortly", retry_after_ms=THROTTLED_RETRY_AFTER_MS) from exc


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def reason_code(reason: Reason) -> str:
    return str(reason.get("Code", "None"))
