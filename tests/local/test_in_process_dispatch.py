"""The local stack's in-process shortcuts answer exactly as the HTTP endpoints they skip: the embedded DynamoDB for
this process's boto3 clients, and the gateway's `@connections` for the handlers' Management API client."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.exceptions import ClientError

from chat.protocol import MAX_MESSAGE_BYTES
from local.dynamodb import EmbeddedDynamoDB
from local.gateway import WebSocketGateway
from tests.local.chat_client import ChatClient
from tests.local.conftest import fake_stack
from tests.local.fake_functions import FakeFunctions

pytestmark = pytest.mark.timeout(60)

TABLE = {
    "TableName": "things",
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedDynamoDB]:
    for name, value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with EmbeddedDynamoDB() as server:
        yield server


def _clients(server: EmbeddedDynamoDB) -> tuple[Any, Any]:
    """A client of boto3's default session (in process) and one of a session of its own (over HTTP)."""
    in_process = boto3.client("dynamodb", endpoint_url=server.endpoint_url)
    over_http = boto3.Session().client("dynamodb", endpoint_url=server.endpoint_url)
    return in_process, over_http


def _outcome(call: Any) -> Any:
    try:
        response = call()
    except ClientError as exc:
        return exc.response["Error"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
    response.pop("ResponseMetadata")
    return response


def test_the_embedded_dynamodb_answers_in_process_as_over_http(
    dynamodb: EmbeddedDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, over_http = _clients(dynamodb)
    from moto.dynamodb.responses import DynamoHandler

    in_this_thread: list[str] = []  # requests moto answered on the caller's thread: in process
    dispatch = DynamoHandler.dispatch

    def counting(*args: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            in_this_thread.append(args[1])
        return dispatch(*args)

    monkeypatch.setattr(DynamoHandler, "dispatch", staticmethod(counting))
    in_process = boto3.client("dynamodb", endpoint_url=dynamodb.endpoint_url)
    in_process.create_table(**TABLE)
    in_process.put_item(TableName="things", Item={"k": {"S": "a"}, "n": {"N": "1"}})
    calls = [
        lambda c: c.get_item(TableName="things", Key={"k": {"S": "a"}}),
        lambda c: c.put_item(TableName="things", Item={"k": {"S": "a"}}, ConditionExpression="attribute_not_exists(k)"),
        lambda c: c.get_item(TableName="missing", Key={"k": {"S": "a"}}),
        lambda c: c.query(
            TableName="things", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "a"}}
        ),
    ]
    for call in calls:
        assert _outcome(lambda call=call: call(in_process)) == _outcome(lambda call=call: call(over_http))
    assert len(in_this_thread) == 2 + len(calls)  # the HTTP client's calls never went through the hook


def test_management_api_calls_reach_the_gateway_in_process_with_the_same_checks(
    fakes: FakeFunctions, monkeypatch: pytest.MonkeyPatch
) -> None:
    over_http: list[str] = []
    post = WebSocketGateway._post_to_connection

    async def counting(self: WebSocketGateway, request: Any) -> Any:
        over_http.append(request.match_info["connection_id"])
        return await post(self, request)

    monkeypatch.setattr(WebSocketGateway, "_post_to_connection", counting)

    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            ann = await ChatClient.connect(stack.websocket_url, "user:ann")
            bob = await ChatClient.connect(stack.websocket_url, "user:bob")
            bob_id = str((await bob.request({"action": "whoAmI"}))["connectionId"])
            assert (await ann.request({"action": "push", "to": bob_id, "text": "hi"}))["outcome"] == "delivered"
            assert (await bob.expect(type="pushed"))["text"] == "hi"
            too_big = await ann.request({"action": "push", "to": bob_id, "bytes": MAX_MESSAGE_BYTES + 1})
            assert too_big["outcome"] == "too large"
            assert (await ann.request({"action": "push", "to": "L0SM9cOFvHcCIhw="}))["outcome"] == "gone"
            assert over_http == []  # every push above went in process

            # Over HTTP, the same endpoint gives the same answers (for clients of other processes).
            url = f"{stack.url}/@connections/{bob_id}"
            async with aiohttp.ClientSession() as session:
                async with session.post(url, data=b'{"type": "pushed", "text": "by http"}') as response:
                    assert response.status == 200
                async with session.post(url, data=b"x" * (MAX_MESSAGE_BYTES + 1)) as response:
                    assert response.status == 413
                    assert response.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"
                async with session.post(f"{stack.url}/@connections/L0SM9cOFvHcCIhw=", data=b"{}") as response:
                    assert response.status == 410
            assert (await bob.expect(type="pushed"))["text"] == "by http"
            assert len(over_http) == 3
            await ann.close()
            await bob.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_management_api_call_from_the_event_loop_thread_goes_over_http(fakes: FakeFunctions) -> None:
    """The in-process hook would wait on the very loop it blocks: from that thread, botocore uses HTTP."""

    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            assert stack._management_api is not None
            request = type("Request", (), {"url": f"{stack.url}/@connections/abc", "method": "GET", "body": b""})
            assert stack._management_api._dispatch(request) is None  # on the loop's thread
            answered: list[Any] = []
            thread = threading.Thread(target=lambda: answered.append(stack._management_api._dispatch(request)))
            thread.start()
            while thread.is_alive():
                await asyncio.sleep(0.01)
            assert answered[0].status_code == 410

    asyncio.run(asyncio.wait_for(scenario(), 30))
