"""From raw WebSocket bodies to validated frames, and from any exception to an error frame: the one place
where domain errors meet the protocol.

A body is checked cheapest first, and nothing later trusts what an earlier step refused: its size, its nesting
depth (before `json.loads`, which recurses once per level), strict JSON (no NaN, no duplicate keys), Unicode (the
ASCII escape `\\ud800` decodes to a lone surrogate that no UTF-8 reply could echo), then the models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from chat import protocol as p
from chat.errors import BadRequest, ChatError, TooLarge

# Frames are at most 2 deep (an object holding a list); the bound only has to keep json.loads off the stack limit.
MAX_NESTING_DEPTH = 32
# Validation errors that mean "over a limit" rather than "wrong": answered with too_large.
_OVER_LIMIT_ERRORS = frozenset({"string_too_long", "too_long"})
INTERNAL_ERROR_MESSAGE = "something went wrong on our side: try again"
NOT_UNICODE = "frame is not valid Unicode"
_LONE_SURROGATE = "a \\uD800-\\uDFFF escape without its pair"
TOO_DEEP = f"frame is nested too deeply (at most {MAX_NESTING_DEPTH} levels)"

_SURROGATE = re.compile("[\ud800-\udfff]")  # the only code points UTF-8 cannot encode
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')  # linear once escapes are gone: no quote can hide inside a string
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_WIRE_FIELDS = frozenset(f.alias for model in p.CLIENT_FRAME_TYPES for f in model.model_fields.values() if f.alias)


@dataclass(frozen=True)
class FrameHints:
    """What can be told of a frame even when it is invalid, to echo in the error frame.

    A hint that UTF-8 cannot encode is dropped: echoing it would make the error frame itself unsendable.
    """

    action: str | None = None
    request_id: str | None = None
    client_msg_id: str | None = None
    room_id: str | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None and not _encodable(value):
                object.__setattr__(self, field.name, None)


def read_frame(body: str | None) -> tuple[FrameHints, p.ClientAction | ChatError]:
    """The frame's hints and either the validated frame or the error that answers it (never raises)."""
    if not body:
        return FrameHints(), BadRequest("empty frame: send a JSON object with an action")
    if len(body.encode(errors="surrogatepass")) > p.MAX_FRAME_BYTES:  # a raw surrogate is refused below
        return FrameHints(), TooLarge(f"frame is over {p.MAX_FRAME_BYTES} bytes")
    if _too_deep(body):
        return FrameHints(), BadRequest(TOO_DEEP)
    try:
        data = json.loads(body, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except BadRequest as exc:
        return FrameHints(), exc
    except json.JSONDecodeError as exc:
        return FrameHints(), BadRequest(f"frame is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})")
    except ValueError:  # an integer past Python's 4300-digit conversion limit
        return FrameHints(), BadRequest("frame is not valid JSON: a number has too many digits")
    if not isinstance(data, dict):
        return FrameHints(), BadRequest("frame must be a JSON object")
    hints = FrameHints(
        action=_short_string(data.get("action")),
        request_id=_short_string(data.get("requestId"), p.MAX_REQUEST_ID_CHARS),
        client_msg_id=_short_string(data.get("clientMsgId")),
        room_id=_short_string(data.get("roomId")),
    )
    unencodable = _unencodable_field(data)
    if unencodable is not None:
        return hints, BadRequest(f"{NOT_UNICODE}: {unencodable} holds a lone surrogate ({_LONE_SURROGATE})")
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
        message=message if _encodable(message) else message.encode(errors="backslashreplace").decode(),
        action=hints.action,
        request_id=hints.request_id,
        client_msg_id=hints.client_msg_id,
        retry_after_ms=retry_after_ms,
    )


def _too_deep(body: str) -> bool:
    """Whether json.loads would nest deeper than MAX_NESTING_DEPTH: brackets outside strings, counted.

    For invalid JSON the count is an upper bound of how deep json.loads gets before it stops.
    """
    if body.count("[") + body.count("{") <= MAX_NESTING_DEPTH:
        return False  # nearly every frame: no scan
    depth = 0
    for bracket in _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", body))):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_NESTING_DEPTH:
            return True
    return False


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Which of two `action`s API Gateway routes on is not ours to guess: the frame is ambiguous, so refused.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise BadRequest("frame is not valid JSON: a key appears twice in one object")
    return obj


def _no_constant(name: str) -> Any:
    raise BadRequest(f"frame is not valid JSON: {name} is not a JSON number")


def _unencodable_field(data: dict[str, Any]) -> str | None:
    """The field (named if the protocol knows it) whose key or value holds a string UTF-8 cannot encode."""
    for key, value in data.items():
        if not _encodable(key):
            return "a field name"
        if not all(map(_encodable, _strings(value))):
            return key if key in _WIRE_FIELDS else "an unknown field"
    return None


def _strings(value: Any) -> Iterator[str]:
    """Every string in a decoded JSON value, object keys included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _encodable(text: str) -> bool:
    return text.isascii() or _SURROGATE.search(text) is None


def _explain(exc: ValidationError, action: str | None) -> ChatError:
    errors = exc.errors(include_url=False, include_input=False)
    kinds = {e["type"] for e in errors}
    if "union_tag_not_found" in kinds:
        return BadRequest(f"action is missing: one of {', '.join(p.ACTIONS)}")
    if "union_tag_invalid" in kinds:
        named = f" {action!r}" if action else ""  # not echoed when it is no short string
        return BadRequest(f"unknown action{named}: one of {', '.join(p.ACTIONS)}")
    problems = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors[:3])
    if kinds & _OVER_LIMIT_ERRORS:
        return TooLarge(problems)
    return BadRequest(problems)


def _field(loc: tuple[int | str, ...]) -> str:
    path = loc[1:] if loc and loc[0] in p.ACTIONS else loc  # drop the union's tag
    return ".".join(to_camel(part) if isinstance(part, str) else str(part) for part in path) or "frame"


def _short_string(value: Any, max_length: int = 128) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= max_length else None
