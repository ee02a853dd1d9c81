from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from chat import protocol as p
from chat import protocol_doc
from chat.protocol_doc import ERROR_MEANINGS, LISTS, PUSHES, REPLIES, ProtocolDocError, check, render
from tests.unit.conftest import Chat

REPO = Path(__file__).resolve().parents[2]


def test_docs_protocol_md_is_generated_from_the_models() -> None:
    assert (REPO / "docs" / "protocol.md").read_text() == render(), "run `make docs`"


def test_every_client_frame_server_frame_and_object_has_a_description() -> None:
    undescribed = [
        model.__name__
        for model in (*p.CLIENT_FRAME_TYPES, *p.SERVER_FRAME_TYPES, *protocol_doc.OBJECTS)
        if not (model.__dict__.get("__doc__") or "").strip()
    ]
    assert undescribed == [], "give each a docstring in chat/protocol.py: it is what docs/protocol.md says of it"


def test_a_model_without_a_docstring_fails_the_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    class Undescribed(p.ServerFrame):
        type: str = "undescribed"

    monkeypatch.setattr(p, "SERVER_FRAME_TYPES", (*p.SERVER_FRAME_TYPES, Undescribed))
    monkeypatch.setitem(PUSHES, Undescribed, "never")
    with pytest.raises(ProtocolDocError, match=r"no docstring .*Undescribed"):
        check()


def test_an_error_code_without_a_meaning_fails_the_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(ERROR_MEANINGS, "rejected")
    with pytest.raises(ProtocolDocError, match="ERROR_MEANINGS must have exactly the codes"):
        check()


def test_a_server_frame_neither_replied_nor_pushed_fails_the_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(PUSHES, p.TypingPush)
    with pytest.raises(ProtocolDocError, match=r"neither a reply .*`typing` \(TypingPush\)"):
        check()


def test_a_cursor_the_paging_text_does_not_name_fails_the_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    class PagedUsers(p.UsersFrame):
        """Users, a page at a time."""

        next_cursor: str | None = None

    monkeypatch.setattr(p, "SERVER_FRAME_TYPES", (*p.SERVER_FRAME_TYPES, PagedUsers))
    monkeypatch.setitem(PUSHES, PagedUsers, "never")
    monkeypatch.setitem(LISTS, PagedUsers, "some users")
    with pytest.raises(ProtocolDocError, match=r"LISTS must say how .*PagedUsers.* pages with nextCursor"):
        check()


def test_the_document_points_to_no_file_outside_the_repository() -> None:
    text = protocol_doc._intro()  # the rest is rendered from the models
    paths = re.findall(r"`([\w./-]+\.(?:md|py|json|txt|ya?ml))`", text) + re.findall(r"\]\((?!https?:)([^)]+)\)", text)
    assert paths, "the intro names the module it is generated from"
    assert [path for path in paths if not (REPO / path).exists()] == []


def test_the_document_has_every_error_code_with_its_meaning() -> None:
    text = protocol_doc._intro()
    for code, meaning in ERROR_MEANINGS.items():
        assert f"| `{code}` | {meaning} |" in text


SUBSCRIPTION = {"endpoint": "https://push.test/1", "keys": {"p256dh": "BPk3", "auth": "q7xQ"}}


def test_the_replies_and_pushes_the_document_names_are_the_ones_the_service_sends(chat: Chat) -> None:
    alice, bob, carol = chat.connect("Alice"), chat.connect("Bob"), chat.connect("Carol")
    chat.connect("Alice")  # her other device: told of her settings
    room = chat.group(alice, bob).id
    first = chat.send(alice, room, "the first message")
    message = {"roomId": room, "messageId": first.message.id}
    fields: dict[str, dict[str, object]] = {
        "sendMessage": {"roomId": room, "content": "hi", "clientMsgId": str(uuid.uuid4())},
        "typing": {"roomId": room, "isTyping": True},
        "history": {"roomId": room},
        "createRoom": {"name": "more", "memberIds": ["bob"]},
        "openDirect": {"userId": "carol"},
        "addMembers": {"roomId": room, "memberIds": ["carol"]},
        "listRooms": {},
        "listUsers": {},
        "presence": {"roomId": room},
        "updateProfile": {"name": "Alicia"},
        "markRead": {"roomId": room, "seq": 1},
        "editMessage": {**message, "content": "the first message, edited"},
        "addReaction": {**message, "emoji": "👍"},
        "removeReaction": {**message, "emoji": "👍"},
        "getMessage": message,
        "changes": {"roomId": room},
        "sync": {"rooms": {room: 0}, "versions": {room: 0}},
        "removeMember": {"roomId": room, "userId": "carol"},
        "renameRoom": {"roomId": room, "name": "renamed"},
        "deleteMessage": message,
        "registerPush": {"subscription": SUBSCRIPTION},
        "unregisterPush": {"endpoint": SUBSCRIPTION["endpoint"]},
        "muteRoom": {"roomId": room, "muted": True},
        "updateSettings": {"showPreviews": False},
        "getSettings": {},
        "ping": {},
        "leaveRoom": {"roomId": room},
    }
    assert set(fields) == set(p.ACTIONS)

    replies = {
        action: type(chat.service.handle(alice, p.CLIENT_FRAME.validate_python({"action": action, **frame})))
        for action, frame in fields.items()
    }
    chat.service.disconnect(carol.connection_id)  # a presence push to those sharing a room with her

    assert replies == {action: reply or type(None) for action, reply in REPLIES.items()}
    pushed = {frame["type"] for frames in chat.notifier.frames.values() for frame in frames}
    assert pushed == {push.model_fields["type"].default for push in PUSHES}
