"""X-Ray traces and logs never hold a message's content or a token, even with tracing on and every Powertools
variable that could add them set (`POWERTOOLS_LOGGER_LOG_EVENT`, `POWERTOOLS_TRACER_CAPTURE_RESPONSE`, ...).

The handlers run in a process of their own, set up like a Lambda execution environment with active tracing: the
Powertools Tracer is enabled at cold start and patches botocore, and the X-Ray recorder's emitter is replaced by
one that keeps every segment it would have sent to the daemon (nothing goes over UDP). Run as a script, this file
is that process: `python test_privacy_traces.py OUT.json` drives the authorizer, `$connect`, `sendMessage` and
`history` on moto and a recording `@connections` endpoint, and writes the emitted trace entities to OUT.json;
its stdout (every log line) is read by the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Plain ASCII, so that it reads the same in any JSON encoding of a trace or a log line.
CONTENT = f"privacy-canary-{uuid.uuid4().hex}"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
# As in a Lambda execution environment with active tracing, and every switch that could record more turned on.
LAMBDA_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "chat-privacy",
    "_X_AMZN_TRACE_ID": TRACE_HEADER,
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",  # fan-out threads have no segment: not what is tested here
    "POWERTOOLS_LOGGER_LOG_EVENT": "true",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "true",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "true",
    "POWERTOOLS_LOG_LEVEL": "DEBUG",
    "POWERTOOLS_SERVICE_NAME": "chat",
    "POWERTOOLS_METRICS_NAMESPACE": "chat-privacy",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("privacy") / "run.json"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "_X_AMZN"))}
    env = {
        **inherited,
        **LAMBDA_ENVIRONMENT,
        "PRIVACY_CANARY": CONTENT,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared" / "python"), str(ROOT)]),
    }
    process = subprocess.run(
        [sys.executable, __file__, str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stderr[-5000:]
    result = dict(json.loads(out.read_text()))
    result["logs"] = process.stdout + process.stderr
    return result


def test_the_handlers_ran_traced_and_handled_the_secrets(run: dict[str, Any]) -> None:
    """Guards the other tests: tracing was live (handler and DynamoDB subsegments), and the content and the token
    went through the handlers (the history page held the message, the token opened the connection)."""
    names = [entity.get("name") for entity in run["trace"]]
    assert names.count("## lambda_handler") >= len(run["invoked"]) >= 5
    assert "dynamodb" in names
    assert run["history_holds_the_message"] and run["token_accepted"]
    assert CONTENT not in run["token"]


def test_no_trace_holds_a_message_content(run: dict[str, Any]) -> None:
    leaks = [entity.get("name") for entity in run["trace"] if CONTENT in json.dumps(entity)]
    assert not leaks, f"message content recorded in X-Ray by {leaks}"


def test_no_trace_holds_a_token(run: dict[str, Any]) -> None:
    signature = run["token"].rsplit(".", 1)[1]
    leaks = [entity.get("name") for entity in run["trace"] if signature in json.dumps(entity)]
    assert not leaks, f"a token recorded in X-Ray by {leaks}"


def test_no_log_line_holds_a_message_content_or_a_token(run: dict[str, Any]) -> None:
    signature = run["token"].rsplit(".", 1)[1]
    leaks = [line for line in run["logs"].splitlines() if CONTENT in line or signature in line]
    assert not leaks, "\n".join(leaks)


# ------------------------------------------------------------------------------------- the Lambda-like process


def _lambda_process(out: str) -> None:
    # Before any handler import: the emitter of the recorder the Tracer uses, keeping what it would send.
    from aws_xray_sdk.core import xray_recorder
    from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter

    sent: list[dict[str, Any]] = []

    class KeepingEmitter(UDPEmitter):
        def send_entity(self, entity: Any) -> None:
            sent.append(json.loads(entity.serialize()))

    xray_recorder.configure(emitter=KeepingEmitter())

    import boto3
    from moto import mock_aws

    from chat.ports import Identity
    from chat.routes import ROUTES
    from local.dynamodb import create_tables
    from local.events import (
        ConnectionInfo,
        LambdaContext,
        authorizer_context,
        authorizer_event,
        connect_event,
        message_event,
    )
    from tests.integration.handler_harness import TABLE_NAMES, chat_environment
    from tests.support.connections_api import ConnectionsApi
    from tests.support.tokens import TestIssuer, serve_jwks

    content = os.environ["PRIVACY_CANARY"]
    issuer = TestIssuer()
    api = ConnectionsApi().start()
    invoked: list[str] = []

    def invoke(function: str, event: dict[str, Any]) -> Any:
        import importlib

        handler = importlib.import_module(f"functions.{function}.handler").lambda_handler
        invoked.append(function)
        try:
            return handler(event, LambdaContext(function))
        except Exception as exc:  # the authorizer refuses a token by raising "Unauthorized"
            return exc

    with serve_jwks(issuer.jwks()) as jwks, mock_aws():
        environment = chat_environment(api.url, JWT_ISSUER=issuer.issuer, JWT_AUDIENCE=issuer.audience)
        environment.update(JWKS_URL=jwks.url, RATE_LIMIT_FRAMES="1000")
        del environment["POWERTOOLS_TRACE_DISABLED"]  # tracing on, as on AWS
        os.environ.update({k: v for k, v in environment.items() if not k.startswith("AWS_")})
        create_tables(boto3.client("dynamodb"), TABLE_NAMES)

        token = issuer.token(sub="alice", name="Alice")
        alice_conn, bob_conn = ConnectionInfo(), ConnectionInfo()
        allowed = invoke("authorizer", authorizer_event(alice_conn, {"token": token}))
        invoke("authorizer", authorizer_event(alice_conn, {"token": issuer.tampered_token()}))
        expires_at = int(allowed["context"]["tokenExpiresAt"])
        alice = authorizer_context(Identity("alice", "Alice", expires_at).authorizer_context(), "alice")
        bob = authorizer_context(Identity("bob", "Bob", expires_at).authorizer_context(), "bob")
        # A real $connect event carries the query string, token included.
        invoke("connect", connect_event(alice_conn, alice, {"token": token}))
        invoke("connect", connect_event(bob_conn, bob, {"token": issuer.token(sub="bob", name="Bob")}))

        def frame(conn: ConnectionInfo, context: dict[str, Any], route: str, **body: Any) -> dict[str, Any]:
            event = message_event(conn, route, json.dumps({"action": route, **body}), context)
            return dict(json.loads(invoke(ROUTES[route], event)["body"]))

        room = frame(alice_conn, alice, "createRoom", name="private", memberIds=["bob"])["room"]
        frame(alice_conn, alice, "sendMessage", roomId=room["id"], content=content, clientMsgId=str(uuid.uuid4()))
        page = frame(bob_conn, bob, "history", roomId=room["id"], afterSeq=0)
    api.stop()
    result = {
        "trace": sent,
        "invoked": invoked,
        "token": token,
        "token_accepted": allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow",
        "history_holds_the_message": [m["content"] for m in page["messages"]] == [content],
    }
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    _lambda_process(sys.argv[1])
