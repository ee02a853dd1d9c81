"""What one `sendMessage` costs, in AWS requests, as the room and the rest of the system grow.

Runs the real handlers on moto (no AWS) and counts every DynamoDB request and Management API post per message.
The claim it checks: the cost of a message grows with the members of its room, never with users outside it.
Counts only: moto's latencies say nothing about DynamoDB's.

    .venv/bin/python bench/message_cost.py [--messages 30]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT)]
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "chat")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "chat-bench")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import warnings  # noqa: E402

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from local.dynamodb import create_tables  # noqa: E402
from tests.integration.handler_harness import TABLE_NAMES, Gateway, chat_environment, reset_caches  # noqa: E402
from tests.support.connections_api import ConnectionsApi  # noqa: E402


def measure(room_size: int, users_outside: int, messages: int) -> dict[str, float]:
    api = ConnectionsApi().start()
    os.environ.update(chat_environment(api.url, RATE_LIMIT_FRAMES="100000"))
    reset_caches()
    operations: Counter[str] = Counter()
    try:
        with mock_aws():
            counting = False

            def count(model: Any, **_: Any) -> None:  # a before-call hook must return None
                if counting:
                    operations[model.name] += 1

            # Clients copy the session's event hooks when they are made (on the first handler call): hook first.
            boto3._get_default_session().events.register("before-call.dynamodb", count)
            create_tables(boto3.client("dynamodb"), TABLE_NAMES)
            gateway = Gateway(api)
            members = [gateway.connect(f"Member{i}") for i in range(room_size)]
            for i in range(users_outside):
                gateway.connect(f"Outsider{i}")
            room = gateway.group(members[0], *members[1:])
            posts_before = sum(api.posts.values())
            counting = True
            for n in range(messages):
                reply = gateway.message(members[n % room_size], room["id"], f"message {n}")
                assert reply["type"] == "ack", reply
            counting = False
            posts = sum(api.posts.values()) - posts_before
    finally:
        api.stop()
        reset_caches()
    per_message = {op: count / messages for op, count in operations.items()}
    return {"dynamodb_requests": sum(per_message.values()), **per_message, "posts": posts / messages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--outside", type=int, default=300, help="users connected outside the room")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"sendMessage cost per message ({args.messages} messages each, real handlers on moto)\n")
    header = f"{'room':>5} {'outside':>8} {'DynamoDB req':>13} {'posts':>6}  requests by operation"
    print(header)
    print("-" * len(header))
    for room_size, outside in ((2, 0), (2, args.outside), (10, 0), (10, args.outside), (50, 0), (50, args.outside)):
        with contextlib.redirect_stdout(io.StringIO()):  # the handlers' metrics (EMF) go to stdout
            figures = measure(room_size, outside, args.messages)
        by_operation = ", ".join(
            f"{op} {figures[op]:.2f}" for op in sorted(figures) if op[0].isupper() and op != "Scan"
        )
        print(
            f"{room_size:>5} {outside:>8} {figures['dynamodb_requests']:>13.2f} "
            f"{figures['posts']:>6.1f}  {by_operation}"
        )
        assert "Scan" not in figures
    print("\nposts = PostToConnection calls per message: the other members' connections (the sender gets the ack).")


if __name__ == "__main__":
    main()
