"""Delivery once a change is stored: a push never turns a stored message (or room, or connection) into an
error, and a connection that is still opening is never unregistered by the 410 that API Gateway answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from local.dynamodb import create_tables
from local.events import ConnectionInfo
from tests.integration.handler_harness import TABLE_NAMES, Gateway, chat_environment, reset_caches, use_environment
from tests.support.connections_api import ConnectionsApi

Fault = Callable[[str], BaseException]

FAULTS: dict[str, Fault] = {
    "throttled": lambda op: ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, op),
    "server_error": lambda op: ClientError(
        {"Error": {"Code": "InternalServerError", "Message": "oops"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        op,
    ),
    "timeout": lambda op: ReadTimeoutError(endpoint_url="https://aws.test"),
}


class FaultsAfterCommit:
    """Raises `fault` on every call of the named operations once a transaction has committed (armed by it)."""

    def __init__(self) -> None:
        self.operations: set[str] = set()
        self.tables: set[str] | None = None  # only calls on these tables (None: any)
        self.fault: Fault | None = None
        self.armed = False
        self.injected = 0

    def arm_after_commit(self, http_response: Any, **_: Any) -> None:
        if http_response.status_code == 200:
            self.armed = True

    def maybe_fail(self, model: Any, params: Any, **_: Any) -> None:
        if self.armed and self.fault is not None and model.name in self.operations and self._on_tables(params):
            self.injected += 1
            raise self.fault(model.name)

    def _on_tables(self, params: Any) -> bool:
        if self.tables is None or ("TableName" not in params and "RequestItems" not in params):
            return True
        return bool({params.get("TableName"), *params.get("RequestItems", {})} & self.tables)


@pytest.fixture
def faults() -> FaultsAfterCommit:
    return FaultsAfterCommit()


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch, faults: FaultsAfterCommit) -> Iterator[Gateway]:
    api = ConnectionsApi().start()
    use_environment(monkeypatch, chat_environment(api.url))
    with mock_aws():
        events = boto3._get_default_session().events
        events.register("after-call.dynamodb.TransactWriteItems", faults.arm_after_commit)
        # Before the parameters are built: `params` are the API call's own (table names included).
        events.register("before-parameter-build.dynamodb", faults.maybe_fail)
        events.register("before-parameter-build.apigatewaymanagementapi", faults.maybe_fail)
        create_tables(boto3.client("dynamodb"), TABLE_NAMES)
        yield Gateway(api)
    reset_caches()
    api.stop()


def stored_contents(room_id: str) -> list[str]:
    items = boto3.client("dynamodb").query(
        TableName=TABLE_NAMES["messages"],
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": room_id}},
    )["Items"]
    return [item["content"]["S"] for item in items]


# Every AWS call a send makes after its commit: the pushes, and the cleanup of a connection found gone.
CALLS_AFTER_THE_COMMIT = ["PostToConnection", "DeleteItem", "UpdateItem"]


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("operation", CALLS_AFTER_THE_COMMIT)
def test_a_stored_message_is_always_acked_whatever_fails_after_the_commit(
    gateway: Gateway,
    faults: FaultsAfterCommit,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    operation: str,
    fault: str,
) -> None:
    monkeypatch.setattr("chat.pushes.CONNECT_WINDOW_SECONDS", 0)  # so that Carol's 410 is cleaned up
    alice, bob, carol = gateway.connect("Alice"), gateway.connect("Bob"), gateway.connect("Carol")
    room = gateway.group(alice, bob, carol)
    gateway.api.gone.add(carol.connection_id)
    faults.operations, faults.fault, faults.armed = {operation}, FAULTS[fault], False

    with caplog.at_level(logging.WARNING, logger="chat.service"):
        reply = gateway.message(alice, room["id"], "stored, whatever happens next", clientMsgId=CLIENT_MSG_ID)
    faults.fault = None
    retried = gateway.message(alice, room["id"], "stored, whatever happens next", clientMsgId=CLIENT_MSG_ID)

    assert faults.injected > 0
    assert reply["type"] == "ack", reply
    assert retried["type"] == "ack" and retried["message"] == reply["message"]
    assert stored_contents(room["id"]) == ["stored, whatever happens next"]
    if operation != "PostToConnection":  # the notifier absorbs its own failures and counts them
        assert "push failed; the action stands" in caplog.text


CLIENT_MSG_ID = "5c0f6a1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_room_changes_and_connects_succeed_when_their_pushes_fail(
    gateway: Gateway, faults: FaultsAfterCommit, fault: str
) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    # The reads that find who to push to (rooms' sizes, their live connections), and the posts.
    faults.operations, faults.fault = {"BatchGetItem", "Query", "PostToConnection"}, FAULTS[fault]
    faults.tables = {TABLE_NAMES["rooms"], TABLE_NAMES["room_connections"]}

    faults.armed = False
    room = gateway.send(alice, "createRoom", name="team", memberIds=[bob.user_id])
    faults.armed = True  # from the connection's registration on: its presence push fails
    bob_phone = gateway.connect("Bob")  # asserts $connect answered 200

    assert room["type"] == "room" and sorted(room["room"]["memberIds"]) == ["alice", "bob"]
    assert faults.injected > 0
    faults.fault = None
    assert gateway.send(bob_phone, "ping")["type"] == "pong"


def test_a_push_racing_a_connect_is_dropped_but_never_unregisters_the_connection(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob)
    gateway.disconnect(bob)
    opening = ConnectionInfo()
    gateway.api.gone.add(opening.connection_id)  # API Gateway answers 410 until $connect returns
    bob = gateway.connect("Bob", connection=opening)

    gateway.message(alice, room["id"], "while bob's $connect runs")
    gateway.api.gone.discard(opening.connection_id)  # $connect returned: the socket is open
    gateway.message(alice, room["id"], "once bob is in")

    received = [f["message"]["content"] for f in gateway.api.received(bob.connection_id, "message")]
    assert received == ["once bob is in"]
    presence = gateway.send(alice, "presence", roomId=room["id"])
    assert {u["userId"]: u["online"] for u in presence["users"]} == {"alice": True, "bob": True}
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE_NAMES["connections"], Key={"connectionId": {"S": bob.connection_id}}
    )
    assert "Item" in item
