"""Page cursors: opaque to clients, made and read only here (base64url of a JSON list of strings)."""

from __future__ import annotations

import base64
import binascii
import json

from chat.errors import BadRequest


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, parts: int) -> list[str]:
    """The parts of a cursor this service made; anything else is the client's mistake."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        decoded = None
    if not (isinstance(decoded, list) and len(decoded) == parts and all(isinstance(x, str) for x in decoded)):
        raise BadRequest("cursor: pass back the nextCursor of a previous page unchanged")
    return decoded
