"""Powertools Logger, Tracer and Metrics, created once per cold start and shared by every handler.

Correlation keys: connectionId, userId, roomId, clientMsgId. Never log a token or a message body.
Configured by the environment: POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL,
POWERTOOLS_TRACE_DISABLED (true where there is no X-Ray daemon: locally and in tests).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
