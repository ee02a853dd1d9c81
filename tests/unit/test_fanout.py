from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

from chat.fanout import ManagementApiNotifier

# A real client only for its modeled exception classes (GoneException is a ClientError subclass).
EXCEPTIONS = boto3.client(
    "apigatewaymanagementapi",
    region_name="us-east-1",
    endpoint_url="http://127.0.0.1:9",
    aws_access_key_id="x",
    aws_secret_access_key="x",
).exceptions


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PostToConnection",
    )


class ScriptedManagementApi:
    """Answers each connection with its scripted outcomes in turn (then success); counts calls and overlap."""

    exceptions = EXCEPTIONS

    def __init__(self, script: dict[str, list[BaseException]] | None = None) -> None:
        self.script = script or {}
        self.posted: list[tuple[str, bytes]] = []
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        self._barrier = threading.Event()

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        with self._lock:
            self.calls[ConnectionId] = self.calls.get(ConnectionId, 0) + 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            self._barrier.wait(0.02)  # hold the call a moment so concurrency is observable
            outcomes = self.script.get(ConnectionId, [])
            if outcomes:
                raise outcomes.pop(0)
            with self._lock:
                self.posted.append((ConnectionId, Data))
            return {}
        finally:
            with self._lock:
                self._in_flight -= 1


def notifier(api: ScriptedManagementApi, max_workers: int = 8) -> ManagementApiNotifier:
    return ManagementApiNotifier(api, max_workers=max_workers, sleep=lambda _: None)


def test_every_connection_receives_the_payload_concurrently_within_the_bound() -> None:
    api = ScriptedManagementApi()
    ids = [f"c{i}" for i in range(40)]

    delivery = notifier(api, max_workers=8).post(ids, b'{"type":"pong"}')

    assert delivery.delivered == 40 and delivery.gone == [] and delivery.failed == []
    assert sorted(cid for cid, _ in api.posted) == sorted(ids)
    assert 1 < api.max_in_flight <= 8


def test_gone_connections_are_reported_not_retried() -> None:
    api = ScriptedManagementApi({"old": [EXCEPTIONS.GoneException({"Error": {"Code": "GoneException"}}, "Post")]})

    delivery = notifier(api).post(["old", "live"], b"x")

    assert delivery.gone == ["old"] and delivery.delivered == 1
    assert api.calls["old"] == 1


def test_throttling_and_server_errors_are_retried_until_delivered() -> None:
    api = ScriptedManagementApi(
        {"busy": [client_error("LimitExceededException", 429), client_error("InternalServerError", 500)]}
    )

    delivery = notifier(api).post(["busy"], b"x")

    assert delivery.delivered == 1 and api.calls["busy"] == 3


def test_throttling_that_never_ends_fails_that_connection_only() -> None:
    api = ScriptedManagementApi({"stuck": [client_error("LimitExceededException", 429)] * 10})

    delivery = notifier(api).post(["stuck", "fine"], b"x")

    assert delivery.failed == ["stuck"] and delivery.delivered == 1
    assert api.calls["stuck"] == 4


def test_client_errors_that_retrying_cannot_fix_fail_at_once() -> None:
    api = ScriptedManagementApi({"bad": [client_error("ForbiddenException", 403)]})
    assert notifier(api).post(["bad"], b"x").failed == ["bad"]
    assert api.calls["bad"] == 1


def test_network_errors_are_retried() -> None:
    api = ScriptedManagementApi({"flaky": [EndpointConnectionError(endpoint_url="http://x")]})
    assert notifier(api).post(["flaky"], b"x").delivered == 1
