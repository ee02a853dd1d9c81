from __future__ import annotations

import json

import pytest

from chat import protocol as p
from chat.errors import BadRequest, ChatError, RateLimited, TooLarge
from chat.frames import INTERNAL_ERROR_MESSAGE, MAX_NESTING_DEPTH, FrameHints, error_frame, read_frame

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
        ('{"action": "ping", "requestId": NaN}', BadRequest, "NaN is not a JSON number"),
        ('{"action": "ping", "action": "sendMessage"}', BadRequest, "a key appears twice"),
        pytest.param('{"action": "ping", "n": 1' + "0" * 5000 + "}", BadRequest, "too many digits", id="5001-digits"),
        ("[1, 2]", BadRequest, "JSON object"),
        ('{"roomId": "r1"}', BadRequest, "action is missing"),
        ('{"action": "dance"}', BadRequest, "unknown action 'dance'"),
        ('{"action": ["ping"]}', BadRequest, "unknown action: one of"),
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


LONE_SURROGATE = "\\ud800"  # as on the wire: six ASCII characters that json.loads turns into one unencodable one


def with_lone_surrogate(**fields: str) -> str:
    """A `sendMessage` frame with `fields` set, in which `~` stands for `\\ud800` escaped as clients send it."""
    return send_frame(**{"requestId": "q1", **fields}).replace("~", LONE_SURROGATE)


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ('{"action": "' + LONE_SURROGATE + '"}', "action"),
        (with_lone_surrogate(requestId="~"), "requestId"),
        (with_lone_surrogate(clientMsgId="~"), "clientMsgId"),
        (with_lone_surrogate(roomId="~"), "roomId"),
        (with_lone_surrogate(content="a~b"), "content"),
        (with_lone_surrogate(replyToId="~"), "replyToId"),
        ('{"action": "createRoom", "name": "x", "memberIds": ["u1", "' + LONE_SURROGATE + '"]}', "memberIds"),
        ('{"action": "ping", "note": {"deep": ["' + LONE_SURROGATE + '"]}}', "an unknown field"),
        ('{"action": "ping", "' + LONE_SURROGATE + '": 1}', "a field name"),
        ('{"action": "ping", "x": {"' + LONE_SURROGATE + '": 1}}', "an unknown field"),
        ('{"action": "ping", "requestId": "\\udc00\\ud800"}', "requestId"),  # a pair in the wrong order
    ],
)
def test_a_lone_surrogate_anywhere_is_a_bad_request_whose_error_frame_can_be_sent(body: str, names: str) -> None:
    hints, outcome = read_frame(body)

    assert isinstance(outcome, BadRequest)
    assert outcome.message.startswith(f"frame is not valid Unicode: {names} holds a lone surrogate")
    wire = json.loads(p.encode(error_frame(outcome, hints)))
    assert wire["code"] == "bad_request"


def test_the_error_for_a_lone_surrogate_still_echoes_the_hints_that_are_sound() -> None:
    hints, outcome = read_frame(with_lone_surrogate(content="~"))
    assert isinstance(outcome, BadRequest)
    wire = json.loads(p.encode(error_frame(outcome, hints)))
    assert (wire["action"], wire["requestId"], wire["clientMsgId"]) == ("sendMessage", "q1", CLIENT_MSG_ID)


def test_hints_never_carry_a_string_utf8_cannot_encode() -> None:
    hints = FrameHints(action="\ud800", request_id="q\udfff", client_msg_id="ok", room_id="\udc00")
    assert hints == FrameHints(client_msg_id="ok")
    assert json.loads(p.encode(error_frame(BadRequest("no"), hints)))["clientMsgId"] == "ok"


def test_an_error_message_utf8_cannot_encode_is_escaped_rather_than_unsendable() -> None:
    wire = json.loads(p.encode(error_frame(BadRequest("room r\ud800 does not exist"), FrameHints())))
    assert wire["message"] == "room r\\ud800 does not exist"


def test_a_raw_lone_surrogate_in_the_body_is_a_bad_request() -> None:
    _, outcome = read_frame('{"action": "ping", "requestId": "\ud800"}')
    assert isinstance(outcome, BadRequest) and "not valid Unicode" in outcome.message


def test_surrogate_pairs_and_other_odd_unicode_are_valid_content() -> None:
    content = "\\ud83d\\ude00 \u202e\u200b\ufeff\uffff\U0010ffff e\u0301"  # an escaped pair is one emoji
    _, frame = read_frame(send_frame(content="CONTENT").replace("CONTENT", content))
    assert isinstance(frame, p.SendMessage)
    assert frame.content.startswith("\U0001f600 ")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        nested(1000),
        nested(MAX_NESTING_DEPTH + 1),
        '{"a":' * 1000 + "1" + "}" * 1000,
        '{"action": "ping", "x": ' + nested(1000) + "}",
        '{"action": "ping", "x": ' + nested(MAX_NESTING_DEPTH) + "}",  # one level more with the frame
        "[" * (p.MAX_FRAME_BYTES // 2),  # unbalanced, and not even closed
        '{"action": "ping", "x": ' + '[{"y":' * 600,  # invalid past its depth
    ],
    ids=["1000-lists", "just-too-deep", "1000-objects", "deep-field", "deep-field-just-too-deep", "unclosed", "mixed"],
)
def test_any_nesting_past_the_limit_is_a_bad_request_without_recursion(body: str) -> None:
    _, outcome = read_frame(body)
    assert isinstance(outcome, BadRequest)
    assert outcome.message.startswith("frame is nested too deeply")


@pytest.mark.parametrize(
    "body",
    [
        '{"action": "ping", "x": ' + nested(MAX_NESTING_DEPTH - 1) + "}",
        '{"action": "ping", "x": "' + nested(1000) + '"}',  # brackets inside a string are no nesting
        '{"action": "ping", "x": "\\"' + nested(1000) + '\\\\"}',  # nor behind escaped quotes and backslashes
    ],
    ids=["at-the-limit", "brackets-in-a-string", "brackets-after-escapes"],
)
def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine(body: str) -> None:
    _, frame = read_frame(body)
    assert isinstance(frame, p.Ping)
