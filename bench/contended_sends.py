"""Members of one room sending at the same moment: how long their sends take, and how many transactions it costs.

Every member sends its messages one after the other, all members at once, straight to the DynamoDB store on the
local stack's embedded DynamoDB (moto, one request at a time). Figures, not a verdict: moto serializes every
request in this one process, so its times are far slower than DynamoDB's; what carries over is the shape (how
many transactions a message costs under contention, how long the slowest send waits compared with the median).

    .venv/bin/python bench/contended_sends.py [--members 20] [--messages 10]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT)]
for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
    os.environ.setdefault(name, value)

from chat.dynamo import DynamoChatStore  # noqa: E402
from chat.errors import Unavailable  # noqa: E402
from chat.ports import MessageDraft, RoomRecord  # noqa: E402
from chat.service import iso  # noqa: E402
from chat.tables import TABLES  # noqa: E402
from local.dynamodb import EmbeddedDynamoDB  # noqa: E402


def main(members: int, messages: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with EmbeddedDynamoDB() as dynamodb:
        names = {spec.name: f"bench-{spec.name}" for spec in TABLES}
        dynamodb.create_tables(names)
        senders = [f"member{i:02}" for i in range(members)]
        DynamoChatStore(dynamodb.client(), names).create_room(
            RoomRecord("r_busy", "busy", True, iso(time.time())), senders
        )
        transactions = 0
        lock = threading.Lock()

        def count(**_: object) -> None:
            nonlocal transactions
            with lock:
                transactions += 1

        stores = []
        for _ in senders:  # boto3 clients are built before the threads start: its default session is not thread-safe
            client = dynamodb.client()
            client.meta.events.register("before-call.dynamodb.TransactWriteItems", count)
            stores.append(DynamoChatStore(client, names))
        latencies: list[float] = []
        gave_up = 0
        start = threading.Barrier(members)

        def send_all(index: int) -> None:
            nonlocal gave_up
            start.wait()
            for n in range(messages):
                draft = MessageDraft(
                    uuid.uuid4().hex,
                    "r_busy",
                    senders[index],
                    senders[index],
                    f"#{n}",
                    iso(time.time()),
                    str(uuid.uuid4()),
                    None,
                )
                began = time.monotonic()
                try:
                    stores[index].append_message(draft)
                except Unavailable:
                    gave_up += 1
                with lock:
                    latencies.append(time.monotonic() - began)

        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=members) as pool:
            list(pool.map(send_all, range(members)))
        elapsed = time.monotonic() - began
    total = members * messages
    print(f"{members} members x {messages} messages at once into one room ({total} sends):")
    print(f"  all sends done in          {elapsed:6.1f} s")
    print(f"  transactions per message   {transactions / total:6.2f}")
    print(f"  send latency median        {statistics.median(latencies) * 1000:6.0f} ms")
    print(f"  send latency max           {max(latencies) * 1000:6.0f} ms")
    print(f"  gave up (unavailable)      {gave_up:6d}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    arguments = parser.parse_args()
    main(arguments.members, arguments.messages)
