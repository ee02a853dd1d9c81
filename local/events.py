"""Events shaped exactly like API Gateway's WebSocket events, and a Lambda context, for the local gateway and tests.

Shapes follow AWS's documented events (and Powertools' `APIGatewayWebSocket*EventModel`, checked in the tests):
the REQUEST authorizer event of `$connect`, then `$connect`, message routes and `$disconnect`, each carrying the
authorizer's context under `requestContext.authorizer` as API Gateway does for the life of the connection.
"""

from __future__ import annotations

import base64
import io
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

API_ID = "local"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def new_connection_id() -> str:
    # API Gateway's connection ids are 16 base64 characters ending in "="; keep the look, not the meaning.
    return base64.b64encode(os.urandom(11)).decode()[:15] + "="


@dataclass(frozen=True)
class ConnectionInfo:
    connection_id: str = field(default_factory=new_connection_id)
    connected_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    source_ip: str = "127.0.0.1"
    user_agent: str = "local-client"
    domain_name: str = "127.0.0.1"
    stage: str = "local"
    api_id: str = API_ID


def new_request_id() -> str:
    return uuid.uuid4().hex[:16] + "="


def _request_context(
    conn: ConnectionInfo,
    route_key: str,
    event_type: str,
    authorizer: dict[str, Any] | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex[:16] + "=",
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "messageDirection": "IN",
        "stage": conn.stage,
        "connectedAt": conn.connected_at_ms,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
        "requestId": request_id or new_request_id(),
        "domainName": conn.domain_name,
        "connectionId": conn.connection_id,
        "apiId": conn.api_id,
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return context


def _headers(conn: ConnectionInfo) -> dict[str, str]:
    return {
        "Host": conn.domain_name,
        "User-Agent": conn.user_agent,
        "Sec-WebSocket-Version": "13",
        "X-Forwarded-For": conn.source_ip,
    }


def method_arn(conn: ConnectionInfo, route_key: str = "$connect") -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{conn.api_id}/{conn.stage}/{route_key}"


def authorizer_event(conn: ConnectionInfo, query: dict[str, str]) -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway sends before `$connect` (identity source: the query string)."""
    headers = _headers(conn)
    return {
        "type": "REQUEST",
        "methodArn": method_arn(conn),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query),
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "stageVariables": {},
        "requestContext": _request_context(conn, "$connect", "CONNECT", None),
    }


def authorizer_context(policy_context: dict[str, Any], principal_id: str) -> dict[str, Any]:
    """What API Gateway puts in `requestContext.authorizer` for every event of an authorized connection."""
    return {**policy_context, "principalId": principal_id, "integrationLatency": 0}


def connect_event(conn: ConnectionInfo, authorizer: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    headers = _headers(conn)
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query),
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "requestContext": _request_context(conn, "$connect", "CONNECT", authorizer),
        "isBase64Encoded": False,
    }


def message_event(
    conn: ConnectionInfo, route_key: str, body: str, authorizer: dict[str, Any], request_id: str | None = None
) -> dict[str, Any]:
    context = _request_context(conn, route_key, "MESSAGE", authorizer, request_id)
    context["messageId"] = uuid.uuid4().hex[:16] + "="
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(
    conn: ConnectionInfo, authorizer: dict[str, Any], status_code: int = 1000, reason: str = ""
) -> dict[str, Any]:
    headers = {"Host": conn.domain_name, "x-api-key": "", "x-restapi": ""}
    context = _request_context(conn, "$disconnect", "DISCONNECT", authorizer)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


@dataclass
class LambdaContext:
    """What Powertools reads from the Lambda context object."""

    function_name: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class RawBody(io.BytesIO):
    """A response body as botocore reads it from urllib3 (`stream`), for answers given in process."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        contents = self.read()
        if contents:
            yield contents
