"""Work per message by room size: DynamoDB requests and billed units, posts, Lambda invocations, cost.

Runs the real handlers on moto (no AWS) through `bench/harness.py`, meters every DynamoDB request with
`bench/capacity.py` (the units AWS would bill, from the real items), counts PostToConnection calls and Lambda
invocations, and prices it all with the price table of `bench/cost.py`. For `sendMessage`, `typing`, `$connect`
and `$disconnect` (presence), in rooms of 2 to 10,000 members with 10% and 100% of them online (and 100 of
10,000, and 50 all online, for the targets). Beside it, the common "Scan every connection" design.

Lambda's billed duration is a model, not a measurement (moto's latencies say nothing about DynamoDB's):
BASE_MS + DYNAMODB_MS per DynamoDB request + POST_MS per wave of `FANOUT_CONCURRENCY` posts.

    .venv/bin/python bench/message_cost.py [--quick]   # writes bench/results/message_cost.json
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import boto3
from capacity import CapacityMeter, Usage
from cost import MEMORY_MB, MILLION, PRICE_SOURCES, PRICES_DATE, Prices
from harness import SQS_REQUESTS, Stack, fanout_queue_configured, fast_moto, machine, new_meter, quiet, write_results
from moto import mock_aws

BASE_MS = 20.0  # handler work outside AWS calls (parsing, validation, encoding), per invocation
DYNAMODB_MS = 5.0  # one DynamoDB request from Lambda, sequential
POST_MS = 20.0  # one PostToConnection (measurement 2 injects the same)
FUNCTION = {"sendMessage": "send_message", "typing": "typing", "$connect": "connect", "$disconnect": "disconnect"}
# Frames a client sends (billed as received messages) and replies API Gateway sends back, per operation.
INBOUND = {"sendMessage": 1, "typing": 1, "$connect": 0, "$disconnect": 0}
REPLIES = {"sendMessage": 1, "typing": 0, "$connect": 0, "$disconnect": 0}


def scenarios(quick: bool) -> list[tuple[int, list[int]]]:
    """(members, ascending online counts)."""
    if quick:
        return [(2, [1, 2]), (10, [1, 10]), (50, [50]), (100, [10, 100]), (1000, [100, 1000])]
    return [
        (2, [1, 2]),
        (10, [1, 10]),
        (50, [5, 50]),
        (100, [10, 100]),
        (1000, [100, 1000]),
        (10000, [100, 1000, 10000]),
    ]


def priced(operation: str, row: dict[str, Any], prices: Prices, concurrency: int) -> dict[str, float]:
    """USD per million operations, by item."""
    function = FUNCTION[operation]
    requests = sum(row["requests"].values())
    waves = math.ceil(row["posts"] / concurrency)
    duration_ms = BASE_MS + DYNAMODB_MS * requests + POST_MS * waves
    gb_seconds = MEMORY_MB[function] / 1024 * duration_ms / 1000
    return {
        "API Gateway": (INBOUND[operation] + REPLIES[operation] + row["posts"]) * prices.api_message * MILLION,
        "Lambda": (row["invocations"] * prices.lambda_request + gb_seconds * prices.lambda_gb_second_arm) * MILLION,
        "DynamoDB": (row["rcu"] * prices.dynamodb_read_unit + row["wcu"] * prices.dynamodb_write_unit) * MILLION,
        "SQS": row["sqs_requests"] * prices.sqs_request * MILLION,
    }


class Measure:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def run(self, operation: str, times: int, action: Any) -> dict[str, Any]:
        stack = self.stack
        stack.meter.take()
        posts, invocations = stack.posts(), sum(stack.gateway.invocations.values())
        sqs = sum(SQS_REQUESTS.values())
        stack.meter.enabled = True
        started = time.monotonic()
        with quiet():
            for _ in range(times):
                action()
                stack.drain()
        seconds = time.monotonic() - started
        stack.meter.enabled = False
        usage: Usage = stack.meter.take()
        return {
            "operation": operation,
            "times": times,
            "requests": {op: n / times for op, n in usage.requests.items()},
            "rcu": usage.rcu / times,
            "wcu": usage.wcu / times,
            "read_units": {t: u / times for t, u in usage.read_units.items()},
            "write_units": {t: u / times for t, u in usage.write_units.items()},
            "cancelled": usage.cancelled / times,
            "posts": (stack.posts() - posts) / times,
            "invocations": (sum(stack.gateway.invocations.values()) - invocations) / times,
            "sqs_requests": (sum(SQS_REQUESTS.values()) - sqs) / times,
            "bench_seconds": seconds / times,
        }


def room_rows(meter: CapacityMeter, members: int, online_counts: list[int], quick: bool) -> list[dict[str, Any]]:
    stack = Stack(meter)
    rows = []
    try:
        ids = stack.user_ids(members)
        sender = stack.connect(ids[0])
        toggler = stack.connect(ids[1])  # connects and disconnects for the presence rows
        with quiet():
            stack.gateway.disconnect(toggler)
        stack.register_users(ids[2:])
        room = stack.create_room(ids[0], ids)
        online = 1
        toggler_online = False
        measure = Measure(stack)
        state: dict[str, Any] = {}

        def connect() -> None:
            state["session"] = stack.connect(ids[1])

        def disconnect() -> None:
            stack.gateway.disconnect(state["session"])

        for target in online_counts:
            if target >= 2 and not toggler_online:
                toggler = stack.connect(ids[1])
                toggler_online = True
            stack.go_online(ids[max(online, 2) : target])
            online = target
            times = 1 if members >= 1000 else (2 if quick else 4)

            def send() -> None:
                reply = stack.gateway.message(sender, room, "a message of ordinary length, about sixty bytes")
                assert reply["type"] == "ack", reply

            def typing() -> None:
                stack.gateway.send_raw(sender, f'{{"action": "typing", "roomId": "{room}", "isTyping": true}}')

            results = [measure.run("sendMessage", times, send), measure.run("typing", times, typing)]
            # Presence: the toggler goes offline and back (or online and back), each a presence push to the room.
            state["session"] = toggler
            pair = [("$disconnect", disconnect), ("$connect", connect)]
            for operation, action in pair if toggler_online else pair[::-1]:
                results.append(measure.run(operation, 1, action))
            toggler = state["session"]
            for row in results:
                row.update(members=members, online=target)
                rows.append(row)
                print(
                    f"{members:>6} {target:>6} {row['operation']:<12} req {sum(row['requests'].values()):>7.1f} "
                    f"RCU {row['rcu']:>8.1f} WCU {row['wcu']:>6.1f} posts {row['posts']:>6.0f} "
                    f"lambda {row['invocations']:.0f}",
                    flush=True,
                )
    finally:
        stack.close()
    return rows


# ----------------------------------------------------------------------------- the "Scan every connection" design


def scan_everyone(client: Any, table: str, post: Any, sender: str) -> int:
    """The common tutorial design: every message Scans the whole connections table and posts to each one."""
    posted = 0
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**request)
        for item in page["Items"]:
            if item["connectionId"]["S"] != sender:
                post(item["connectionId"]["S"])
                posted += 1
        if "LastEvaluatedKey" not in page:
            return posted
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def reference_row(meter: CapacityMeter, users: int) -> dict[str, Any]:
    """One message in the Scan design with `users` connected, metered like the chat's own requests."""
    fast_moto()
    with mock_aws():
        client = boto3.client("dynamodb")
        meter.shadow = boto3.session.Session().client("dynamodb")
        meter.forget_tables()
        meter.attach(client.meta.events)
        table = "reference-connections"
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        now = int(time.time())
        for start in range(0, users, 25):
            items = [
                {
                    "PutRequest": {
                        "Item": {  # the chat's own connection item (chat.dynamo.items)
                            "connectionId": {"S": f"Q{i:07d}bench0="},
                            "userId": {"S": f"3f1c9a52-7d1e-4b7a-9c41-{i:012d}"},
                            "connectedAt": {"S": "2026-11-26T12:00:00.000Z"},
                            "expiresAt": {"N": str(now + 7200)},
                            "ttl": {"N": str(now + 10800)},
                        }
                    }
                }
                for i in range(start, min(users, start + 25))
            ]
            meter.shadow.batch_write_item(RequestItems={table: items})
        posts = [0]

        def post(_: str) -> None:  # counted, not sent: this design's posts are the chat's posts
            posts[0] += 1

        meter.take()
        meter.enabled = True
        scan_everyone(client, table, post, sender="Q0000000bench0=")
        meter.enabled = False
        usage = meter.take()
    return {
        "operation": "sendMessage (Scan every connection)",
        "users": users,
        "requests": dict(usage.requests),
        "rcu": usage.rcu,
        "wcu": usage.wcu,
        "posts": posts[0],
        "invocations": 1,
        "sqs_requests": 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="rooms up to 1,000 members, fewer repetitions")
    args = parser.parse_args()
    meter = new_meter()
    prices = Prices()
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    print(f"{'room':>6} {'online':>6} operation")
    concurrency = 32
    for members, online_counts in scenarios(args.quick):
        rows += room_rows(meter, members, online_counts, args.quick)
    with quiet():
        from chat.settings import Settings

        concurrency = int(Settings.model_fields["fanout_concurrency"].default)
    for row in rows:
        row["cost_per_million"] = priced(row["operation"], row, prices, concurrency)
    reference_sizes = (1000, 5000, 20000) if args.quick else (1000, 10000, 100000)
    reference = []
    for users in reference_sizes:
        row = reference_row(meter, users)
        row["cost_per_million"] = priced("sendMessage", row, prices, concurrency)
        reference.append(row)
        print(f"Scan design, {users:>6} users: RCU {row['rcu']:.1f}, posts {row['posts']}", flush=True)
    write_results(
        "message_cost",
        {
            "machine": machine(),
            "fanout_queue": fanout_queue_configured(),
            "quick": args.quick,
            "seconds": time.monotonic() - started,
            "rows": rows,
            "reference": reference,
            "duration_model": {
                "base_ms": BASE_MS,
                "dynamodb_ms": DYNAMODB_MS,
                "post_ms": POST_MS,
                "fanout_concurrency": concurrency,
            },
            "memory_mb": MEMORY_MB,
            "prices": {k: v for k, v in vars(prices).items()} if hasattr(prices, "__dict__") else {},
            "prices_date": PRICES_DATE,
            "price_sources": PRICE_SOURCES,
        },
    )


if __name__ == "__main__":
    main()
