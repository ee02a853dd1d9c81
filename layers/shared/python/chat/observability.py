"""Powertools Logger, Tracer and Metrics, created once per cold start and shared by every handler.

Correlation keys: connectionId, userId, roomId, clientMsgId. Never log a token or a message body.
Configured by the environment: POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL,
POWERTOOLS_TRACE_DISABLED (true where there is no X-Ray daemon: locally and in tests).

The Tracer patches no library at import: Powertools' default (every library X-Ray supports) imports botocore's
client machinery at every cold start, the authorizer's too, which makes no AWS call. Each function patches what it
calls, when it first needs it: `trace_aws_calls()` before the first boto3 client, `trace_http_calls()` before the
authorizer's JWKS fetch. A no-op where tracing is disabled.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer(auto_patch=False)
metrics = Metrics()


def trace_aws_calls() -> None:
    """A subsegment for every botocore call from now on (clients made before are patched too)."""
    tracer.patch(["botocore"])


def trace_http_calls() -> None:
    """A subsegment for every `http.client` request from now on (urllib's)."""
    tracer.patch(["httplib"])


__all__ = ["MetricUnit", "logger", "metrics", "trace_aws_calls", "trace_http_calls", "tracer"]
