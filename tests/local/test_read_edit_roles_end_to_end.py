"""Issue 10 on the local stack (real handlers, embedded DynamoDB): read markers across devices, edits and deletes
reaching a member who was offline, the sender-only edit, and a removed member who can no longer read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.local.chat_client import StackProcess
from tests.local.test_chat_end_to_end import group, online, run, send

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_a_read_marker_moved_on_one_device_shows_on_the_other(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_alice, a), (bob, laptop) = await online(chat_stack, "alice", "bob")
        phone = await bob.connect()
        room = await group(a, bob)
        for n in range(3):
            await a.request(send(room["id"], f"m{n}"))

        listed = await phone.request({"action": "listRooms"})
        assert [(r["unreadCount"], r["readSeq"]) for r in listed["rooms"]] == [(3, 0)]

        reply = await laptop.request({"action": "markRead", "roomId": room["id"], "seq": 2})
        assert reply == {
            "type": "read",
            "roomId": room["id"],
            "userId": bob.id,
            "seq": 2,
            "requestId": reply["requestId"],
        }
        assert (await phone.expect(type="read"))["seq"] == 2
        assert (await a.expect(type="read"))["userId"] == bob.id  # a read receipt: a small room

        listed = await phone.request({"action": "listRooms"})
        assert [(r["unreadCount"], r["readSeq"]) for r in listed["rooms"]] == [(1, 2)]
        back = await phone.request({"action": "markRead", "roomId": room["id"], "seq": 1})
        assert back["seq"] == 2  # never back
        for client in (a, laptop, phone):
            await client.close()

    run(scenario())


def test_an_edit_and_a_delete_reach_a_member_who_was_offline(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_alice, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        first = (await a.request(send(room["id"], "helo")))["message"]
        second = (await a.request(send(room["id"], "regret")))["message"]
        caught_up = await b.request({"action": "history", "roomId": room["id"]})
        assert [m["content"] for m in caught_up["messages"]] == ["helo", "regret"]
        listed = await b.request({"action": "listRooms"})
        version = listed["rooms"][0]["lastVersion"]
        await b.close()

        edited = await a.request(
            {"action": "editMessage", "roomId": room["id"], "messageId": first["id"], "content": "hello"}
        )
        assert edited["type"] == "messageUpdated" and edited["message"]["version"] > version
        deleted = await a.request({"action": "deleteMessage", "roomId": room["id"], "messageId": second["id"]})
        assert deleted["message"]["deletedAt"] and deleted["message"]["content"] == ""

        b = await bob.connect()
        page = await b.request({"action": "sync", "rooms": {room["id"]: 2}, "versions": {room["id"]: version}})
        assert page["type"] == "sync" and page["left"] == []
        (news,) = page["rooms"]
        assert news["messages"] == []
        changed: dict[int, dict[str, Any]] = {m["seq"]: m for m in news["changes"]}
        assert (changed[1]["content"], changed[1]["editedAt"] is not None) == ("hello", True)
        assert (changed[2]["content"], changed[2]["deletedAt"] is not None) == ("", True)
        feed = await b.request({"action": "changes", "roomId": room["id"], "afterVersion": version})
        assert sorted(m["seq"] for m in feed["messages"]) == [1, 2] and not feed["hasMore"]
        await a.close()
        await b.close()

    run(scenario())


def test_a_member_who_did_not_send_a_message_cannot_edit_it(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_alice, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        message = (await a.request(send(room["id"], "mine")))["message"]

        refused = await b.request(
            {"action": "editMessage", "roomId": room["id"], "messageId": message["id"], "content": "yours"}
        )
        assert refused["type"] == "error" and refused["code"] == "forbidden"
        page = await a.request({"action": "history", "roomId": room["id"]})
        assert [(m["content"], m["version"]) for m in page["messages"]] == [("mine", 0)]
        await a.close()
        await b.close()

    run(scenario())


def test_a_removed_member_cannot_read_and_is_told(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (alice, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        await a.request(send(room["id"], "before"))
        await b.expect(type="message")

        reply = await a.request({"action": "removeMember", "roomId": room["id"], "userId": bob.id})
        assert reply["type"] == "room" and reply["room"]["memberIds"] == [alice.id]
        told = await b.expect(type="removed")
        assert (told["roomId"], told["byUserId"]) == (room["id"], alice.id)

        refused = await b.request({"action": "history", "roomId": room["id"]})
        assert refused["type"] == "error" and refused["code"] == "forbidden"
        await a.request(send(room["id"], "after"))
        await b.assert_no_frame(type="message")
        page = await b.request({"action": "sync", "rooms": {room["id"]: 0}})
        assert page["left"] == [room["id"]]
        await a.close()
        await b.close()

    run(scenario())


def test_reactions_and_replies_end_to_end(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_alice, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        parent = (await a.request(send(room["id"], "lunch?")))["message"]

        reacted = await b.request(
            {"action": "addReaction", "roomId": room["id"], "messageId": parent["id"], "emoji": "👍"}
        )
        assert reacted["type"] == "reaction" and reacted["reactions"] == [{"emoji": "👍", "count": 1}]
        pushed = await a.expect(type="reaction")
        assert (pushed["userId"], pushed["emoji"], pushed["added"]) == (bob.id, "👍", True)

        answer = await b.request({**send(room["id"], "yes"), "replyToId": parent["id"]})
        assert answer["message"]["replyTo"]["id"] == parent["id"]
        wrong = await b.request({**send(room["id"], "no"), "replyToId": "nope-1"})
        assert wrong["type"] == "error" and wrong["code"] == "bad_request"

        found = await b.request({"action": "getMessage", "roomId": room["id"], "messageId": parent["id"]})
        assert found["type"] == "messageFound" and found["message"]["myReactions"] == ["👍"]
        await a.close()
        await b.close()

    run(scenario())
