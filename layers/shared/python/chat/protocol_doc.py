"""Writes docs/protocol.md from the pydantic models of chat.protocol: `python -m chat.protocol_doc [PATH]`.

The document is the whole protocol reference: a client author needs nothing else. What the models cannot say
(the meaning of each error code, which frames are replies and which are pushes, how each list pages) is kept here
next to the rendering, and the generation fails when any of it, or a model's docstring, is missing. A test
compares the file with this output, so the document can never drift from the code.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from chat import protocol as p
from chat.frames import MAX_NESTING_DEPTH
from chat.settings import Settings


class ProtocolDocError(Exception):
    """The protocol cannot be documented as it is: something it needs is missing."""


# What each error code tells the client, and what to do about it.
ERROR_MEANINGS: dict[str, str] = {
    "bad_request": "The frame is malformed or asks for something impossible: not JSON, not an object, an unknown "
    "action, a missing or mistyped field, a lone surrogate, too deep. Sending it again fails again: fix it.",
    "too_large": "The frame, a string or a list in it is over its limit (see Limits). Shorten it.",
    "unauthorized": "The connection's token has expired. Reconnect with a fresh token.",
    "forbidden": "Not allowed: the sender is not a member of the room (a room that does not exist gets the same "
    "answer, so that nobody learns which rooms exist), or the room does not allow it (a direct room cannot be "
    "left or given members).",
    "not_found": "A user the frame names does not exist.",
    "rate_limited": "Too many frames: wait `retryAfterMs` milliseconds, then send it again.",
    "rejected": "The content was refused by moderation. Change it.",
    "unavailable": "The service is busy (storage throttling or contention that outlasted the server's own retries): "
    "nothing changed; send the same frame again after `retryAfterMs` (a `sendMessage` with the same "
    "`clientMsgId` is still stored once).",
    "internal": "Something failed on the server's side, not in the frame. Send it again later (after `retryAfterMs` "
    "when given); a `sendMessage` retried with the same `clientMsgId` is still stored once.",
}

# The reply to each client frame when it succeeds (None: no reply); a frame that fails gets `error` instead.
REPLIES: dict[str, type[p.ServerFrame] | None] = {
    "sendMessage": p.Ack,
    "typing": None,
    "history": p.HistoryPage,
    "createRoom": p.RoomFrame,
    "openDirect": p.RoomFrame,
    "addMembers": p.RoomFrame,
    "leaveRoom": p.RoomFrame,
    "listRooms": p.RoomsFrame,
    "listUsers": p.UsersFrame,
    "presence": p.RoomPresence,
    "updateProfile": p.ProfileFrame,
    "markRead": p.ReadFrame,
    "editMessage": p.MessageUpdated,
    "deleteMessage": p.MessageUpdated,
    "addReaction": p.ReactionFrame,
    "removeReaction": p.ReactionFrame,
    "getMessage": p.MessageFrame,
    "changes": p.ChangesPage,
    "sync": p.SyncPage,
    "removeMember": p.RoomFrame,
    "renameRoom": p.RoomFrame,
    "registerPush": p.PushRegistered,
    "unregisterPush": p.PushRegistered,
    "muteRoom": p.RoomMuted,
    "updateSettings": p.SettingsFrame,
    "getSettings": p.SettingsFrame,
    "ping": p.Pong,
}

# The frames the server sends on its own, and to whom.
PUSHES: dict[type[p.ServerFrame], str] = {
    p.MessagePush: "to every connection of the room's members, but the one that sent the message",
    p.TypingPush: "to the connections of the room's other members",
    p.RoomFrame: "when a room is created, renamed or its members change: to every connection of its members (and "
    "of the user who left), but the one that asked",
    p.PresencePush: "when a user's first connection opens or last one closes: to the users sharing a room with them",
    p.ProfileFrame: "when a user changes their name or avatar: to the users sharing a room with them, and to their "
    "own other connections",
    p.ReadFrame: "when a user moves a read marker: to their own other connections, and in rooms of at most "
    f"{p.READ_RECEIPT_MAX_MEMBERS} members to the other members' connections (a read receipt; bigger rooms omit it)",
    p.MessageUpdated: "when a message is edited or deleted: to every connection of the room's members, but the one "
    "that asked",
    p.ReactionFrame: "when a reaction is added or taken back: to every connection of the room's members, but the one "
    "that asked",
    p.RemovedPush: "when an admin removes a member: to every connection of the removed member",
    p.SettingsFrame: "when a user changes their notification settings: to their other connections",
    p.RoomMuted: "when a user mutes or unmutes a room: to their other connections",
}

# How each list a server frame carries comes. A cursor field the text does not name fails the generation.
LISTS: dict[type[p.ServerFrame], str] = {
    p.HistoryPage: "a page of messages, as above",
    p.RoomsFrame: f"a page of the user's rooms, the most recently active first (`limit`, default "
    f"{p.PAGE_DEFAULT_LIMIT}, at most {p.PAGE_MAX_LIMIT}); `nextCursor` asks for the next page",
    p.UsersFrame: f"a page of users by name (`limit`, default {p.PAGE_DEFAULT_LIMIT}, at most {p.PAGE_MAX_LIMIT}); "
    "`nextCursor` asks for the next page, and a longer `query` narrows them",
    p.RoomPresence: f"a page of the room's members by id (`limit`, default and at most {p.PAGE_MAX_LIMIT}); "
    "`nextCursor` asks for the next page",
    p.ChangesPage: f"a page of changed messages (`limit`, default {p.CHANGES_DEFAULT_LIMIT}, at most "
    f"{p.HISTORY_MAX_LIMIT}, and at most 100 KB), each message once as it now is; `version` is the next "
    "`afterVersion`",
    p.ReactionFrame: f"`reactions`: a count per emoji reacted with (at most {len(p.REACTION_EMOJIS)}, the fixed set)",
    p.SyncPage: f"at most {p.SYNC_ROOMS_PER_PAGE} rooms with news (and at most 100 KB), each with at most "
    f"{p.SYNC_MESSAGES_PER_ROOM} new messages and {p.SYNC_MESSAGES_PER_ROOM} changes; `left` lists the asked-about "
    "rooms the sender is not a member of; `nextCursor` asks for the next page",
}

OBJECTS: tuple[type[p.WireModel], ...] = (
    p.Message,
    p.ReplyPreview,
    p.ReactionCount,
    p.Room,
    p.RoomSummary,
    p.RoomNews,
    p.UserInfo,
    p.MemberPresence,
)


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if "anyOf" in schema:
        return " or ".join(_type_of(s) for s in schema["anyOf"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
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
            f"| `{name}` | {_type_of(field_schema)} | {'yes' if name in required else 'no'} | "
            f"{_constraints(field_schema)} |"
        )
    return rows if len(rows) > 2 else ["(no fields)"]


def _is_list(schema: dict[str, Any]) -> bool:
    return any(option.get("type") == "array" for option in [schema, *schema.get("anyOf", [])])


def _description(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__dict__.get("__doc__") or "")  # its own docstring: a base class's says nothing


def _action(model: type[p.ClientFrame]) -> str:
    return str(model.model_fields["action"].annotation.__args__[0])  # type: ignore[union-attr]


def _type(frame: type[p.ServerFrame]) -> str:
    return str(frame.model_fields["type"].default)


def _names(frames: Iterable[type[p.ServerFrame]]) -> str:
    return ", ".join(f"`{_type(f)}` ({f.__name__})" for f in frames)


def check() -> None:
    """Raise ProtocolDocError listing everything the document would miss or get wrong."""
    problems = []
    described: tuple[type[BaseModel], ...] = (*p.CLIENT_FRAME_TYPES, *p.SERVER_FRAME_TYPES, *OBJECTS)
    undescribed = [m.__name__ for m in described if not _description(m)]
    if undescribed:
        problems.append(f"no docstring (it is the frame's description): {', '.join(undescribed)}")
    codes = set(get_args(p.ErrorCode))
    if codes != ERROR_MEANINGS.keys():
        problems.append(f"ERROR_MEANINGS must have exactly the codes {sorted(codes)}, not {sorted(ERROR_MEANINGS)}")
    if REPLIES.keys() != set(p.ACTIONS):
        problems.append(f"REPLIES must have exactly the actions {list(p.ACTIONS)}, not {list(REPLIES)}")
    unsent = set(p.SERVER_FRAME_TYPES) - {*REPLIES.values(), *PUSHES, p.ErrorFrame}
    if unsent:
        problems.append(f"neither a reply (REPLIES) nor a push (PUSHES): {_names(unsent)}")
    for frame in p.SERVER_FRAME_TYPES:
        schema = frame.model_json_schema(by_alias=True)
        if any(_is_list(s) for s in schema["properties"].values()) and frame not in LISTS:
            problems.append(f"LISTS must say how the lists of {_names([frame])} come")
        cursors = [name for name in schema["properties"] if "cursor" in name.lower()]
        if any(f"`{name}`" not in LISTS.get(frame, "") for name in cursors):
            problems.append(f"LISTS must say how {_names([frame])} pages with {', '.join(cursors)}")
    if problems:
        raise ProtocolDocError("docs/protocol.md cannot be generated:\n- " + "\n- ".join(problems))


def _intro() -> str:
    return f"""# Wire protocol v{p.PROTOCOL_VERSION}

Everything a client needs to talk to the chat. Generated from `layers/shared/python/chat/protocol.py` by
`make docs`; do not edit by hand.

## Connecting

One WebSocket per client (a user may have several at once: a laptop and a phone):

- on AWS: `wss://<api>/<stage>?token=<access JWT>` (the stack's `WebSocketUrl` output);
- locally (`make dev`): `ws://127.0.0.1:8080/ws?token=<access JWT>`.

The access token travels in the `token` query parameter (browsers cannot set headers on a WebSocket). It is
checked before the upgrade: no token, or one that is malformed, forged, expired or meant for another service, is
refused with HTTP 401; a valid token that may not open a chat connection (not an access or ID token, or naming
no user) with 403. Either way no socket opens: get a fresh token and connect again.

Who sends a frame comes from the token only: a frame never says who it is from (a `senderId` in it is ignored).
Once the token expires, every frame is answered `unauthorized`: reconnect with a fresh one. A connection closes
after 10 minutes without a frame (send `ping`) and 2 hours after it opened: reconnect, then catch up.

## Frames

Every WebSocket message is one JSON object in a UTF-8 text frame.

- Client → server: `action` names the frame, and an optional `requestId` (a string of at most
  {p.MAX_REQUEST_ID_CHARS} characters) is echoed in the reply. Field names are camelCase. Unknown fields are
  ignored. Types are strict: `"true"` is no boolean, `1.0` no integer.
- A frame that is not strict JSON (`NaN`, a key twice in one object), is nested more than {MAX_NESTING_DEPTH}
  levels deep, or holds a string with a lone surrogate (a `\\ud800`-`\\udfff` escape without its pair) is
  answered `bad_request`.
- Server → client: `type` names the frame. Ids are opaque strings; times are ISO-8601 UTC strings
  (`2025-01-31T09:30:00.000Z`). A frame's optional keys (`requestId`, `action`, `clientMsgId`,
  `retryAfterMs`) are left out when unset; an object's optional fields (`replyToId`, `lastSeen`,
  `lastMessage`) are `null`.

## Replies and pushes

A reply answers one client frame, on its connection, and echoes its `requestId`. A push is sent when something
happens, and has no `requestId`. Frames of one connection are handled concurrently: replies can come in another
order than their frames went, and a push can come before the reply to the frame that caused it. Match replies by
`requestId`.

| server frame | reply to | pushed |
|---|---|---|
{_reply_and_push_rows()}

{_silent_actions()} no reply when it succeeds. The two `presence` frames differ by their fields: the reply has
`roomId` and `users`, the push `userId`.

## Sending messages exactly once

A `sendMessage` carries a `clientMsgId`: a UUID the client makes once per message, before the first attempt.
A room stores a message once per sender's `clientMsgId`, however often it is sent: when a reply is lost (a
timeout, a closed connection, `internal`), send the very same frame again, even after reconnecting, and the
`ack` holds the message stored the first time (same `id`, same `seq`); the room saw it once. A new message needs
a new `clientMsgId`.

Each room numbers its messages with `seq`: 1, 2, 3, … with no gaps, in the order they were stored.

## Catching up

Pushes are not stored: while a client is disconnected, it misses them. Remember the highest `seq` seen in each
room; after reconnecting (or on a gap in the `seq` of pushed messages), send `history` with `afterSeq` set to it,
then again from the last `seq` of each page while `hasMore` is `true`. The `ack` of a message is sent only once
it is stored, so a catch-up that follows an `ack` includes it.

## Paging

`history` pages through a room by `seq`, each page ascending: without `beforeSeq` or `afterSeq` it holds the
latest `limit` messages; with `beforeSeq` the ones just before it (to scroll back: the first `seq` of the page
is the next `beforeSeq`); with `afterSeq` the ones just after it (to catch up: the last `seq` is the next
`afterSeq`). `hasMore: true` says more messages follow in that direction. A page holds fewer than `limit`
messages when they would not fit in one server message ({p.MAX_MESSAGE_BYTES} bytes).

What each list in a reply holds:

{_list_rows()}

## Limits

- A client frame is at most {p.MAX_FRAME_BYTES} bytes of UTF-8 (`too_large`; API Gateway closes the connection,
  code 1009, on a single WebSocket frame over 32 KB).
- `content` is 1 to {p.MAX_CONTENT_CHARS} characters and not blank; a `createRoom` or `addMembers` names at most
  {p.MAX_MEMBERS_PER_FRAME} users; `history` gives at most {p.HISTORY_MAX_LIMIT} messages a page (default
  {p.HISTORY_DEFAULT_LIMIT}). The frames below give every field's limits; a string or list over its limit is
  `too_large`.
- A server message is at most {p.MAX_MESSAGE_BYTES} bytes.
- Flood control: every frame but `ping` counts against the sender's budget (by default bursts of
  {_default("rate_limit_frames")} frames, refilled over {_default("rate_limit_window_seconds")} seconds; a
  deployment may set other figures). Over it, a frame is answered `rate_limited` with `retryAfterMs` and does
  nothing.

## Errors

A frame that fails is answered with an `error` frame and changes nothing. It echoes the failed frame's
`action`, `requestId` and `clientMsgId` when they could be read, and has `retryAfterMs` when waiting helps.
Program against `code`; `message` is for people and may change. An error never closes the connection.

| code | meaning |
|---|---|
{_error_rows()}

## Versioning

This is version {p.PROTOCOL_VERSION}. It is extended, never broken: new actions, new server frames, new optional
fields and new error codes may come; nothing is renamed or removed, and no field changes its meaning. So a
client ignores fields and server frame `type`s it does not know, and treats an unknown error `code` like
`internal`. A change that would break a client would be a new version.
"""


def _default(setting: str) -> object:
    return Settings.model_fields[setting].default


def _reply_and_push_rows() -> str:
    rows = []
    for frame in p.SERVER_FRAME_TYPES:
        actions = [f"`{a}`" for a, reply in REPLIES.items() if reply is frame]
        reply_to = "any frame that fails" if frame is p.ErrorFrame else ", ".join(actions) or "—"
        rows.append(f"| `{_type(frame)}` ({frame.__name__}) | {reply_to} | {PUSHES.get(frame, '—')} |")
    return "\n".join(rows)


def _silent_actions() -> str:
    silent = [f"`{a}`" for a, reply in REPLIES.items() if reply is None]
    return f"{', '.join(silent)} {'has' if len(silent) == 1 else 'have'}"


def _list_rows() -> str:
    return "\n".join(f"- `{_type(frame)}` ({frame.__name__}) holds {text}." for frame, text in LISTS.items())


def _error_rows() -> str:
    return "\n".join(f"| `{code}` | {ERROR_MEANINGS[code]} |" for code in get_args(p.ErrorCode))


def render() -> str:
    """docs/protocol.md, once `check` finds nothing missing."""
    check()
    return _document()


def _document() -> str:
    lines = [_intro(), "## Client frames", ""]
    for model in p.CLIENT_FRAME_TYPES:
        lines += [f"### `{_action(model)}`", "", _description(model), ""]
        lines += [*_fields_table(model, {"action", "requestId"}), ""]
    lines += ["## Server frames", ""]
    for frame in p.SERVER_FRAME_TYPES:
        lines += [f"### `{_type(frame)}` ({frame.__name__})", "", _description(frame), ""]
        lines += [*_fields_table(frame, {"type"}), ""]
    lines += ["## Objects", ""]
    for obj in OBJECTS:
        lines += [f"### `{obj.__name__}`", "", _description(obj), "", *_fields_table(obj, set()), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    document = render()  # fails before anything is written: `> docs/protocol.md` would have emptied the file
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(document)
    else:
        print(document, end="")
