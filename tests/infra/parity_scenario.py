"""Drives every handler under moto through a whole chat session and records each AWS call it makes.

Run in its own process by test_parity.py (`python parity_scenario.py OUT.json`): the handlers cache settings and
clients per process, as they do in Lambda. A connection answers 410 Gone, so the clean-up path runs too.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import uuid
from typing import Any

import boto3
import botocore.client
from moto import mock_aws

from chat.ports import Identity
from chat.routes import AUTHORIZER_FUNCTION, ROUTES
from chat.tables import TABLES
from infra.constants import STAGE_NAME
from local import events
from local.dynamodb import create_tables

ENDPOINT = f"https://{events.API_ID}.execute-api.{events.REGION}.amazonaws.com/{STAGE_NAME}"
TABLE_NAMES = {spec.name: f"chat-{spec.name}" for spec in TABLES}
GONE_CONNECTION = "goneConnection="
ENVIRONMENT = {
    **{spec.env_var: TABLE_NAMES[spec.name] for spec in TABLES},
    "CONNECTIONS_ENDPOINT_URL": ENDPOINT,
    "JWT_ISSUER": "https://issuer.invalid",
    "JWT_AUDIENCE": "chat",
    "JWKS_URL": "https://issuer.invalid/.well-known/jwks.json",
    "POWERTOOLS_SERVICE_NAME": "chat",
    "POWERTOOLS_METRICS_NAMESPACE": "ChatParity",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": events.REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.function: str | None = None
        original = botocore.client.BaseClient._make_api_call
        recorder = self

        def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if recorder.function is not None:
                recorder.calls.append(
                    {
                        "function": recorder.function,
                        "service": client.meta.service_model.signing_name,
                        "operation": operation,
                        "endpoint": client.meta.endpoint_url,
                        "params": _summary(params),
                    }
                )
                if operation == "PostToConnection" and params.get("ConnectionId") == GONE_CONNECTION:
                    error = {"Error": {"Code": "GoneException", "Message": "Gone"}, "ResponseMetadata": {}}
                    raise client.exceptions.GoneException(error, operation)
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = record  # type: ignore[method-assign]

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        handler = importlib.import_module(f"functions.{function}.handler")
        self.function = function
        try:
            return handler.lambda_handler(event, events.LambdaContext(function_name=function))
        except Exception as exc:  # an authorizer denies by raising; any other function should not raise
            if function != AUTHORIZER_FUNCTION:
                self.errors.append(f"{function}: {type(exc).__name__}: {exc}")
            return None
        finally:
            self.function = None


def _summary(params: dict[str, Any]) -> dict[str, Any]:
    """What decides the IAM action and resource of a call."""
    summary = {k: params[k] for k in ("TableName", "IndexName", "ConnectionId") if k in params}
    if "RequestItems" in params:
        summary["RequestItems"] = sorted(params["RequestItems"])
    if "TransactItems" in params:
        summary["TransactItems"] = [
            {kind: body["TableName"]} for item in params["TransactItems"] for kind, body in item.items()
        ]
    return summary


class User:
    def __init__(self, recorder: Recorder, user_id: str, connection_id: str | None = None) -> None:
        self.recorder = recorder
        identity = Identity(user_id, user_id.capitalize(), int(time.time()) + 3600)
        self.context = events.authorizer_context(identity.authorizer_context(), user_id)
        info = {"connection_id": connection_id} if connection_id else {}
        self.connection = events.ConnectionInfo(stage=STAGE_NAME, api_id=events.API_ID, **info)

    def connect(self) -> None:
        self.recorder.invoke("connect", events.connect_event(self.connection, self.context, {"token": "t"}))

    def disconnect(self) -> None:
        self.recorder.invoke("disconnect", events.disconnect_event(self.connection, self.context))

    def send(self, action: str, **fields: Any) -> dict[str, Any]:
        route = action if action in ROUTES else "$default"
        body = json.dumps({"action": action, "requestId": uuid.uuid4().hex[:8], **fields})
        event = events.message_event(self.connection, route, body, self.context)
        reply = self.recorder.invoke(ROUTES[route], event)
        if isinstance(reply, dict) and isinstance(reply.get("body"), str):
            return dict(json.loads(reply["body"]))
        return {}


def chat_session(recorder: Recorder) -> None:
    no_token = events.authorizer_event(events.ConnectionInfo(stage=STAGE_NAME, api_id=events.API_ID), {})
    recorder.invoke(AUTHORIZER_FUNCTION, no_token)
    alice, bob = User(recorder, "alice"), User(recorder, "bob")
    carol = User(recorder, "carol", connection_id=GONE_CONNECTION)
    for user in (alice, bob, carol):
        user.connect()
    room = alice.send("createRoom", name="general", memberIds=["bob", "carol"]).get("room", {})
    room_id = room.get("id", "missing-room")
    message_id = str(uuid.uuid4())
    # Each push to carol's connection answers 410 and drops it: she comes back so that every fan-out meets it.
    carol.connect()
    alice.send("sendMessage", roomId=room_id, content="hello", clientMsgId=message_id)
    alice.send("sendMessage", roomId=room_id, content="hello", clientMsgId=message_id)
    carol.connect()
    alice.send("typing", roomId=room_id, isTyping=True)
    bob.send("history", roomId=room_id, afterSeq=0)
    bob.send("history", roomId=room_id, beforeSeq=10, limit=1)
    alice.send("listRooms")
    alice.send("listUsers", query="b")
    alice.send("presence", roomId=room_id)
    alice.send("openDirect", userId="bob")
    alice.send("addMembers", roomId=room_id, memberIds=["dave"])
    bob.send("leaveRoom", roomId=room_id)
    alice.send("ping")
    alice.send("dance")
    for user in (bob, alice, carol):
        user.disconnect()


def main(out: str) -> None:
    os.environ.update(ENVIRONMENT)
    with mock_aws():
        create_tables(boto3.client("dynamodb"), TABLE_NAMES)
        recorder = Recorder()
        chat_session(recorder)
    with open(out, "w") as handle:
        json.dump({"calls": recorder.calls, "errors": recorder.errors}, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
