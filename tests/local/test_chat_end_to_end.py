"""The real product on the local stack (real handlers, embedded DynamoDB), driven as a client would drive it.

Every test signs in users of its own (unique names), so tests share one stack process without seeing each other.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Coroutine
from typing import Any

import jwt
import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.exceptions import InvalidStatus

from tests.local.chat_client import ChatClient, StackProcess, User

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def run(scenario: Coroutine[Any, Any, None], timeout: float = 60) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout))


async def online(stack: StackProcess, *names: str) -> list[tuple[User, ChatClient]]:
    users = [await User.sign_in(stack, name) for name in names]
    return [(user, await user.connect()) for user in users]


async def group(owner: ChatClient, *members: User) -> dict[str, Any]:
    reply = await owner.request({"action": "createRoom", "name": "team", "memberIds": [m.id for m in members]})
    assert reply["type"] == "room", reply
    return dict(reply["room"])


def send(room_id: str, content: str, client_msg_id: str | None = None) -> dict[str, Any]:
    return {
        "action": "sendMessage",
        "roomId": room_id,
        "content": content,
        "clientMsgId": client_msg_id or str(uuid.uuid4()),
    }


def test_two_users_chat_in_a_group_room(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (alice, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        assert set(room["memberIds"]) == {alice.id, bob.id} and room["isGroup"]
        assert (await b.expect(type="room"))["room"]["id"] == room["id"]

        ack = await a.request(send(room["id"], "hello bob"))
        assert ack["type"] == "ack" and ack["message"]["seq"] == 1
        pushed = (await b.expect(type="message"))["message"]
        assert (pushed["id"], pushed["content"], pushed["senderId"]) == (ack["message"]["id"], "hello bob", alice.id)

        await b.request(send(room["id"], "hi alice"))
        assert (await a.expect(type="message"))["message"]["seq"] == 2
        await a.assert_no_frame(type="message")  # the sender got its ack, not its own message
        await a.close()
        await b.close()

    run(scenario())


def test_two_users_chat_in_a_direct_room(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (alice, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = (await a.request({"action": "openDirect", "userId": bob.id}))["room"]
        assert not room["isGroup"] and set(room["memberIds"]) == {alice.id, bob.id}
        assert (await b.request({"action": "openDirect", "userId": alice.id}))["room"]["id"] == room["id"]

        await a.request(send(room["id"], "psst"))
        assert (await b.expect(type="message"))["message"]["content"] == "psst"
        await a.close()
        await b.close()

    run(scenario())


def test_a_retried_send_is_stored_once_and_pushed_once(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        frame = send(room["id"], "only once", client_msg_id=str(uuid.uuid4()))
        first = await a.request(frame)
        retried = await a.request(frame)
        assert retried["type"] == "ack" and retried["message"] == first["message"], (first, retried)
        await b.expect(type="message")
        await b.assert_no_frame(type="message")
        history = await b.request({"action": "history", "roomId": room["id"]})
        assert [m["content"] for m in history["messages"]] == ["only once"]
        await a.close()
        await b.close()

    run(scenario())


def test_a_user_who_reconnects_catches_up_with_history_after_the_last_seq_seen(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        await a.request(send(room["id"], "before"))
        last_seen = (await b.expect(type="message"))["message"]["seq"]
        await b.close()

        for n in range(3):
            await a.request(send(room["id"], f"missed {n}"))
        b = await bob.connect()
        caught_up = await b.request({"action": "history", "roomId": room["id"], "afterSeq": last_seen})
        assert [m["content"] for m in caught_up["messages"]] == ["missed 0", "missed 1", "missed 2"]
        assert [m["seq"] for m in caught_up["messages"]] == [last_seen + 1, last_seen + 2, last_seen + 3]
        assert caught_up["hasMore"] is False
        await a.close()
        await b.close()

    run(scenario())


def test_typing_reaches_the_other_members_and_not_the_typist(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (alice, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        await a.send({"action": "typing", "roomId": room["id"], "isTyping": True})
        typing = await b.expect(type="typing")
        assert (typing["roomId"], typing["userId"], typing["isTyping"]) == (room["id"], alice.id, True)
        await a.assert_no_frame(type="typing")
        await a.close()
        await b.close()

    run(scenario())


def test_members_see_a_user_go_offline_and_online(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_, a), (bob, b) = await online(chat_stack, "alice", "bob")
        room = await group(a, bob)
        await b.close()
        offline = await a.expect(type="presence", userId=bob.id)
        assert offline["online"] is False and offline["lastSeen"]

        b = await bob.connect()
        assert (await a.expect(type="presence", userId=bob.id))["online"] is True
        members = (await a.request({"action": "presence", "roomId": room["id"]}))["users"]
        assert all(member["online"] for member in members) and len(members) == 2
        await a.close()
        await b.close()

    run(scenario())


def test_a_bad_token_is_refused_at_the_upgrade(chat_stack: StackProcess) -> None:
    async def status_for(query: str) -> int:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(f"{chat_stack.websocket_url}{query}", proxy=None, open_timeout=10)
        return refused.value.response.status_code

    async def scenario() -> None:
        alice = await User.sign_in(chat_stack, "alice")
        claims = jwt.decode(alice.tokens["accessToken"], options={"verify_signature": False})
        kid = jwt.get_unverified_header(alice.tokens["accessToken"])["kid"]
        forged = jwt.encode(
            claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", headers={"kid": kid}
        )
        assert await status_for("") == 401
        assert await status_for("?token=garbage") == 401
        assert await status_for(f"?token={forged}") == 401
        assert await status_for(f"?token={alice.tokens['refreshToken']}") == 403

    run(scenario())


def test_a_non_member_can_neither_write_to_nor_read_a_room(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_, a), (bob, b), (_, c) = await online(chat_stack, "alice", "bob", "carol")
        room = await group(a, bob)
        refused = await c.request(send(room["id"], "let me in"))
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
        refused = await c.request({"action": "history", "roomId": room["id"]})
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
        await b.assert_no_frame(type="message")
        for client in (a, b, c):
            await client.close()

    run(scenario())


def test_a_200_kb_frame_closes_the_connection_with_1009(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        ((_, a),) = await online(chat_stack, "alice")
        await a.send(json.dumps({"action": "ping", "pad": "x" * 200_000}))
        assert await a.closed_code() == 1009

    run(scenario())


def test_a_flood_of_frames_gets_rate_limited_and_the_connection_stays_open(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        ((_, a),) = await online(chat_stack, "alice")
        # A burst of 30, then one frame every 10 s / 30 (333 ms) while the flood lasts.
        started = time.monotonic()
        for _ in range(70):
            await a.send({"action": "listRooms"})
        replies = [await a.expect() for _ in range(70)]
        flood_ms = (time.monotonic() - started) * 1000
        limited = [r for r in replies if r.get("code") == "rate_limited"]
        # `retryAfterMs` counts from the refused frame's own clock reading. The frames of a connection are handled
        # concurrently (as on AWS), so a frame that read the clock early can find the bucket already moved on by
        # frames that read it later: its wait is one interval plus that difference, which the flood's duration
        # bounds. One interval is the bound only for frames sent one after the other.
        assert limited and all(0 < r["retryAfterMs"] <= 334 + flood_ms for r in limited), limited
        assert 30 <= sum(r["type"] == "rooms" for r in replies) <= 30 + int(flood_ms / 333) + 1
        assert (await a.request({"action": "ping"}))["type"] == "pong"
        await a.close()

    run(scenario())


def test_a_refused_frame_sent_after_the_previous_reply_waits_at_most_one_interval(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        ((_, a),) = await online(chat_stack, "alice")
        for _ in range(30):  # the whole burst at once
            await a.send({"action": "listRooms"})
        for _ in range(30):
            await a.expect()
        limited: list[dict[str, Any]] = []
        for _ in range(100):  # then one at a time, each after the reply to the one before
            reply = await a.request({"action": "listRooms"})
            if reply.get("code") == "rate_limited":
                limited.append(reply)
                if len(limited) == 5:
                    break
        assert limited and all(0 < r["retryAfterMs"] <= 334 for r in limited), limited
        await a.close()

    run(scenario())


def test_others_see_the_name_chosen_at_sign_in(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (alice, a), (_, b) = await online(chat_stack, "alice", "bob")
        found = await b.request({"action": "listUsers", "query": alice.name[:12]})
        assert [(u["id"], u["name"]) for u in found["users"]] == [(alice.id, alice.name)]
        await a.close()
        await b.close()

    run(scenario())
