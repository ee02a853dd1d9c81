"""Writes docs/protocol.md from the pydantic models of chat.protocol: `python -m chat.protocol_doc`.

A test compares the file with this output, so the document can never drift from the code.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from chat import protocol as p
from chat.errors import ChatError

INTRO = f"""# Wire protocol v{p.PROTOCOL_VERSION}

Generated from `layers/shared/python/chat/protocol.py` by `make docs`; do not edit by hand.
The contract it implements is `shared/PROTOCOL.md`: extend it (new actions, new optional fields), never break it.

- One WebSocket per client: `wss://<api>/<stage>?token=<access JWT>` on AWS, `ws://127.0.0.1:8080/ws?token=…`
  locally. Identity comes from the token only.
- Client → server: a JSON object with `action` and an optional `requestId` (≤ {p.MAX_REQUEST_ID_CHARS} chars),
  echoed in the reply. Unknown fields are ignored; types are strict (`"true"` is not a boolean).
- Server → client: a JSON object with `type`. Times are ISO-8601 UTC strings; ids are strings.
- Limits: a frame is at most {p.MAX_FRAME_BYTES} bytes (`too_large`), `content` at most {p.MAX_CONTENT_CHARS}
  characters (`too_large`), a message from the server at most {p.MAX_MESSAGE_BYTES} bytes: a `history` page
  holds fewer than `limit` messages (with `hasMore: true`) when they would not fit.
- Every frame counts against the sender's flood limit except `ping`; over it: `rate_limited` with `retryAfterMs`.
"""


def _type_of(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if "anyOf" in schema:
        return " or ".join(_type_of(s, defs) for s in schema["anyOf"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}), defs)}"
    return str(schema.get("type", "any"))


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key, label in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("pattern", "pattern"),
    ):
        for option in [schema, *schema.get("anyOf", [])]:
            if key in option:
                value = f"`{option[key]}`" if key == "pattern" else option[key]
                parts.append(f"{label} {value}")
    if "default" in schema and schema["default"] is not None:
        parts.append(f"default `{json.dumps(schema['default'])}`")
    return ", ".join(dict.fromkeys(parts))


def _fields_table(model: type[BaseModel], skip: set[str]) -> list[str]:
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    rows = ["| field | type | required | constraints |", "|---|---|---|---|"]
    for name, field_schema in schema.get("properties", {}).items():
        if name in skip:
            continue
        rows.append(
            f"| `{name}` | {_type_of(field_schema, schema.get('$defs', {}))} | "
            f"{'yes' if name in required else 'no'} | {_constraints(field_schema)} |"
        )
    return rows if len(rows) > 2 else ["(no fields)"]


def _doc(model: type[BaseModel]) -> str:
    return (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""


def render() -> str:
    lines = [INTRO, "## Client frames", ""]
    for model in p.CLIENT_FRAME_TYPES:
        action = model.model_fields["action"].annotation.__args__[0]  # type: ignore[union-attr]
        lines += [f"### `{action}`", "", _doc(model), "", *_fields_table(model, {"action", "requestId"}), ""]
    lines += ["## Server frames", ""]
    for frame in p.SERVER_FRAME_TYPES:
        title = f"### `{frame.model_fields['type'].default}` ({frame.__name__})"
        lines += [title, "", _doc(frame), "", *_fields_table(frame, {"type"}), ""]
    lines += ["## Objects", ""]
    objects: tuple[type[BaseModel], ...] = (p.Message, p.Room, p.RoomSummary, p.UserInfo, p.MemberPresence)
    for obj in objects:
        lines += [f"### `{obj.__name__}`", "", *_fields_table(obj, set()), ""]
    lines += ["## Error codes", "", "| code | domain error |", "|---|---|"]
    for error in sorted(_error_classes(ChatError), key=lambda e: e.__name__):
        lines.append(f"| `{error.code}` | `{error.__name__}` |")
    lines += ["", "An error never closes the connection by itself and never changes stored data.", ""]
    return "\n".join(lines)


def _error_classes(base: type[ChatError]) -> list[type[ChatError]]:
    return [base, *(c for sub in base.__subclasses__() for c in _error_classes(sub))]


if __name__ == "__main__":
    print(render(), end="")
