"""Fixed choices of the deployment, each with its reason. What a deployer may change lives in config.py."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, aws_lambda, aws_logs

STACK_NAME = "ServerlessChat"
SERVICE_NAME = "chat"
METRICS_NAMESPACE = "ServerlessChat"

# Newest Python runtime for which pydantic-core and cryptography publish manylinux aarch64 wheels.
RUNTIME = aws_lambda.Runtime.PYTHON_3_14
# Graviton: about 20% cheaper per GB-second than x86, and every dependency ships aarch64 wheels.
ARCHITECTURE = aws_lambda.Architecture.ARM_64
PYTHON_VERSION = RUNTIME.name.removeprefix("python")
PIP_PLATFORM = "manylinux2014_aarch64"
WHEEL_MACHINE = "aarch64"

HANDLER = "handler.lambda_handler"
STAGE_NAME = "live"
# Per-stage limits for all routes together; each user is also limited by the service's own rate limit.
THROTTLE_RATE_PER_SECOND = 500
THROTTLE_BURST = 1000
LOG_RETENTION = aws_logs.RetentionDays.ONE_MONTH


@dataclass(frozen=True)
class Sizing:
    memory_mb: int
    timeout: Duration


# Lambda CPU grows with memory: 512 MB keeps the cold start (pydantic, PyJWT, Powertools) near 1 s.
# API Gateway stops waiting for an integration after 29 s, so no route needs a longer timeout.
SIZING: dict[str, Sizing] = {
    # RS256 check plus a JWKS fetch on a cold start; API Gateway holds the upgrade meanwhile.
    "authorizer": Sizing(512, Duration.seconds(10)),
    # One UpdateItem, once per user; Cognito waits for it during sign-up (its trigger timeout is 5 s).
    "sign_up": Sizing(512, Duration.seconds(5)),
    # A few DynamoDB writes and a presence push to the user's rooms.
    "connect": Sizing(512, Duration.seconds(10)),
    "disconnect": Sizing(512, Duration.seconds(10)),
    # One transaction, then a fan-out by a thread pool: more memory buys more CPU and network for the pool.
    "send_message": Sizing(1024, Duration.seconds(29)),
    "typing": Sizing(512, Duration.seconds(10)),
    # One Query of at most 100 messages.
    "history": Sizing(512, Duration.seconds(10)),
    # Room changes push the room to its members.
    "rooms": Sizing(512, Duration.seconds(15)),
}
