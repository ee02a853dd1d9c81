"""The local gateway's events are API Gateway's: checked against Powertools' WebSocket event models."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)

from chat.ports import Identity
from local.events import (
    ConnectionInfo,
    authorizer_context,
    authorizer_event,
    connect_event,
    disconnect_event,
    message_event,
)

CONN = ConnectionInfo()
IDENTITY = Identity("u1", "Ann", 1_900_000_000)
AUTHORIZER = authorizer_context(IDENTITY.authorizer_context(), IDENTITY.user_id)


def test_connect_event_matches_the_powertools_model_and_keeps_the_query_string() -> None:
    event = connect_event(CONN, AUTHORIZER, {"token": "abc"})
    model = APIGatewayWebSocketConnectEventModel.model_validate(event)
    assert model.request_context.connection_id == CONN.connection_id
    # Powertools 3.37's connect model has no queryStringParameters: the raw event must keep it.
    assert event["queryStringParameters"] == {"token": "abc"}


def test_message_and_disconnect_events_match_the_powertools_models() -> None:
    message = APIGatewayWebSocketMessageEventModel.model_validate(
        message_event(CONN, "ping", '{"action":"ping"}', AUTHORIZER)
    )
    assert message.request_context.route_key == "ping" and message.body == '{"action":"ping"}'
    disconnect = APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect_event(CONN, AUTHORIZER, 1001, "bye"))
    assert disconnect.request_context.disconnect_status_code == 1001


def test_every_event_of_a_connection_carries_the_authorizer_context() -> None:
    for event in (
        connect_event(CONN, AUTHORIZER, {}),
        message_event(CONN, "ping", "{}", AUTHORIZER),
        disconnect_event(CONN, AUTHORIZER),
    ):
        assert Identity.from_authorizer_context(event["requestContext"]["authorizer"]) == IDENTITY


def test_the_authorizer_event_is_the_request_authorizer_shape() -> None:
    event = authorizer_event(CONN, {"token": "abc"})
    assert event["type"] == "REQUEST"
    assert event["methodArn"].endswith("/$connect")
    assert event["queryStringParameters"] == {"token": "abc"}
    assert event["requestContext"]["connectionId"] == CONN.connection_id
