"""The local gateway behaves as API Gateway's WebSocket API does, shown with fake functions (no DynamoDB)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine
from typing import Any

import pytest
import websockets
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from websockets.exceptions import InvalidStatus

from local.stack import LocalStack
from tests.local.chat_client import ChatClient
from tests.local.conftest import fake_stack
from tests.local.fake_functions import FakeFunctions

pytestmark = pytest.mark.timeout(60)


def run(scenario: Coroutine[Any, Any, None], timeout: float = 30) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout))


async def connect(stack: LocalStack, name: str, **options: Any) -> ChatClient:
    return await ChatClient.connect(stack.websocket_url, f"user:{name}", **options)


async def refusal_status(stack: LocalStack, query: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(f"{stack.websocket_url}{query}", proxy=None, open_timeout=10)
    return refused.value.response.status_code


def test_frames_are_routed_on_their_action_and_anything_else_goes_to_default(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            await ann.send({"action": "sendMessage", "n": 1})
            assert (await ann.expect(type="echo"))["route"] == "sendMessage"
            for frame in ({"action": "noSuchAction"}, "not json", {"no": "action"}, {"action": "$connect"}):
                await ann.send(frame)
                assert (await ann.expect(type="echo"))["route"] == "$default"
            await ann.close()

    run(scenario())


def test_every_event_of_a_connection_is_api_gateway_shaped_and_carries_the_authorizer_context(
    fakes: FakeFunctions,
) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann", user_agent_header="test-agent/1")
            reply = await ann.request({"action": "ping"})
            await ann.close()
            await asyncio.sleep(0.3)
        connect_event = fakes.events_of("connect")[0]
        message_event = fakes.events_of("message")[0]
        disconnect_event = fakes.events_of("disconnect")[0]
        APIGatewayWebSocketConnectEventModel.model_validate(connect_event)
        APIGatewayWebSocketMessageEventModel.model_validate(message_event)
        APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect_event)
        assert connect_event["queryStringParameters"] == {"token": "user:ann"}
        assert connect_event["requestContext"]["identity"]["userAgent"] == "test-agent/1"
        connection_ids = {e["requestContext"]["connectionId"] for e in (connect_event, message_event, disconnect_event)}
        assert connection_ids == {reply["connectionId"]}
        for event in (connect_event, message_event, disconnect_event):
            authorizer = event["requestContext"]["authorizer"]
            assert authorizer["userId"] == "id-ann" and authorizer["principalId"] == "id-ann"
        assert disconnect_event["requestContext"]["disconnectStatusCode"] == 1000

    run(scenario())


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 401),  # no token: API Gateway answers without calling the authorizer
        ("?token=", 401),
        ("?token=forged", 401),  # the authorizer raises Exception("Unauthorized")
        ("?token=deny", 403),  # a Deny policy
        ("?token=broken", 500),  # the authorizer fails
        ("?token=user:refused", 403),  # $connect answers 403
    ],
)
def test_a_refused_upgrade_gets_the_status_and_no_connection(fakes: FakeFunctions, query: str, status: int) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            assert await refusal_status(stack, query) == status
            assert stack.gateway is not None and stack.gateway.connection_count == 0
        assert not fakes.events_of("disconnect") and not fakes.events_of("message")
        assert bool(fakes.events_of("connect")) == (query == "?token=user:refused")
        assert bool(fakes.events_of("authorizer")) == (query not in ("", "?token="))

    run(scenario())


def test_a_plain_http_request_to_the_websocket_path_is_refused_without_calling_a_function(
    fakes: FakeFunctions,
) -> None:
    from tests.local.chat_client import get

    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            status, _, _ = await get(f"{stack.websocket_url.replace('ws://', 'http://')}?token=user:ann")
            assert status == 426
        assert not fakes.events

    run(scenario())


def test_disconnect_gets_the_close_code_the_client_sent(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            await ann.ws.close(4001, "see you")
            for _ in range(50):
                if fakes.events_of("disconnect"):
                    break
                await asyncio.sleep(0.05)
        context = fakes.events_of("disconnect")[0]["requestContext"]
        assert (context["disconnectStatusCode"], context["disconnectReason"]) == (4001, "see you")

    run(scenario())


def test_handlers_push_look_up_and_close_connections_through_the_management_api(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann, bob = await connect(stack, "ann"), await connect(stack, "bob")
            bob_id = (await bob.request({"action": "whoAmI"}))["connectionId"]

            reply = await ann.request({"action": "push", "to": bob_id, "text": "hi"})
            assert reply["outcome"] == "delivered"
            assert (await bob.expect(type="pushed"))["text"] == "hi"

            found = (await ann.request({"action": "inspect", "id": bob_id}))["connection"]
            assert found["identity"]["SourceIp"] == "127.0.0.1" and found["identity"]["UserAgent"]
            assert found["lastActiveAt"] >= found["connectedAt"]

            await bob.send({"action": "hangUp"})
            assert await bob.closed_code() == 1000
            await asyncio.sleep(0.2)
            assert len(fakes.events_of("disconnect")) == 1
            # A closed connection is gone: botocore raises GoneException, as with API Gateway.
            assert (await ann.request({"action": "push", "to": bob_id}))["outcome"] == "gone"
            assert (await ann.request({"action": "push", "to": "L0SM9cOFvHcCIhw="}))["outcome"] == "gone"
            await ann.close()

    run(scenario())


def test_posting_to_a_connection_from_inside_its_connect_is_gone(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            early = await connect(stack, "early-bird")
            await early.assert_no_frame(0.3, type="hello")
            await early.close()
        assert fakes.outcomes == ["gone"]

    run(scenario())


def test_a_failing_handler_answers_internal_server_error_and_the_connection_stays_open(
    fakes: FakeFunctions,
) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            await ann.send({"action": "boom"})
            error = await ann.expect(message="Internal server error")
            assert error["connectionId"] and error["requestId"]
            assert (await ann.request({"action": "ping"}))["type"] == "echo"
            await ann.close()

    run(scenario())


def test_handlers_run_off_the_event_loop(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann, bob = await connect(stack, "ann"), await connect(stack, "bob")
            await ann.send({"action": "sleep", "seconds": 1.0})
            started = time.perf_counter()
            await bob.request({"action": "ping"})
            assert time.perf_counter() - started < 0.5
            await ann.expect(type="echo")
            await ann.close()
            await bob.close()

    run(scenario())


def test_a_single_frame_over_32_kb_closes_the_connection_with_1009(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            await ann.request({"action": "ping"})
            await ann.send(json.dumps({"action": "ping", "pad": "x" * 40_000}))
            assert await ann.closed_code() == 1009
            await asyncio.sleep(0.2)
        assert len(fakes.events_of("message")) == 1
        assert fakes.events_of("disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1009

    run(scenario())


def test_a_message_in_frames_of_at_most_32_kb_may_be_up_to_128_kb(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            message = json.dumps({"action": "ping", "pad": "x" * 120_000})
            await ann.ws.send([message[i : i + 30_000] for i in range(0, len(message), 30_000)])
            assert (await ann.expect(type="echo"))["bytes"] == len(message)
            await ann.close()

    run(scenario())


@pytest.mark.parametrize("fragmented", [False, True], ids=["one frame", "frames of 30 KB"])
def test_a_message_over_128_kb_closes_the_connection_with_1009(fakes: FakeFunctions, fragmented: bool) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            message = json.dumps({"action": "ping", "pad": "x" * 200_000})
            if fragmented:
                await ann.ws.send([message[i : i + 30_000] for i in range(0, len(message), 30_000)])
            else:
                await ann.ws.send(message)
            assert await ann.closed_code() == 1009
        assert not fakes.events_of("message")

    run(scenario())


def test_a_binary_frame_closes_the_connection_with_1003(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            await ann.ws.send(b'{"action": "ping"}')
            assert await ann.closed_code() == 1003
        assert not fakes.events_of("message")

    run(scenario())


def test_an_idle_connection_is_closed_with_1001_and_data_frames_keep_it_open(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, idle_timeout_seconds=0.6) as stack:
            ann = await connect(stack, "ann", ping_interval=0.1)  # WebSocket pings do not count as activity
            for _ in range(4):
                await asyncio.sleep(0.3)
                await ann.request({"action": "ping"})
            started = time.perf_counter()
            assert await ann.closed_code() == 1001
            assert 0.4 < time.perf_counter() - started < 1.5
            assert ann.ws.close_reason == "Idle timeout"

    run(scenario())


def test_a_connection_is_closed_with_1001_at_its_maximum_lifetime_even_when_busy(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, max_lifetime_seconds=1.0) as stack:
            ann = await connect(stack, "ann")
            started = time.perf_counter()
            with pytest.raises(websockets.ConnectionClosed):
                while time.perf_counter() - started < 3:
                    await ann.request({"action": "ping"})
                    await asyncio.sleep(0.1)
            assert ann.ws.close_code == 1001
            assert 0.9 < time.perf_counter() - started < 2.0

    run(scenario())


def test_stopping_the_stack_closes_every_socket_runs_disconnect_and_leaves_no_thread(
    fakes: FakeFunctions,
) -> None:
    threads_before = set(threading.enumerate())

    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            clients = [await connect(stack, name) for name in ("ann", "bob", "cy")]
            await clients[0].send({"action": "sleep", "seconds": 0.3})
        for client in clients:
            assert await client.closed_code() == 1001
        assert len(fakes.events_of("disconnect")) == 3
        assert {e["requestContext"]["disconnectStatusCode"] for e in fakes.events_of("disconnect")} == {1001}

    run(scenario())
    assert set(threading.enumerate()) == threads_before
