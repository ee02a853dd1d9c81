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
