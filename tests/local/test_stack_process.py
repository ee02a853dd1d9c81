"""`python -m local` (what `make dev` runs): starts on a free port, prints its URL, stops on Ctrl-C leaving nothing."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from chat.routes import FUNCTIONS
from local.cli import STOPPED_LINE, parse_args
from local.functions import missing_functions
from local.paths import REPO_ROOT
from tests.local.chat_client import ChatClient, sign_in, start_stack_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.skipif(bool(missing_functions(FUNCTIONS)), reason="handlers not written yet")
def test_ctrl_c_after_a_fan_out_closes_every_socket_runs_disconnect_and_exits_0_leaving_no_thread_or_process(
    tmp_path: Path,
) -> None:
    stack = start_stack_process(tmp_path / "stack.log")
    children = children_of(stack.process.pid)

    async def connect_three_users() -> tuple[list[dict[str, Any]], list[ChatClient]]:
        users, clients = [], []
        for name in ("alice", "bob", "carol"):
            tokens = await sign_in(stack.url, name)
            users.append(tokens["user"])
            clients.append(await ChatClient.connect(stack.websocket_url, tokens["accessToken"]))
        return users, clients

    async def scenario() -> None:
        (_, bob, carol), (a, b, c) = await connect_three_users()
        await a.request({"action": "ping"})
        room = await a.request({"action": "createRoom", "name": "team", "memberIds": [bob["id"], carol["id"]]})
        frame = {
            "action": "sendMessage",
            "roomId": room["room"]["id"],
            "content": "hi",
            "clientMsgId": str(uuid.uuid4()),
        }
        assert (await a.request(frame))["type"] == "ack"
        for recipient in (b, c):  # one push to two recipients: the fan-out pool has started its threads
            assert (await recipient.expect(type="message"))["message"]["content"] == "hi"
        exit_code = await asyncio.to_thread(stack.stop)
        assert exit_code == 0, stack.log()
        for client in (a, b, c):
            assert await client.closed_code() == 1001

    try:
        asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        if stack.process.poll() is None:  # a step failed before Ctrl-C: leave no stack running
            stack.process.kill()
            stack.process.wait(5)
    log = stack.log()
    assert STOPPED_LINE in log  # printed only when no thread but the main one is left
    assert log.count("code=1001") == 3  # every socket closed and ran $disconnect
    assert "Traceback" not in log
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", int(stack.url.rsplit(":", 1)[1])))


def test_the_port_comes_from_chat_port_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_PORT", "9123")
    assert parse_args([]).port == 9123
    assert parse_args(["--port", "0"]).port == 0
    monkeypatch.delenv("CHAT_PORT")
    assert parse_args([]).port == 8080


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CHAT_PORT", "abc"), ("CHAT_PORT", "70000"), ("CHAT_PORT", "-1"), ("CHAT_OPEN_DELAY_MS", "soon")],
)
def test_a_bad_setting_in_the_environment_is_one_clear_line_and_exit_code_2(variable: str, value: str) -> None:
    started = subprocess.run(
        [sys.executable, "-m", "local"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert started.stdout == ""
    assert started.stderr.count("\n") == 1 and f"{variable}={value!r}" in started.stderr, started.stderr


def test_the_open_delay_comes_from_chat_open_delay_ms_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_args([]).open_delay_ms == 0
    monkeypatch.setenv("CHAT_OPEN_DELAY_MS", "250")
    assert parse_args([]).open_delay_ms == 250
    assert parse_args(["--open-delay-ms", "0"]).open_delay_ms == 0
