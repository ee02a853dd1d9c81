"""Process-wide test settings that must exist before any handler module is imported.

Powertools reads its configuration when `chat.observability` is first imported, as Lambda does at cold start.
"""

import os

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "chat")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "chat-tests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
