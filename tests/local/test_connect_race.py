"""Pushes racing `$connect`, on the real stack with an open delay that makes the race happen every time.

On AWS a connection can be posted to only once its `$connect` has returned and API Gateway has opened the socket;
before that, PostToConnection answers 410 GoneException, as the local gateway does. `--open-delay-ms` widens that
window the way API Gateway's latency and cold starts do. A 410 from a connection still in that window means "not
yet", not "gone": it must not unregister the connection, or a user who connects while a contact connects (or
writes) stays offline and deaf until they reconnect. The push itself may be lost: clients catch up with
`history afterSeq`. Both tests failed while the service forgot every connection that answered 410.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from tests.local.chat_client import ChatClient, StackProcess, User, start_stack_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

# Far longer than a `$connect` or a `sendMessage` takes here, so that every push of the test lands in the window.
OPEN_DELAY_MS = 1000
TRIALS = 8
DROPPED = "410: $connect still running"


def run(scenario: Coroutine[Any, Any, None], timeout: float = 150) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout))


@pytest.fixture(scope="module")
def slow_open_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    stack = start_stack_process(tmp_path_factory.mktemp("stack") / "stack.log", "--open-delay-ms", str(OPEN_DELAY_MS))
    try:
        yield stack
    finally:
        assert stack.stop() == 0, stack.log()


async def group_of(owner: ChatClient, *members: User) -> str:
    reply = await owner.request({"action": "createRoom", "name": "race", "memberIds": [m.id for m in members]})
    assert reply["type"] == "room", reply
    return str(reply["room"]["id"])


async def online_members(client: ChatClient, room_id: str) -> dict[str, bool]:
    reply = await client.request({"action": "presence", "roomId": room_id})
    assert reply["type"] == "presence", reply
    return {member["userId"]: member["online"] for member in reply["users"]}


async def send(client: ChatClient, room_id: str, content: str) -> None:
    frame = {"action": "sendMessage", "roomId": room_id, "content": content, "clientMsgId": str(uuid.uuid4())}
    ack = await client.request(frame)
    assert ack["type"] == "ack", ack


async def next_message(client: ChatClient, content: str) -> dict[str, Any]:
    """The pushed message with `content`, skipping others (a push sent during the connect window may come or not)."""
    while True:
        message = (await client.expect(type="message"))["message"]
        if message["content"] == content:
            return dict(message)


def dropped_pushes(stack: StackProcess, user: User, frame_type: str) -> int:
    return sum(
        f"user={user.label}" in line and f"type={frame_type}" in line and line.endswith(DROPPED)
        for line in stack.log().splitlines()
    )


def test_two_members_connecting_at_the_same_moment_both_end_up_online_and_reachable(
    slow_open_stack: StackProcess,
) -> None:
    async def scenario() -> None:
        alice, bob, carol = [await User.sign_in(slow_open_stack, name) for name in ("alice", "bob", "carol")]
        watcher = await carol.connect()  # stays online: sees each of them go offline between trials
        room_id = await group_of(watcher, alice, bob)
        for trial in range(TRIALS):
            a, b = await asyncio.gather(alice.connect(), bob.connect())
            seen_by_alice, seen_by_bob = await online_members(a, room_id), await online_members(b, room_id)
            assert seen_by_alice[bob.id], f"trial {trial}: alice sees bob offline after both connected at once"
            assert seen_by_bob[alice.id], f"trial {trial}: bob sees alice offline after both connected at once"
            await send(a, room_id, f"alice {trial}")
            await next_message(b, f"alice {trial}")
            await send(b, room_id, f"bob {trial}")
            await next_message(a, f"bob {trial}")
            # One at a time, each seen offline: the next trial starts with both offline, so each connect pushes.
            for user, client in ((alice, a), (bob, b)):
                await client.close()
                await watcher.expect(type="presence", userId=user.id, online=False)
        await watcher.close()
        # The race was run: some presence pushes reached a connection still in its `$connect` window.
        assert dropped_pushes(slow_open_stack, alice, "presence") + dropped_pushes(slow_open_stack, bob, "presence")

    run(scenario())


def test_a_member_who_connects_while_a_message_is_sent_is_online_and_gets_the_next_one(
    slow_open_stack: StackProcess,
) -> None:
    async def scenario() -> None:
        alice, bob = [await User.sign_in(slow_open_stack, name) for name in ("alice", "bob")]
        a = await alice.connect()
        room_id = await group_of(a, bob)
        joining = asyncio.create_task(bob.connect())
        # Bob's `$connect` tells alice he is online; his socket opens only after the open delay.
        await a.expect(type="presence", userId=bob.id, online=True)
        await send(a, room_id, "during bob's connect")  # may be missed: history afterSeq catches it up
        b = await joining
        assert dropped_pushes(slow_open_stack, bob, "message") == 1  # the message was sent inside the window
        assert (await online_members(a, room_id))[bob.id], "bob is offline after connecting during a send"
        await send(a, room_id, "after bob's connect")
        assert (await next_message(b, "after bob's connect"))["senderId"] == alice.id
        await a.close()
        await b.close()

    run(scenario())
