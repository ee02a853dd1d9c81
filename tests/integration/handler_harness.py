"""Drives the real Lambda handlers with API-Gateway-shaped events, as API Gateway would, on moto's DynamoDB and a
stand-in `@connections` API that records what each connection was sent."""

from __future__ import annotations

import importlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from chat.lambda_app import chat_service
from chat.ports import Identity
from chat.routes import ROUTES
from chat.settings import load_settings
from chat.tables import TABLES
from local.events import (
    ConnectionInfo,
    LambdaContext,
    authorizer_context,
    connect_event,
    disconnect_event,
    message_event,
)
from tests.support.connections_api import ConnectionsApi

TABLE_NAMES = {spec.name: f"test-{spec.name}" for spec in TABLES}


def chat_environment(connections_url: str, **overrides: str) -> dict[str, str]:
    env = {spec.env_var: TABLE_NAMES[spec.name] for spec in TABLES}
    env.update(
        CONNECTIONS_ENDPOINT_URL=connections_url,
        JWT_ISSUER="https://issuer.test",
        JWT_AUDIENCE="chat-tests",
        JWKS_URL="https://issuer.test/.well-known/jwks.json",
        RATE_LIMIT_FRAMES="1000",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        POWERTOOLS_SERVICE_NAME="chat",
        POWERTOOLS_METRICS_NAMESPACE="chat-tests",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="INFO",
    )
    env.update(overrides)
    return env


def reset_caches() -> None:
    load_settings.cache_clear()
    chat_service.cache_clear()


@dataclass
class Session:
    """One client connection: what API Gateway knows of it."""

    connection: ConnectionInfo
    identity: Identity
    authorizer: dict[str, Any]

    @property
    def connection_id(self) -> str:
        return self.connection.connection_id

    @property
    def user_id(self) -> str:
        return self.identity.user_id


class Gateway:
    """Plays API Gateway: route selection on `action`, the authorizer context on every event."""

    def __init__(self, connections_api: ConnectionsApi) -> None:
        self.api = connections_api

    def handler(self, function: str) -> Any:
        return importlib.import_module(f"functions.{function}.handler").lambda_handler

    def connect(
        self,
        name: str,
        *,
        user_id: str | None = None,
        token_lifetime: int = 3600,
        connection: ConnectionInfo | None = None,
    ) -> Session:
        identity = Identity(user_id or name.lower(), name, int(time.time()) + token_lifetime)
        conn = connection or ConnectionInfo()
        authorizer = authorizer_context(identity.authorizer_context(), identity.user_id)
        response = self.handler("connect")(connect_event(conn, authorizer, {"token": "t"}), LambdaContext("connect"))
        assert response["statusCode"] == 200
        return Session(conn, identity, authorizer)

    def disconnect(self, session: Session) -> None:
        event = disconnect_event(session.connection, session.authorizer, 1001, "Going away")
        assert self.handler("disconnect")(event, LambdaContext("disconnect"))["statusCode"] == 200

    def send_raw(self, session: Session, body: str) -> dict[str, Any] | None:
        try:
            action = json.loads(body).get("action")
        except (ValueError, AttributeError):
            action = None
        route = action if action in ROUTES and not str(action).startswith("$") else "$default"
        function = ROUTES[route]
        event = message_event(session.connection, route, body, session.authorizer)
        response = self.handler(function)(event, LambdaContext(function))
        assert response["statusCode"] == 200
        return json.loads(response["body"]) if "body" in response else None

    def send(self, session: Session, action: str, **fields: Any) -> dict[str, Any]:
        reply = self.send_raw(session, json.dumps({"action": action, **fields}))
        assert reply is not None, f"{action} got no reply"
        return reply

    def message(self, session: Session, room_id: str, content: str = "hello", **fields: Any) -> dict[str, Any]:
        fields.setdefault("clientMsgId", str(uuid.uuid4()))
        return self.send(session, "sendMessage", roomId=room_id, content=content, **fields)

    def group(self, owner: Session, *members: Session, name: str = "team") -> dict[str, Any]:
        reply = self.send(owner, "createRoom", name=name, memberIds=[m.user_id for m in members])
        assert reply["type"] == "room", reply
        return dict(reply["room"])


def use_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_caches()
