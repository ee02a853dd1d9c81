"""What the chat costs on AWS: at idle, and per million chat messages, from a formula anyone can check.

    python bench/cost.py [--recipients 5] [--send-ms 80] [--log-bytes 1500]

One chat message = one `sendMessage` frame: API Gateway receives it, sends the `ack` back and pushes it to each
online recipient; the send_message function runs once (rate-limit update, room read, one transaction writing the
room, the message and its idempotency key, one BatchGetItem of the members); logs and traces are ingested.
Durations come from the benchmark (`make bench`, see bench/); prices are us-east-1 list prices, on demand,
without free tiers (which make a small deployment cheaper still).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

MILLION = 1_000_000
# infra/constants.py SIZING["send_message"] (a test keeps the two equal; importing CDK here would be slow).
SEND_MESSAGE_MEMORY_MB = 1024
# infra/constants.py SIZING, per function (MB).
# infra/constants.py FANOUT_MAX_CONCURRENCY: the fan-out function's invocations at once (a test keeps them equal).
FANOUT_MAX_CONCURRENCY = 10
MEMORY_MB = {"send_message": SEND_MESSAGE_MEMORY_MB, "connect": 512, "disconnect": 512, "typing": 512, "fanout": 1769}

# The one price table of the repo: bench/message_cost.py and docs/benchmarks.md use it too.
PRICES_DATE = "2025-11"  # when these list prices were read from the pages below (us-east-1, first tier)
PRICE_SOURCES = {
    "API Gateway (WebSocket messages, connection minutes)": "https://aws.amazon.com/api-gateway/pricing/",
    "Lambda (requests, GB-seconds on arm64)": "https://aws.amazon.com/lambda/pricing/",
    "DynamoDB on-demand (read and write request units)": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "SQS (standard queue requests)": "https://aws.amazon.com/sqs/pricing/",
}


@dataclass(frozen=True)
class Prices:
    """USD, us-east-1 list prices of PRICES_DATE, first tier, no free tier; edit here when they change."""

    api_message: float = 1.00 / MILLION  # WebSocket messages, per 32 KB, sent or received
    api_connection_minute: float = 0.25 / MILLION
    lambda_request: float = 0.20 / MILLION
    lambda_gb_second_arm: float = 0.0000133334
    dynamodb_write_unit: float = 0.625 / MILLION  # on demand (since the 2024-11 cut); per 1 KB write
    dynamodb_read_unit: float = 0.125 / MILLION  # on demand: one strongly consistent read of up to 4 KB
    sqs_request: float = 0.40 / MILLION  # standard queue, per request of up to 64 KB
    dynamodb_gb_month: float = 0.25
    pitr_gb_month: float = 0.20
    logs_ingested_gb: float = 0.50
    xray_trace: float = 5.00 / MILLION
    s3_gb_month: float = 0.023


@dataclass(frozen=True)
class Usage:
    recipients: int  # online connections a message is pushed to
    send_ms: float  # billed duration of one send_message invocation
    log_bytes: int  # access log line plus function log lines for one message
    trace_share: float  # fraction of invocations X-Ray samples (1 per second, then 5%)
    message_bytes: int = 600  # a stored message item


def per_message(usage: Usage, prices: Prices) -> dict[str, float]:
    """Cost of one chat message, by item."""
    memory_gb = SEND_MESSAGE_MEMORY_MB / 1024
    transaction_write_units = 2 * 3  # room, message, idempotency key: each under 1 KB, doubled in a transaction
    rate_limit_write_units = 1
    read_units = 1 + (usage.recipients + 1)  # the room, then every member's user item
    return {
        "API Gateway messages": (2 + usage.recipients) * prices.api_message,
        "Lambda requests": prices.lambda_request,
        "Lambda compute": memory_gb * usage.send_ms / 1000 * prices.lambda_gb_second_arm,
        "DynamoDB writes": (transaction_write_units + rate_limit_write_units) * prices.dynamodb_write_unit,
        "DynamoDB reads": read_units * prices.dynamodb_read_unit,
        "CloudWatch Logs": usage.log_bytes / 1024**3 * prices.logs_ingested_gb,
        "X-Ray": usage.trace_share * prices.xray_trace,
    }


def storage_per_million_per_month(usage: Usage, prices: Prices) -> float:
    """Keeping a million messages (and their idempotency keys) for a month, with point-in-time recovery."""
    gigabytes = MILLION * (usage.message_bytes + 100) / 1024**3
    return gigabytes * (prices.dynamodb_gb_month + prices.pitr_gb_month)


def idle_per_month(prices: Prices) -> dict[str, float]:
    """Nothing is provisioned: with no traffic only stored bytes cost (a few MB of web files and layers)."""
    return {"S3 (web client, 1 MB)": prices.s3_gb_month / 1024, "API Gateway, Lambda, DynamoDB, Cognito": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=5, help="online connections per message")
    parser.add_argument("--send-ms", type=float, default=80.0, help="send_message billed duration (benchmark)")
    parser.add_argument("--log-bytes", type=int, default=1500, help="log bytes ingested per message")
    parser.add_argument("--trace-share", type=float, default=0.05, help="share of invocations traced")
    args = parser.parse_args()
    usage = Usage(args.recipients, args.send_ms, args.log_bytes, args.trace_share)
    prices = Prices()

    items = per_message(usage, prices)
    print(f"Per million chat messages ({usage.recipients} recipients, send_message {usage.send_ms:g} ms):")
    for name, cost in items.items():
        print(f"  {name:<24} ${cost * MILLION:8.2f}")
    print(f"  {'total':<24} ${sum(items.values()) * MILLION:8.2f}")
    print(f"  {'+ storage, per month':<24} ${storage_per_million_per_month(usage, prices):8.2f}")
    print(f"Connections: ${prices.api_connection_minute * 60 * 8 * 30:.4f} per user online 8 hours a day, a month")
    print(f"At idle: ${sum(idle_per_month(prices).values()):.2f} a month")


if __name__ == "__main__":
    main()
