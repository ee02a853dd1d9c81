"""The local gateway behaves as API Gateway's WebSocket API does, shown with fake functions (no DynamoDB)."""

from __future__ import annotations

import asyncio
import json
import logging
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

from chat.protocol import MAX_MESSAGE_BYTES
from local.console import FRAMES_LOGGER
from local.gateway import user_label
from local.stack import LocalStack
from tests.local.chat_client import ChatClient, get
from tests.local.conftest import fake_stack
from tests.local.fake_functions import FakeFunctions

pytestmark = pytest.mark.timeout(60)


def run(scenario: Coroutine[Any, Any, None], timeout: float = 30) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout))


async def connect(stack: LocalStack, name: str, **options: Any) -> ChatClient:
    return await ChatClient.connect(stack.websocket_url, f"user:{name}", **options)


def console_lines(caplog: pytest.LogCaptureFixture, direction: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == FRAMES_LOGGER and r.getMessage().startswith(direction)]


async def connection_id(client: ChatClient) -> str:
    return str((await client.request({"action": "whoAmI"}))["connectionId"])


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


def test_posting_to_a_connection_from_inside_its_connect_is_gone_and_the_dropped_push_is_logged(
    fakes: FakeFunctions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=FRAMES_LOGGER)

    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            early = await connect(stack, "early-bird")
            await early.assert_no_frame(0.3, type="hello")
            early_id = await connection_id(early)
            await early.close()
        assert fakes.outcomes == ["gone"]
        (dropped,) = console_lines(caplog, "drop")
        assert f"conn={early_id[:6]}" in dropped and "user=early-bird" in dropped and "type=hello" in dropped
        assert "bytes=17" in dropped and dropped.endswith("410: $connect still running")

    run(scenario())


def test_a_push_between_connect_answering_and_the_socket_opening_is_gone_and_later_ones_arrive(
    fakes: FakeFunctions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=FRAMES_LOGGER)

    async def scenario() -> None:
        async with fake_stack(fakes, open_delay_seconds=3.0) as stack:
            ann = await connect(stack, "ann")
            joining = asyncio.create_task(connect(stack, "bob"))
            async with asyncio.timeout(5):
                while not any(
                    e["requestContext"]["authorizer"]["userName"] == "bob" for e in fakes.events_of("connect")
                ):
                    await asyncio.sleep(0.01)
            bob_id = fakes.events_of("connect")[-1]["requestContext"]["connectionId"]
            assert not joining.done()  # still in the open delay: $connect has answered, the socket is not open
            assert (await ann.request({"action": "push", "to": bob_id, "text": "too early"}))["outcome"] == "gone"
            bob = await joining
            assert (await ann.request({"action": "push", "to": bob_id, "text": "on time"}))["outcome"] == "delivered"
            assert (await bob.expect(type="pushed"))["text"] == "on time"
            await ann.close()
            await bob.close()
        (dropped,) = console_lines(caplog, "drop")
        assert "user=bob" in dropped and "type=pushed" in dropped and "410: $connect still running" in dropped

    run(scenario())


def test_a_push_over_128_kb_is_refused_with_413_payload_too_large(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann, bob = await connect(stack, "ann"), await connect(stack, "bob")
            bob_id = await connection_id(bob)
            too_big = await ann.request({"action": "push", "to": bob_id, "bytes": MAX_MESSAGE_BYTES + 1})
            assert too_big["outcome"] == "too large"
            largest = await ann.request({"action": "push", "to": bob_id, "bytes": MAX_MESSAGE_BYTES})
            assert largest["outcome"] == "delivered"
            assert len(json.dumps(await bob.expect(type="pushed")).encode()) == MAX_MESSAGE_BYTES
            await ann.close()
            await bob.close()

    run(scenario())


def test_a_reply_over_128_kb_is_not_sent_and_the_caller_gets_internal_server_error(
    fakes: FakeFunctions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=FRAMES_LOGGER)

    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            await ann.send({"action": "reply", "bytes": MAX_MESSAGE_BYTES})
            assert len(json.dumps(await ann.expect(type="sized")).encode()) == MAX_MESSAGE_BYTES
            await ann.send({"action": "reply", "bytes": MAX_MESSAGE_BYTES + 1})
            error = await ann.expect(message="Internal server error")
            assert error["connectionId"] and error["requestId"]
            await ann.assert_no_frame(type="sized")
            assert (await ann.request({"action": "ping"}))["type"] == "echo"  # the connection stays open
            await ann.close()
        (limit,) = console_lines(caplog, "limit")
        assert f"bytes={MAX_MESSAGE_BYTES + 1}" in limit and "reply over 128 KB not sent" in limit

    run(scenario())


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000 + "]" * 1000,
        '{"a":' * 1000 + "1" + "}" * 1000,
        '{"action": "ping", "x": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
    ids=["arrays", "objects", "inside a ping"],
)
def test_json_nested_too_deep_for_the_parser_goes_to_default(fakes: FakeFunctions, body: str) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            await ann.send(body)
            assert (await ann.expect(type="echo"))["route"] == "$default"
            await ann.close()

    run(scenario())


def test_a_failure_of_the_gateway_itself_answers_internal_server_error_and_is_logged(
    fakes: FakeFunctions, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_event(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("a bug in the gateway")

    caplog.set_level(logging.INFO, logger="local")

    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await connect(stack, "ann")
            monkeypatch.setattr("local.gateway.message_event", broken_event)
            # More frames than the user's in-flight cap: every failure gives its slot back.
            for _ in range(20):
                await ann.send({"action": "ping"})
                error = await ann.expect(message="Internal server error")
                assert error["connectionId"] and error["requestId"]
            await ann.close()
        assert len(console_lines(caplog, "error")) == 20
        assert any(r.exc_info and "a bug in the gateway" in str(r.exc_info[1]) for r in caplog.records)

    run(scenario())


def test_a_websocket_upgrade_on_another_path_is_404_naming_the_websocket_path(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            for path in ("/", "/config.json", "/wss"):
                with pytest.raises(InvalidStatus) as refused:
                    await websockets.connect(f"ws://127.0.0.1:{stack.port}{path}?token=user:ann", proxy=None)
                assert refused.value.response.status_code == 404
                assert "/ws" in json.loads(refused.value.response.body or b"{}")["message"]
            assert (await get(f"{stack.url}/"))[0] == 200  # a plain GET of the web client is unaffected
        assert not fakes.events

    run(scenario())


def test_one_users_flood_does_not_queue_another_users_frames(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            cap = stack.options.frames_in_flight_per_user
            tabs = [await connect(stack, "flooder") for _ in range(4)]
            other = await connect(stack, "other")
            try:
                for tab in tabs:
                    for _ in range(cap):  # four times the user's cap, spread over the tabs
                        await tab.send({"action": "block"})
                assert await asyncio.to_thread(fakes.wait_until_blocked, cap) == cap
                reply = await other.request({"action": "ping"}, timeout=5)  # hangs while the pool is full
                assert reply["type"] == "echo"
                assert fakes.blocked == cap  # the flood never had more than its cap in flight
            finally:
                fakes.release.set()
            for tab in tabs:
                for _ in range(cap):
                    await tab.expect(type="echo")
                await tab.close()
            await other.close()

    run(scenario())


def test_the_console_names_a_user_by_name_else_by_the_start_of_the_principal() -> None:
    principal = "0a850855-8c4e-5f0a-9d52-3c3f6a1e2b77"
    assert user_label({"principalId": principal, "userName": "Alice"}) == "Alice"
    assert user_label({"principalId": principal, "userName": ""}) == "0a850855"
    assert user_label({"principalId": principal}) == "0a850855"
    # A Cognito access token's username is a UUID like the sub: the verifier falls back to it as the name.
    assert user_label({"principalId": principal, "userName": principal}) == "0a850855"


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
