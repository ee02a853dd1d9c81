from __future__ import annotations

import json
from pathlib import Path

from chat import protocol as p
from chat.protocol_schema import render, schema

REPO = Path(__file__).resolve().parents[2]


def test_the_web_clients_protocol_schema_is_generated_from_the_models() -> None:
    committed = (REPO / "web" / "src" / "client" / "protocol.schema.json").read_text()
    assert committed == render(), "run `make protocol`"


def test_every_frame_is_in_the_schema_under_its_model_name() -> None:
    definitions = schema()["$defs"]
    for model in (*p.CLIENT_FRAME_TYPES, *p.SERVER_FRAME_TYPES):
        assert model.__name__ in definitions
    client_union = {ref["$ref"].rsplit("/", 1)[1] for ref in definitions["ClientFrame"]["oneOf"]}
    assert client_union == {t.__name__ for t in p.CLIENT_FRAME_TYPES}


def test_server_frames_require_what_the_server_always_writes_and_not_what_it_omits() -> None:
    definitions = schema()["$defs"]
    assert set(definitions["Ack"]["required"]) == {"type", "clientMsgId", "message"}
    assert set(definitions["ErrorFrame"]["required"]) == {"type", "code", "message"}
    assert "replyToId" in definitions["Message"]["required"]  # written as null, never left out
    assert "nextCursor" not in definitions["RoomsFrame"]["required"]
    wire = p.ErrorFrame(code="bad_request", message="x").to_wire()
    assert set(definitions["ErrorFrame"]["required"]) <= set(wire)


def test_client_frames_leave_defaulted_fields_optional() -> None:
    send = schema()["$defs"]["SendMessage"]
    assert set(send["required"]) == {"action", "roomId", "content", "clientMsgId"}
    assert send["properties"]["content"]["maxLength"] == p.MAX_CONTENT_CHARS


def test_the_error_codes_are_one_named_type() -> None:
    definitions = schema()["$defs"]
    assert definitions["ErrorFrame"]["properties"]["code"] == {"$ref": "#/$defs/ErrorCode"}
    assert "unavailable" in definitions["ErrorCode"]["enum"]
    json.dumps(schema())  # serializable as written
