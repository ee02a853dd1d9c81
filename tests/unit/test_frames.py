from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat import protocol as p
from chat.errors import BadRequest, ChatError, RateLimited, TooLarge
from chat.frames import INTERNAL_ERROR_MESSAGE, FrameHints, error_frame, read_frame
from chat.protocol_doc import render

REPO = Path(__file__).resolve().parents[2]


CLIENT_MSG_ID = "0e7d3f7a-5f1c-4b9a-9c1e-2f0d6b8a1c3e"  # fixed: parametrize ids must match across xdist workers


def send_frame(**overrides: object) -> str:
    frame = {"action": "sendMessage", "roomId": "r1", "content": "hi", "clientMsgId": CLIENT_MSG_ID}
    frame.update(overrides)
    return json.dumps(frame)


def test_a_valid_frame_is_parsed_into_its_action_model() -> None:
    hints, frame = read_frame(send_frame(requestId="q1", senderId="someone-else"))
    assert isinstance(frame, p.SendMessage)
    assert frame.room_id == "r1" and frame.request_id == "q1"
    assert hints.action == "sendMessage" and hints.request_id == "q1" and hints.room_id == "r1"


@pytest.mark.parametrize(
    ("body", "error", "says"),
    [
        (None, BadRequest, "empty"),
        ("not json", BadRequest, "not valid JSON"),
        ("[1, 2]", BadRequest, "JSON object"),
        ('{"roomId": "r1"}', BadRequest, "action is missing"),
        ('{"action": "dance"}', BadRequest, "unknown action 'dance'"),
        (send_frame(roomId=None), BadRequest, "roomId"),
        (send_frame(content="   "), BadRequest, "content"),
        (send_frame(clientMsgId="not-a-uuid"), BadRequest, "clientMsgId"),
        ('{"action": "typing", "roomId": "r1", "isTyping": "true"}', BadRequest, "isTyping"),
        ('{"action": "history", "roomId": "r1", "beforeSeq": 5, "afterSeq": 2}', BadRequest, "not both"),
        ('{"action": "history", "roomId": "r1", "limit": 101}', BadRequest, "limit"),
        (send_frame(content="x" * (p.MAX_CONTENT_CHARS + 1)), TooLarge, "content"),
        (send_frame(content="x" * p.MAX_FRAME_BYTES), TooLarge, "32768 bytes"),
        (
            '{"action": "createRoom", "name": "x", "memberIds": ' + json.dumps(["u"] * 101) + "}",
            TooLarge,
            "memberIds",
        ),
    ],
)
def test_bad_frames_are_answered_with_an_error_that_says_what_is_wrong(
    body: str | None, error: type[ChatError], says: str
) -> None:
    _, outcome = read_frame(body)
    assert type(outcome) is error
    assert says in outcome.message


def test_content_of_exactly_the_limit_is_accepted() -> None:
    _, frame = read_frame(send_frame(content="é" * p.MAX_CONTENT_CHARS))
    assert isinstance(frame, p.SendMessage)


def test_an_error_frame_echoes_what_the_client_needs_to_match_it() -> None:
    hints, outcome = read_frame(
        send_frame(content="", requestId="q7", clientMsgId="11111111-2222-3333-4444-555555555555")
    )
    assert isinstance(outcome, ChatError)
    wire = error_frame(outcome, hints).to_wire()
    assert wire["type"] == "error" and wire["code"] == "bad_request"
    assert (wire["action"], wire["requestId"], wire["clientMsgId"]) == (
        "sendMessage",
        "q7",
        "11111111-2222-3333-4444-555555555555",
    )
    assert "retryAfterMs" not in wire


def test_rate_limited_errors_carry_retry_after() -> None:
    wire = error_frame(RateLimited("slow down", retry_after_ms=1234), FrameHints(action="typing")).to_wire()
    assert wire["code"] == "rate_limited" and wire["retryAfterMs"] == 1234


def test_unexpected_exceptions_become_internal_errors_that_leak_nothing() -> None:
    wire = error_frame(KeyError("secret table name"), FrameHints()).to_wire()
    assert wire == {"type": "error", "code": "internal", "message": INTERNAL_ERROR_MESSAGE}


def test_server_frames_keep_null_object_fields_but_drop_unset_frame_options() -> None:
    message = p.Message(
        id="m",
        room_id="r",
        seq=1,
        sender_id="u",
        sender_name="U",
        content="c",
        created_at="t",
        client_msg_id="k",
    )
    wire = json.loads(p.encode(p.MessagePush(message=message)))
    assert wire == {"type": "message", "message": {**message.model_dump(by_alias=True), "replyToId": None}}


def test_docs_protocol_md_is_generated_from_the_models() -> None:
    assert (REPO / "docs" / "protocol.md").read_text() == render(), "run `make docs`"
