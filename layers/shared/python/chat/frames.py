"""From raw WebSocket bodies to validated frames, and from any exception to an error frame: the one place
where domain errors meet the protocol."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from chat import protocol as p
from chat.errors import BadRequest, ChatError, TooLarge

# Validation errors that mean "over a limit" rather than "wrong": answered with too_large.
_OVER_LIMIT_ERRORS = frozenset({"string_too_long", "too_long"})
INTERNAL_ERROR_MESSAGE = "something went wrong on our side: try again"


@dataclass(frozen=True)
class FrameHints:
    """What can be told of a frame even when it is invalid, to echo in the error frame."""

    action: str | None = None
    request_id: str | None = None
    client_msg_id: str | None = None
    room_id: str | None = None


def read_frame(body: str | None) -> tuple[FrameHints, p.ClientAction | ChatError]:
    """The frame's hints and either the validated frame or the error that answers it (never raises)."""
    if not body:
        return FrameHints(), BadRequest("empty frame: send a JSON object with an action")
    if len(body.encode()) > p.MAX_FRAME_BYTES:
        return FrameHints(), TooLarge(f"frame is over {p.MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(body)
    except ValueError:
        return FrameHints(), BadRequest("frame is not valid JSON")
    if not isinstance(data, dict):
        return FrameHints(), BadRequest("frame must be a JSON object")
    hints = FrameHints(
        action=_short_string(data.get("action")),
        request_id=_short_string(data.get("requestId"), p.MAX_REQUEST_ID_CHARS),
        client_msg_id=_short_string(data.get("clientMsgId")),
        room_id=_short_string(data.get("roomId")),
    )
    try:
        return hints, p.CLIENT_FRAME.validate_python(data)
    except ValidationError as exc:
        return hints, _explain(exc, hints.action)


def error_frame(exc: BaseException, hints: FrameHints) -> p.ErrorFrame:
    if isinstance(exc, ChatError):
        code, message, retry_after_ms = exc.code, exc.message, exc.retry_after_ms
    else:  # never leak internals
        code, message, retry_after_ms = "internal", INTERNAL_ERROR_MESSAGE, None
    return p.ErrorFrame(
        code=code,
        message=message,
        action=hints.action,
        request_id=hints.request_id,
        client_msg_id=hints.client_msg_id,
        retry_after_ms=retry_after_ms,
    )


def _explain(exc: ValidationError, action: str | None) -> ChatError:
    errors = exc.errors(include_url=False, include_input=False)
    kinds = {e["type"] for e in errors}
    if "union_tag_not_found" in kinds:
        return BadRequest(f"action is missing: one of {', '.join(p.ACTIONS)}")
    if "union_tag_invalid" in kinds:
        return BadRequest(f"unknown action {action!r}: one of {', '.join(p.ACTIONS)}")
    problems = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors[:3])
    if kinds & _OVER_LIMIT_ERRORS:
        return TooLarge(problems)
    return BadRequest(problems)


def _field(loc: tuple[int | str, ...]) -> str:
    path = loc[1:] if loc and loc[0] in p.ACTIONS else loc  # drop the union's tag
    return ".".join(to_camel(part) if isinstance(part, str) else str(part) for part in path) or "frame"


def _short_string(value: Any, max_length: int = 128) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= max_length else None
