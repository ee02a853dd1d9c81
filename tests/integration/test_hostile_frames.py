"""Hostile frames through the real handlers (moto + a recording `@connections`): every frame is answered with a
protocol frame, never API Gateway's `Internal server error`, and no one else's room, history or presence moves."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any, get_args

import boto3
import pytest
from moto import mock_aws

from chat import protocol as p
from chat.frames import read_frame
from chat.routes import ROUTES
from local.dynamodb import create_tables
from local.events import LambdaContext, message_event
from tests.integration.handler_harness import (
    TABLE_NAMES,
    Gateway,
    Session,
    chat_environment,
    reset_caches,
    use_environment,
)
from tests.support.connections_api import ConnectionsApi
from tests.support.hostile_frames import Targets, hostile_frames

SEED = 720
COUNT = 330  # every action with every mutation twice
SERVER_TYPES = {frame.model_fields["type"].default for frame in p.SERVER_FRAME_TYPES}
CLIENT_CODES = set(get_args(p.ErrorCode)) - {"internal"}


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    api = ConnectionsApi().start()
    use_environment(monkeypatch, chat_environment(api.url))
    with mock_aws():
        create_tables(boto3.client("dynamodb"), TABLE_NAMES)
        yield Gateway(api)
    reset_caches()
    api.stop()


def route_of(body: str) -> str:
    """API Gateway's route selection: `$request.body.action` when it names a route, else `$default`."""
    try:
        action = json.loads(body).get("action")
    except (ValueError, RecursionError, AttributeError):
        return "$default"
    return action if isinstance(action, str) and action in ROUTES and not action.startswith("$") else "$default"


def send(gateway: Gateway, session: Session, body: str) -> dict[str, Any] | None:
    """The frame a client gets back, with a handler's exception turned into what API Gateway would send."""
    route = route_of(body)
    function = ROUTES[route]
    try:
        response = gateway.handler(function)(
            message_event(session.connection, route, body, session.authorizer), LambdaContext(function)
        )
    except Exception:
        return {"message": "Internal server error"}
    assert response["statusCode"] == 200
    return json.loads(response["body"]) if "body" in response else None


def problem_with(reply: dict[str, Any] | None, body: str) -> str | None:
    if reply is None:  # typing is the one frame answered by silence, when it succeeds
        return None if isinstance(read_frame(body)[1], p.Typing) else "no reply"
    if reply.get("type") not in SERVER_TYPES:
        return f"not a protocol frame: {reply}"
    if reply["type"] == "error" and reply.get("code") not in CLIENT_CODES:
        return f"error code {reply.get('code')!r}: {reply.get('message')}"
    return None


def test_hostile_frames_get_protocol_replies_and_disturb_no_one_else(gateway: Gateway) -> None:
    alice, bob, mallory = gateway.connect("Alice"), gateway.connect("Bob"), gateway.connect("Mallory")
    private = gateway.group(alice, bob, name="private")["id"]
    for content in ("one", "two"):
        gateway.message(alice, private, content)
    own = gateway.group(mallory, name="mine")["id"]

    def state() -> tuple[object, ...]:
        """The private room as its members know it (Mallory may add them to her rooms: that is hers to do)."""
        history = gateway.send(alice, "history", roomId=private)
        presence = gateway.send(bob, "presence", roomId=private)
        pushed = [
            frame
            for session in (alice, bob)
            for frame in gateway.api.received(session.connection_id)
            if private in (frame.get("roomId"), frame.get("message", {}).get("roomId"), frame.get("room", {}).get("id"))
        ]
        return history["messages"], presence["users"], pushed

    before = state()
    targets = Targets(room_ids=(own, private, "r_missing"), user_ids=("alice", "bob", "mallory", "ghost"))
    frames = hostile_frames(SEED, COUNT, targets)
    problems = [
        f"{action} / {mutation}: {problem} for {body[:200]!r}"
        for action, mutation, body in frames
        if (problem := problem_with(send(gateway, mallory, body), body))
    ]

    assert not problems, f"{len(problems)} of {COUNT} frames:\n" + "\n".join(problems[:20])
    assert state() == before
    assert gateway.send(alice, "ping", requestId="still-there") == {"type": "pong", "requestId": "still-there"}
    assert gateway.message(bob, private, "after")["type"] == "ack"


def test_content_with_a_lone_surrogate_is_refused_and_nothing_is_stored(gateway: Gateway) -> None:
    alice = gateway.connect("Alice")
    room = gateway.group(alice)["id"]
    frame = {"action": "sendMessage", "roomId": room, "content": "hi ~", "clientMsgId": str(uuid.uuid4())}

    reply = send(gateway, alice, json.dumps({**frame, "requestId": "q1"}).replace("~", "\\ud800"))

    assert reply is not None and (reply["code"], reply["requestId"]) == ("bad_request", "q1")
    assert reply["message"].startswith("frame is not valid Unicode: content")
    assert gateway.send(alice, "history", roomId=room)["messages"] == []


def test_a_client_msg_id_another_member_used_never_gets_their_message_acked(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob)["id"]
    seen_in_a_push = gateway.message(alice, room, "alice says")["clientMsgId"]

    reply = gateway.message(bob, room, "bob says", clientMsgId=seen_in_a_push)

    assert reply["type"] == "error" or (reply["message"]["senderId"], reply["message"]["content"]) == (
        "bob",
        "bob says",
    )
