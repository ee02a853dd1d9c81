"""The `$connect` authorizer Lambda, driven with API Gateway's REQUEST authorizer event, against a JWKS served
over real HTTP from 127.0.0.1: what API Gateway gets back (Allow, Deny, "Unauthorized") and what is logged."""

from __future__ import annotations

import importlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chat.observability import logger, metrics
from chat.settings import Settings, load_settings
from functions.authorizer import handler
from local.events import ConnectionInfo, LambdaContext, authorizer_event
from tests.support.tokens import JwksServer, TestIssuer, serve_jwks

ISSUER = TestIssuer(issuer="https://issuer.chat.test/pool", audience="chat-web")


@dataclass
class Authorizer:
    jwks: JwksServer
    logs: io.StringIO
    stdout: pytest.CaptureFixture[str]

    def invoke(self, query: dict[str, str], conn: ConnectionInfo | None = None) -> dict[str, Any]:
        event = authorizer_event(conn or ConnectionInfo(), query)
        result: dict[str, Any] = handler.lambda_handler(event, LambdaContext("authorizer"))
        return result

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.getvalue().splitlines()]

    def everything_written(self) -> str:
        """Every log line and everything printed (Powertools prints the EMF metrics to stdout)."""
        captured = self.stdout.readouterr()
        return self.logs.getvalue() + captured.out + captured.err


@pytest.fixture
def authorizer(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Authorizer]:
    with serve_jwks(ISSUER.jwks()) as jwks:
        for name, required in Settings.environment_variables().items():
            if required:
                monkeypatch.setenv(name, f"dummy-{name.lower()}")
        monkeypatch.setenv("JWT_ISSUER", ISSUER.issuer)
        monkeypatch.setenv("JWT_AUDIENCE", f"{ISSUER.audience},chat-mobile")
        monkeypatch.setenv("JWKS_URL", jwks.url)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "chat-tests")
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "chat")
        # Metrics and Logger read their environment once, whenever chat.observability was first imported.
        monkeypatch.setattr(metrics, "namespace", "chat-tests")
        logs = io.StringIO()
        monkeypatch.setattr(logger.registered_handler, "stream", logs)
        load_settings.cache_clear()
        handler.token_verifier.cache_clear()
        yield Authorizer(jwks, logs, capsys)
        load_settings.cache_clear()
        handler.token_verifier.cache_clear()


def test_valid_token_gets_an_allow_policy_for_connect_with_the_identity_as_context(
    authorizer: Authorizer,
) -> None:
    conn = ConnectionInfo()
    expires_at = int(time.time()) + 600
    token = ISSUER.token(sub="u-alice", name="Alice", exp=expires_at)

    result = authorizer.invoke({"token": token}, conn)

    assert result["principalId"] == "u-alice"
    assert result["policyDocument"]["Statement"] == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": f"arn:aws:execute-api:us-east-1:123456789012:{conn.api_id}/{conn.stage}/$connect",
        }
    ]
    assert result["context"] == {"userId": "u-alice", "userName": "Alice", "tokenExpiresAt": expires_at}


def test_cognito_access_token_is_allowed(authorizer: Authorizer) -> None:
    result = authorizer.invoke({"token": ISSUER.cognito_access_token(sub="u-cognito")})

    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert result["principalId"] == "u-cognito"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({}, id="no-token-parameter"),
        pytest.param({"token": ""}, id="empty-token"),
        pytest.param({"access_token": ISSUER.token()}, id="token-under-another-name"),
        pytest.param({"token": "not-a-jwt"}, id="garbage"),
        pytest.param({"token": ISSUER.expired_token()}, id="expired"),
        pytest.param({"token": ISSUER.tampered_token()}, id="tampered"),
        pytest.param({"token": ISSUER.alg_none_token()}, id="alg-none"),
        pytest.param({"token": ISSUER.hs256_with_public_key_token()}, id="hs256-with-public-key"),
        pytest.param({"token": ISSUER.wrong_issuer_token()}, id="wrong-issuer"),
        pytest.param({"token": ISSUER.wrong_audience_token()}, id="wrong-audience"),
        pytest.param({"token": ISSUER.unknown_kid_token()}, id="unknown-kid"),
    ],
)
def test_missing_or_bad_token_is_answered_unauthorized(authorizer: Authorizer, query: dict[str, str]) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$") as raised:
        authorizer.invoke(query)

    assert type(raised.value) is Exception  # API Gateway answers 401 only for exactly this


def test_event_without_any_query_string_is_answered_unauthorized(authorizer: Authorizer) -> None:
    event = authorizer_event(ConnectionInfo(), {})
    event["queryStringParameters"] = None  # what API Gateway sends when the URL has no query string

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(event, LambdaContext("authorizer"))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(ISSUER.token(token_use="refresh"), id="token-use-refresh"),
        pytest.param(ISSUER.token(sub=None), id="no-sub"),
    ],
)
def test_genuine_token_that_may_not_connect_gets_a_deny_policy(authorizer: Authorizer, token: str) -> None:
    conn = ConnectionInfo()

    result = authorizer.invoke({"token": token}, conn)

    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert result["policyDocument"]["Statement"][0]["Resource"].endswith(f"/{conn.stage}/$connect")
    assert "context" not in result


def test_jwks_is_fetched_once_per_cold_start_not_per_connection(authorizer: Authorizer) -> None:
    for user in range(5):
        authorizer.invoke({"token": ISSUER.token(sub=f"u-{user}")})

    assert authorizer.jwks.requests == 1


def test_rejected_tokens_are_counted_in_the_tokens_rejected_metric(authorizer: Authorizer) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.invoke({"token": ISSUER.expired_token()})
    authorizer.invoke({"token": ISSUER.token(token_use="refresh")})

    emitted = [json.loads(line) for line in authorizer.stdout.readouterr().out.splitlines() if "_aws" in line]
    assert [m.get("TokensRejected") for m in emitted] == [[1.0], [1.0]]
    assert all(m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "chat-tests" for m in emitted)


def test_rejections_are_logged_with_the_reason_and_the_connection_id(authorizer: Authorizer) -> None:
    conn = ConnectionInfo()

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.invoke({"token": ISSUER.wrong_issuer_token()}, conn)

    [record] = [r for r in authorizer.log_records() if r["message"] == "token rejected"]
    assert record["correlation_id"] == conn.connection_id
    assert record["status"] == 401
    assert "InvalidIssuerError" in record["reason"]


def test_token_never_appears_in_logs_or_metrics_even_with_event_logging_switched_on(
    authorizer: Authorizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    reloaded = importlib.reload(handler)  # the decorator reads the variable when the module is loaded
    tokens = [ISSUER.token(sub="u-alice"), ISSUER.expired_token(), ISSUER.token(token_use="refresh")]

    for token in tokens:
        try:
            reloaded.lambda_handler(authorizer_event(ConnectionInfo(), {"token": token}), LambdaContext("a"))
        except Exception as exc:
            assert str(exc) == "Unauthorized"

    written = authorizer.everything_written()
    assert [r["message"] for r in authorizer.log_records()] == [
        "token accepted",
        "token rejected",
        "token rejected",
    ]
    for token in tokens:
        _, payload, signature = token.split(".")
        assert payload not in written
        assert signature not in written
