"""Writes the JSON Schema of wire protocol v1 from the pydantic models: `python -m chat.protocol_schema [PATH]`.

The web client's TypeScript types (`web/src/client/protocol.ts`) are generated from this file by
`web/scripts/generate-protocol.mjs` (json-schema-to-typescript), so no client keeps a hand-written copy of the
protocol. Client frames are described as the server validates them (fields with defaults are optional); server
frames as the server writes them (every field is present, except the frame-level keys it leaves out when unset).
The limits a client checks before sending (`x-limits`) come from the same module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, get_args

from pydantic.json_schema import models_json_schema

from chat import protocol as p

SCHEMA_ID = "https://chat.invalid/protocol/v1.schema.json"

# What a client needs to check before it sends, or to page through a list.
LIMITS = {
    "protocolVersion": p.PROTOCOL_VERSION,
    "maxFrameBytes": p.MAX_FRAME_BYTES,
    "maxMessageBytes": p.MAX_MESSAGE_BYTES,
    "maxContentChars": p.MAX_CONTENT_CHARS,
    "maxRequestIdChars": p.MAX_REQUEST_ID_CHARS,
    "maxMembersPerFrame": p.MAX_MEMBERS_PER_FRAME,
    "historyDefaultLimit": p.HISTORY_DEFAULT_LIMIT,
    "historyMaxLimit": p.HISTORY_MAX_LIMIT,
    "pageDefaultLimit": p.PAGE_DEFAULT_LIMIT,
    "pageMaxLimit": p.PAGE_MAX_LIMIT,
    "roomMemberIdsShown": p.ROOM_MEMBER_IDS_SHOWN,
    "lastMessagePreviewChars": p.LAST_MESSAGE_PREVIEW_CHARS,
    "maxNameChars": p.MAX_NAME_CHARS,
    "maxAvatarUrlChars": p.MAX_AVATAR_URL_CHARS,
    "replyPreviewChars": p.REPLY_PREVIEW_CHARS,
    "reactionEmojis": list(p.REACTION_EMOJIS),
    "syncMaxRooms": p.SYNC_MAX_ROOMS,
    "syncRoomsPerPage": p.SYNC_ROOMS_PER_PAGE,
    "syncMessagesPerRoom": p.SYNC_MESSAGES_PER_ROOM,
    "changesDefaultLimit": p.CHANGES_DEFAULT_LIMIT,
    "readReceiptMaxMembers": p.READ_RECEIPT_MAX_MEMBERS,
    "maxPushSubscriptions": p.MAX_PUSH_SUBSCRIPTIONS,
}


def schema() -> dict[str, Any]:
    models = [(t, "validation") for t in p.CLIENT_FRAME_TYPES] + [(t, "serialization") for t in p.SERVER_FRAME_TYPES]
    _, document = models_json_schema(models, by_alias=True, ref_template="#/$defs/{model}")  # type: ignore[arg-type]
    definitions: dict[str, Any] = document["$defs"]
    client_frames = {t.__name__ for t in p.CLIENT_FRAME_TYPES}
    for name, definition in definitions.items():
        for field in definition.get("properties", {}).values():
            field.pop("title", None)  # "Roomid" and the like: json-schema-to-typescript would name types after them
        if name not in client_frames:
            _mark_written_fields_required(definition)
    definitions["ErrorCode"] = {
        "title": "ErrorCode",
        "description": "Why a frame changed nothing (see the error codes of the protocol reference).",
        "enum": list(get_args(p.ErrorCode)),
        "type": "string",
    }
    definitions["ErrorFrame"]["properties"]["code"] = {"$ref": "#/$defs/ErrorCode"}
    definitions["ClientFrame"] = {
        "title": "ClientFrame",
        "description": "Any frame a client sends; `action` tells them apart.",
        "oneOf": [{"$ref": f"#/$defs/{t.__name__}"} for t in p.CLIENT_FRAME_TYPES],
    }
    definitions["ServerFrame"] = {
        "title": "ServerFrame",
        "description": "Any frame the server sends; `type` tells them apart.",
        "oneOf": [{"$ref": f"#/$defs/{t.__name__}"} for t in p.SERVER_FRAME_TYPES],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Chat wire protocol v1",
        "x-limits": LIMITS,
        "$defs": dict(sorted(definitions.items())),
    }


def _mark_written_fields_required(definition: dict[str, Any]) -> None:
    """What the server writes always carries every field (`type` too, though it has a default; `replyToId` as
    null), but the optional frame-level keys it leaves out when unset (`requestId`, `nextCursor`, ...)."""
    definition["required"] = [
        name
        for name, field in definition["properties"].items()
        if not (name in p.ServerFrame._omit_when_none and field.get("default", ...) is None)
    ]


def render() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    text = render()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text)
    else:
        print(text, end="")
