"""Fan-out wall time with 20 ms in every PostToConnection, and the time from send to `ack`.

1. Posting one frame to N connections of the stand-in Management API (tests/support/connections_api.py on
   127.0.0.1, answering each request after `--post-ms`): one after the other (sequential), with the notifier the
   handlers use (chat.fanout.ManagementApiNotifier, `FANOUT_CONCURRENCY` threads, its boto3 client configured as
   chat.lambda_app configures it), against the ideal for that concurrency, N x post time / concurrency.
   Sequential posting of 10,000 would take over 3 minutes: it is timed on the first `--sequential` connections
   and extrapolated linearly (each post is independent: the same wait, one after the other).
2. The time from a `sendMessage` to its `ack`, and to the last push, through the send_message handler on moto
   with every member online: a 2-member room against a 10,000-member one. With a fan-out queue (when the stack
   has one), the pushes after the `ack` are made by the fan-out function, run here in-process batch after batch
   (on AWS its invocations run in parallel).

    .venv/bin/python bench/fanout_time.py [--quick]   # writes bench/results/fanout_time.json
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

import boto3
from botocore.config import Config
from connections_server import ConnectionsServer
from cost import FANOUT_MAX_CONCURRENCY as FANOUT_INSTANCES
from harness import Stack, fanout_queue_configured, machine, new_meter, quiet, write_results

from chat.fanout import ManagementApiNotifier
from chat.settings import Settings

# The time from a job's SendMessage until Lambda's poller hands it to an invocation: an assumption (SQS long
# polling answers as soon as a message arrives; tens of milliseconds), not a measurement.
QUEUE_HOP_SECONDS = 0.1
# A Query page of 1,000 index entries (about 100 KB) on DynamoDB: an assumption (single-digit to tens of
# milliseconds per request), where moto takes over a second.
DYNAMODB_PAGE_READ_SECONDS = 0.05

PAYLOAD = b'{"type":"message","message":{"content":"a message of ordinary length, about sixty bytes"}}'


def management_client(url: str, concurrency: int) -> Any:
    """As chat.lambda_app makes it."""
    timeouts = Config(connect_timeout=2, read_timeout=5)
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=timeouts.merge(Config(retries={"total_max_attempts": 1}, max_pool_connections=concurrency)),
    )


def fanout_rows(sizes: list[int], sequential_sample: int, post_seconds: float, concurrency: int) -> list[Any]:
    api = ConnectionsServer(post_seconds)
    rows = []
    try:
        client = management_client(api.url, concurrency)
        notifier = ManagementApiNotifier(client, max_workers=concurrency)
        notifier.post([f"warm{i}" for i in range(concurrency)], PAYLOAD)  # connections open, threads started
        for n in sizes:
            ids = [f"C{uuid.uuid4().hex[:14]}=" for _ in range(n)]
            sample = min(n, sequential_sample)
            started = time.monotonic()
            for connection_id in ids[:sample]:
                client.post_to_connection(ConnectionId=connection_id, Data=PAYLOAD)
            per_post = (time.monotonic() - started) / sample
            started, cpu = time.monotonic(), time.process_time()
            delivery = notifier.post(ids, PAYLOAD)
            concurrent = time.monotonic() - started
            cpu = time.process_time() - cpu
            assert delivery.delivered == n, delivery
            row = {
                "recipients": n,
                "sequential_s": per_post * n,
                "sequential_measured_posts": sample,
                "notifier_s": concurrent,
                "notifier_cpu_ms_per_post": cpu / n * 1000,  # CPU of this (the posting) process
                "ideal_s": n * post_seconds / concurrency,
                "concurrency": concurrency,
            }
            rows.append(row)
            print(
                f"{n:>6} recipients: sequential {row['sequential_s']:7.1f} s "
                f"({'measured' if sample == n else f'from {sample} posts'}), notifier {concurrent:6.2f} s, "
                f"ideal {row['ideal_s']:6.2f} s; {row['notifier_cpu_ms_per_post']:.2f} ms CPU per post",
                flush=True,
            )
        notifier.close()
    finally:
        api.stop()
    return rows


def ack_row(members: int, sends: int, post_seconds: float) -> dict[str, Any]:
    """Send -> ack and send -> last push, every member online, through the send_message handler."""
    stack = Stack(new_meter(), http_posts=True, post_delay_seconds=post_seconds)
    try:
        ids = stack.user_ids(members)
        sender = stack.connect(ids[0])
        others = [stack.connect(ids[1])] if members > 1 else []
        stack.register_users(ids[2:])
        room = stack.create_room(ids[0], ids)
        stack.go_online(ids[2:])
        with quiet():
            stack.gateway.send(sender, "ping")  # the service, its clients and pools, as in a warm container
        acks, pushed, posts, parallel, parallel_dynamodb = [], [], [], [], []
        for _ in range(sends):
            stack.invocations.clear()
            before = stack.posts()
            started = time.monotonic()
            with quiet():
                reply = stack.gateway.message(sender, room, "a message of ordinary length, about sixty bytes")
            acks.append(time.monotonic() - started)
            assert reply["type"] == "ack", reply
            with quiet():
                stack.drain()
            posts.append(stack.posts() - before)
            pushed.append(stack.last_post_at() - started)
            parallel.append(stack.parallel_finish(started, FANOUT_INSTANCES, QUEUE_HOP_SECONDS) or pushed[-1])
            parallel_dynamodb.append(
                stack.parallel_finish(started, FANOUT_INSTANCES, QUEUE_HOP_SECONDS, DYNAMODB_PAGE_READ_SECONDS)
                or pushed[-1]
            )
        assert others or members == 1
    finally:
        stack.close()
    row = {
        "members": members,
        "online": members,
        "sends": sends,
        "ack_s": statistics.median(acks),
        "all_pushed_s": statistics.median(pushed),
        "posts": statistics.median(posts),
        "fanout_invocations": len(stack.invocations),
        "parallel_pushed_s": statistics.median(parallel),
        "parallel_dynamodb_pushed_s": statistics.median(parallel_dynamodb),
        "page_read_s": DYNAMODB_PAGE_READ_SECONDS,
        "fanout_instances": FANOUT_INSTANCES,
        "queue_hop_s": QUEUE_HOP_SECONDS,
        "ack_samples_s": acks,
    }
    print(
        f"{members:>6}-member room, all online: ack {row['ack_s'] * 1000:8.1f} ms, "
        f"last push {row['all_pushed_s'] * 1000:8.1f} ms after the send ({row['posts']:.0f} posts; "
        f"{row['parallel_pushed_s'] * 1000:.0f} ms with the fan-out jobs run {FANOUT_INSTANCES} at once, "
        f"{row['parallel_dynamodb_pushed_s'] * 1000:.0f} ms with pages read at DynamoDB's speed)",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 and 1,000 recipients, a 1,000-member room")
    parser.add_argument("--post-ms", type=float, default=20.0)
    parser.add_argument("--sequential", type=int, default=1000, help="sequential posts timed (then extrapolated)")
    args = parser.parse_args()
    post_seconds = args.post_ms / 1000
    concurrency = int(Settings.model_fields["fanout_concurrency"].default)
    started = time.monotonic()
    sizes = [200, 1000] if args.quick else [1000, 10000]
    rows = fanout_rows(sizes, 200 if args.quick else args.sequential, post_seconds, concurrency)
    big = 1000 if args.quick else 10000
    acks = [ack_row(2, 5, post_seconds), ack_row(big, 1 if not args.quick else 2, post_seconds)]
    write_results(
        "fanout_time",
        {
            "machine": machine(),
            "fanout_queue": fanout_queue_configured(),
            "quick": args.quick,
            "seconds": time.monotonic() - started,
            "post_ms": args.post_ms,
            "concurrency": concurrency,
            "fanout": rows,
            "ack": acks,
        },
    )


if __name__ == "__main__":
    main()
