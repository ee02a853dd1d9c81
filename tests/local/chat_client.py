"""What the local-stack tests drive the stack with: the `websockets` client, aiohttp for HTTP, a stack process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import websockets
from websockets.asyncio.client import ClientConnection

from local.paths import REPO_ROOT

FRAME_TIMEOUT = 5.0
URL_PATTERN = re.compile(r"Chat is running at (http://127\.0\.0\.1:\d+)")


async def post_json(url: str, body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json(content_type=None)


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.content_type, await response.text()


async def sign_in(base_url: str, name: str) -> dict[str, Any]:
    status, tokens = await post_json(f"{base_url}/auth/token", {"name": name})
    assert status == 200, tokens
    return dict(tokens)


class ChatClient:
    """A WebSocket client that keeps the frames it was not waiting for, so that pushes never get lost."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._unread: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, websocket_url: str, token: str, **options: Any) -> ChatClient:
        options = {"proxy": None, "open_timeout": 10, "close_timeout": 5, **options}
        return cls(await websockets.connect(f"{websocket_url}?token={token}", **options))

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def expect(self, timeout: float = FRAME_TIMEOUT, **fields: Any) -> dict[str, Any]:
        """The first frame (kept or next) holding every one of `fields`."""
        for index, frame in enumerate(self._unread):
            if _matches(frame, fields):
                return self._unread.pop(index)
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.ws.recv())
                if _matches(frame, fields):
                    return dict(frame)
                self._unread.append(frame)

    async def request(self, frame: dict[str, Any], timeout: float = FRAME_TIMEOUT, **fields: Any) -> dict[str, Any]:
        """Send `frame` with a fresh requestId and wait for the reply that echoes it."""
        request_id = f"r{time.monotonic_ns()}"
        await self.send({**frame, "requestId": request_id})
        return await self.expect(timeout, requestId=request_id, **fields)

    async def assert_no_frame(self, wait: float = 0.5, **fields: Any) -> None:
        try:
            frame = await self.expect(wait, **fields)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame}")

    async def closed_code(self, timeout: float = FRAME_TIMEOUT) -> int | None:
        """Wait for the server to close the socket; the close code it sent."""
        async with asyncio.timeout(timeout):
            await self.ws.wait_closed()
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()


def _matches(frame: Any, fields: dict[str, Any]) -> bool:
    return isinstance(frame, dict) and all(frame.get(k) == v for k, v in fields.items())


@dataclass
class StackProcess:
    """`python -m local --port 0` in its own process: its own os.environ and handler caches, as on AWS."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def websocket_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """Ctrl-C, as a developer would; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"the stack did not stop within {timeout} s:\n{self.log()}") from None


def start_stack_process(log_path: Path, *args: str, env: dict[str, str] | None = None) -> StackProcess:
    # The log goes to a file, not a pipe: nobody has to drain it for the stack to keep running.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", "--port", "0", *args],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        found = URL_PATTERN.search(text)
        if found:
            return StackProcess(process, found.group(1), log_path)
        if process.poll() is not None:
            raise AssertionError(f"the stack exited with {process.returncode}:\n{text}")
        time.sleep(0.05)
    process.kill()
    process.wait(5)
    raise AssertionError(f"the stack did not start within 60 s:\n{log_path.read_text(errors='replace')}")


class User:
    """A signed-in user of a running stack: a fresh name per test, so tests never share users."""

    def __init__(self, stack: StackProcess, tokens: dict[str, Any]) -> None:
        self.stack = stack
        self.tokens = tokens
        self.id: str = tokens["user"]["id"]
        self.name: str = tokens["user"]["name"]

    @classmethod
    async def sign_in(cls, stack: StackProcess, name: str) -> User:
        return cls(stack, await sign_in(stack.url, f"{name}-{uuid.uuid4().hex[:8]}"))

    async def connect(self) -> ChatClient:
        return await ChatClient.connect(self.stack.websocket_url, self.tokens["accessToken"])

    @property
    def label(self) -> str:
        """How the console names this user (the start of the id: Cognito-shaped tokens carry no name)."""
        return self.id[:8]
