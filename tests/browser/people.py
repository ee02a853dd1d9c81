"""People of the browser tests: fresh names per test (the stack is shared by a module), signed in together."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests.browser.chat_page import ChatPage
from tests.browser.conftest import Contexts
from tests.local.chat_client import ChatClient, StackProcess, sign_in


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


@dataclass
class Person:
    name: str
    page: ChatPage


def sign_in_together(contexts: Contexts, *names: str, **options: object) -> list[Person]:
    """Each name in its own browser context, every sign-in submitted before any is awaited."""
    people = [Person(unique(name), contexts.open(**options)) for name in names]
    for person in people:
        person.page.fill_name(person.name)
    for person in people:
        person.page.submit_sign_in()
    for person in people:
        person.page.expect_signed_in()
    return people


def stored_copies(stack: StackProcess, name: str, content: str) -> int:
    """How many messages with `content` the server's history holds, in every room of `name`, read through the
    protocol (not the UI). In a thread: Playwright's sync API owns this thread's event loop."""

    async def count() -> int:
        tokens = await sign_in(stack.url, name)  # the same name is the same user
        client = await ChatClient.connect(stack.websocket_url, tokens["accessToken"])
        try:
            rooms = (await client.request({"action": "listRooms"}, type="rooms"))["rooms"]
            found = 0
            for room in rooms:
                page = await client.request({"action": "history", "roomId": room["id"], "limit": 100}, type="history")
                assert not page["hasMore"]
                found += sum(message["content"] == content for message in page["messages"])
            return found
        finally:
            await client.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, count()).result(timeout=30)


def send_through_protocol(
    stack: StackProcess, name: str, contents: list[str], reply_to_first: str | None = None
) -> None:
    """`name` sends `contents` to their most recently active room through the protocol (not the UI: many messages
    in a few seconds, waiting out the flood control when told to); with `reply_to_first`, the last content replies
    to the first message of the room whose content is that."""

    async def run() -> None:
        tokens = await sign_in(stack.url, name)  # the same name is the same user
        client = await ChatClient.connect(stack.websocket_url, tokens["accessToken"])
        try:
            room = (await client.request({"action": "listRooms"}, type="rooms"))["rooms"][0]["id"]
            parent_id = None
            if reply_to_first is not None:
                page = await client.request(
                    {"action": "history", "roomId": room, "afterSeq": 0, "limit": 100}, type="history"
                )
                parent_id = next(m["id"] for m in page["messages"] if m["content"] == reply_to_first)
            for index, content in enumerate(contents):
                frame = {"action": "sendMessage", "roomId": room, "content": content, "clientMsgId": str(uuid.uuid4())}
                if parent_id and index == len(contents) - 1:
                    frame["replyToId"] = parent_id
                for _ in range(20):
                    reply = await client.request(frame)
                    if reply["type"] == "ack":
                        break
                    assert reply["type"] == "error" and reply["code"] == "rate_limited", reply
                    await asyncio.sleep(reply.get("retryAfterMs", 1000) / 1000)
        finally:
            await client.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, run()).result(timeout=90)
