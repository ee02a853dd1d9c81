"""A DynamoDB capacity meter for boto3 on moto: the read and write units AWS would bill for each request.

moto does not bill, so the meter computes what DynamoDB on-demand would, from the real requests the code makes
and the real items they touch, following the AWS developer guide:

- item size (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
  the sum over attributes of the UTF-8 length of the name plus the value's size. Strings: UTF-8 bytes; numbers:
  ceil(significant digits / 2) + 1 bytes (the guide's "approximately"); binary: raw bytes; null and Boolean:
  1 byte; sets: the sum of their elements; List and Map: 3 bytes + per element 1 byte + its size (a Map element
  also its key's UTF-8 length).
- reads (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
  GetItem ceil(size / 4 KB) units strongly consistent, half that eventually consistent, at least one 4 KB unit
  (an item that is not there is still a read); BatchGetItem the same per item; Query and Scan on the total size
  of the items read (before any filter, whole items whatever the ProjectionExpression; index entries on an
  index), rounded up to 4 KB once per request; TransactGetItems 2 units per 4 KB per item.
- writes (same page): PutItem, UpdateItem: ceil(max(size before, size after) / 1 KB), DeleteItem the deleted
  item's size, at least 1 unit; a write whose condition fails still costs the existing item's size (at least
  1); BatchWriteItem per item; TransactWriteItems 2 units per 1 KB per action
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html: "two underlying
  reads or writes of every item", one to prepare, one to commit). A ConditionCheck is billed here as a
  transactional write of the checked item (AWS reports it under write capacity); a cancelled transaction as
  each action's prepare, i.e. the same 2 units per KB of the existing item, and counted apart (`cancelled`).
- global secondary indexes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html,
  "Provisioned throughput considerations for global secondary indexes"): a table write that puts an item into
  an index costs one index write of the index entry's size (table keys, index keys, projected attributes),
  one that removes it one write, one that changes an index key two (delete, then put), one that changes only a
  projected attribute one, and one that changes nothing the index holds none. Index writes are not doubled in
  a transaction.

How: botocore events on the client (`provide-client-params` sees the request before it is sent, `after-call`
the parsed answer, errors included). The items before and after a write are read through a second, unhooked
client on the same endpoint (moto's backend), so the meter never changes the requests the code makes and its
own reads are never counted. Key schemas and index projections come from DescribeTable.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
READ_UNIT_BYTES = 4 * KB
WRITE_UNIT_BYTES = KB

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


# ------------------------------------------------------------------------------------------------ item sizes


def number_size(text: str) -> int:
    """Bytes of a Number: 1 per two significant digits (leading and trailing zeros trimmed), plus 1."""
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one AttributeValue (without its name)."""
    (kind, payload), *_ = value.items()
    if kind == "S":
        return len(str(payload).encode())
    if kind == "N":
        return number_size(str(payload))
    if kind == "B":
        return len(_raw(payload))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in payload)
    if kind == "NS":
        return sum(number_size(str(n)) for n in payload)
    if kind == "BS":
        return sum(len(_raw(b)) for b in payload)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in payload)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in payload.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Bytes of an item as DynamoDB counts them: attribute names plus values."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _raw(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes | bytearray) else str(payload).encode()


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read units for one item (or one Query/Scan page) of `size` bytes: at least one 4 KB step."""
    steps = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * steps
    return float(steps) if consistent else steps / 2


def write_units(size: int, *, transactional: bool = False) -> float:
    steps = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return 2.0 * steps if transactional else float(steps)


# ------------------------------------------------------------------------------------------------ table specs


@dataclass(frozen=True)
class IndexSpec:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    projected: tuple[str, ...] = ()

    def entry(self, item: Mapping[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The index entry of `item`, or None when the item is not in the index (an index key is missing)."""
        if not item or any(k not in item for k in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        names = {*table_keys, *self.keys, *self.projected}
        return {k: v for k, v in item.items() if k in names}


@dataclass(frozen=True)
class TableInfo:
    keys: tuple[str, ...]
    indexes: tuple[IndexSpec, ...] = ()

    def key_of(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self.keys}


def index_write_units(info: TableInfo, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> float:
    """Write units the table's global secondary indexes consume for one item going from `old` to `new`."""
    units = 0.0
    for index in info.indexes:
        before, after = index.entry(old, info.keys), index.entry(new, info.keys)
        if before is None and after is None:
            continue
        if before is None:
            units += write_units(item_size(after))
        elif after is None:
            units += write_units(item_size(before))
        elif any(before[k] != after[k] for k in index.keys):
            units += write_units(item_size(before)) + write_units(item_size(after))
        elif before != after:
            units += write_units(item_size(after))
    return units


# ----------------------------------------------------------------------------------------------------- usage


@dataclass
class Usage:
    """What a stretch of work cost: requests by operation, units by table."""

    requests: Counter[str] = field(default_factory=Counter)
    read_units: Counter[str] = field(default_factory=Counter)  # by table (index reads under "table/index")
    write_units: Counter[str] = field(default_factory=Counter)  # by table, index writes under "table/index"
    cancelled: int = 0  # transactions cancelled, and conditional writes refused

    @property
    def rcu(self) -> float:
        return float(sum(self.read_units.values()))

    @property
    def wcu(self) -> float:
        return float(sum(self.write_units.values()))

    def add(self, other: Usage) -> None:
        self.requests.update(other.requests)
        self.read_units.update(other.read_units)
        self.write_units.update(other.write_units)
        self.cancelled += other.cancelled

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "rcu": self.rcu,
            "wcu": self.wcu,
            "read_units": dict(self.read_units),
            "write_units": dict(self.write_units),
            "cancelled": self.cancelled,
        }


# ------------------------------------------------------------------------------------------------------ meter

_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


class CapacityMeter:
    """Meters every DynamoDB request made through clients whose events it is registered on, while `enabled`.

    Register it on a client (`meter.attach(client.meta.events)`) or on the boto3 session's events before the
    code under test makes its clients (clients copy the session's handlers when they are made). `shadow` is an
    unhooked client on the same endpoint, used to read items before and after writes.
    """

    def __init__(self, shadow: Any) -> None:
        self.shadow = shadow
        self.enabled = False
        self.usage = Usage()
        self._tables: dict[str, TableInfo] = {}
        self._lock = threading.Lock()

    # --------------------------------------------------------------------------------------------- lifecycle

    def attach(self, events: Any) -> CapacityMeter:
        events.register("provide-client-params.dynamodb", self._before, unique_id="bench-capacity-before")
        events.register("after-call.dynamodb", self._after, unique_id="bench-capacity-after")
        return self

    def forget_tables(self) -> None:
        """Key schemas are read again (new tables, e.g. a new moto backend)."""
        self._tables.clear()

    def take(self) -> Usage:
        """The usage metered since the last `take`, and start afresh."""
        with self._lock:
            usage, self.usage = self.usage, Usage()
        return usage

    # ----------------------------------------------------------------------------------------------- tables

    def table(self, name: str) -> TableInfo:
        if name not in self._tables:
            description = self.shadow.describe_table(TableName=name)["Table"]
            indexes = tuple(
                IndexSpec(
                    index["IndexName"],
                    tuple(k["AttributeName"] for k in index["KeySchema"]),
                    index["Projection"]["ProjectionType"],
                    tuple(index["Projection"].get("NonKeyAttributes", ())),
                )
                for index in description.get("GlobalSecondaryIndexes", [])
            )
            self._tables[name] = TableInfo(tuple(k["AttributeName"] for k in description["KeySchema"]), indexes)
        return self._tables[name]

    def _get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        item = self.shadow.get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")
        return dict(item) if item else None

    # ------------------------------------------------------------------------------------------------ hooks

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.enabled or model.name not in READ_OPERATIONS | WRITE_OPERATIONS:
            return
        context["bench_capacity"] = (model.name, params, self._old_items(model.name, params))

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        pending = context.pop("bench_capacity", None)
        if pending is None:
            return
        operation, params, old = pending
        failed = "Error" in parsed
        usage = Usage()
        usage.requests[operation] += 1
        try:
            if operation in READ_OPERATIONS:
                self._meter_read(operation, params, parsed, usage, failed)
            else:
                self._meter_write(operation, params, parsed, old, usage, failed)
        finally:
            with self._lock:
                self.usage.add(usage)

    # ------------------------------------------------------------------------------------------------ reads

    def _meter_read(
        self, operation: str, params: dict[str, Any], parsed: dict[str, Any], usage: Usage, failed: bool
    ) -> None:
        if failed:
            return
        if operation == "GetItem":
            table = params["TableName"]
            item = parsed.get("Item")
            if item and "ProjectionExpression" in params:
                item = self._get(table, params["Key"])
            usage.read_units[table] += read_units(item_size(item), consistent=bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                unprocessed = parsed.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
                keys = [k for k in request["Keys"] if k not in unprocessed]
                found = parsed.get("Responses", {}).get(table, [])
                info = self.table(table)
                if "ProjectionExpression" in request or "AttributesToGet" in request:
                    found = [self._get(table, info.key_of(item)) or {} for item in found]
                consistent = bool(request.get("ConsistentRead"))
                for item in found:
                    usage.read_units[table] += read_units(item_size(item), consistent=consistent)
                # A key that was not found is still read: one unit's minimum.
                usage.read_units[table] += (len(keys) - len(found)) * read_units(0, consistent=consistent)
        elif operation in ("Query", "Scan"):
            table = params["TableName"]
            items = parsed.get("Items", [])
            if any(p in params for p in ("ProjectionExpression", "FilterExpression", "Select", "AttributesToGet")):
                items = self._whole_items(operation, params)
            where = f"{table}/{params['IndexName']}" if "IndexName" in params else table
            total = sum(item_size(item) for item in items)
            usage.read_units[where] += read_units(total, consistent=bool(params.get("ConsistentRead")))
        elif operation == "TransactGetItems":
            for entry in params["TransactItems"]:
                get = entry["Get"]
                item = self._get(get["TableName"], get["Key"])
                usage.read_units[get["TableName"]] += read_units(item_size(item), consistent=True, transactional=True)

    def _whole_items(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The items a Query or Scan read: the same request without its filter and projection."""
        again = {
            k: v
            for k, v in params.items()
            if k not in ("ProjectionExpression", "FilterExpression", "Select", "AttributesToGet")
        }
        used = set(_PLACEHOLDER.findall(" ".join(str(again.get(k, "")) for k in ("KeyConditionExpression",))))
        for placeholders in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if placeholders in again:
                kept = {k: v for k, v in again[placeholders].items() if k in used}
                if kept:
                    again[placeholders] = kept
                else:
                    del again[placeholders]
        call = self.shadow.query if operation == "Query" else self.shadow.scan
        return list(call(**again).get("Items", []))

    # ----------------------------------------------------------------------------------------------- writes

    def _old_items(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any] | None]:
        """Each written item as it is before the write, in the order of `_targets`."""
        return [self._get(table, key) for table, key, _ in self._targets(operation, params)]

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
        """(table, key, action) of every item a write request touches."""
        if operation == "PutItem":
            table = params["TableName"]
            return [(table, self.table(table).key_of(params["Item"]), "Put")]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"], operation.removesuffix("Item"))]
        if operation == "BatchWriteItem":
            targets = []
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        targets.append((table, self.table(table).key_of(request["PutRequest"]["Item"]), "Put"))
                    else:
                        targets.append((table, request["DeleteRequest"]["Key"], "Delete"))
            return targets
        if operation == "TransactWriteItems":
            targets = []
            for entry in params["TransactItems"]:
                (action, body), *_ = entry.items()
                table = body["TableName"]
                key = self.table(table).key_of(body["Item"]) if action == "Put" else body["Key"]
                targets.append((table, key, action))
            return targets
        return []

    def _meter_write(
        self,
        operation: str,
        params: dict[str, Any],
        parsed: dict[str, Any],
        old: list[dict[str, Any] | None],
        usage: Usage,
        failed: bool,
    ) -> None:
        code = parsed.get("Error", {}).get("Code", "")
        refused = code in ("ConditionalCheckFailedException", "TransactionCanceledException")
        if failed and not refused:
            return  # throttled, invalid: nothing was written, nothing is billed
        transactional = operation == "TransactWriteItems"
        if refused:
            usage.cancelled += 1
            for (table, _, _), before in zip(self._targets(operation, params), old, strict=True):
                usage.write_units[table] += write_units(item_size(before), transactional=transactional)
            return
        unprocessed: list[Any] = []
        if operation == "BatchWriteItem":
            for table, requests in parsed.get("UnprocessedItems", {}).items():
                unprocessed += [(table, r) for r in requests]
        targets = self._targets(operation, params)
        requests_in_order: list[Any] = []
        if operation == "BatchWriteItem":
            requests_in_order = [(t, r) for t, rs in params["RequestItems"].items() for r in rs]
        for position, ((table, key, action), before) in enumerate(zip(targets, old, strict=True)):
            if requests_in_order and requests_in_order[position] in unprocessed:
                continue
            if action == "ConditionCheck":
                usage.write_units[table] += write_units(item_size(before), transactional=True)
                continue
            after = None if action == "Delete" else self._get(table, key)
            size = item_size(before) if action == "Delete" else max(item_size(before), item_size(after))
            usage.write_units[table] += write_units(size, transactional=transactional)
            info = self.table(table)
            for index in info.indexes:
                units = index_write_units(TableInfo(info.keys, (index,)), before, after)
                if units:
                    usage.write_units[f"{table}/{index.name}"] += units


def dynamodb_requests(usage: Usage) -> int:
    return sum(usage.requests.values())


def merge(usages: Iterable[Usage]) -> Usage:
    total = Usage()
    for usage in usages:
        total.add(usage)
    return total
