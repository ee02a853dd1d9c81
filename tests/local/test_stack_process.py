"""`python -m local` (what `make dev` runs): starts on a free port, prints its URL, stops on Ctrl-C leaving nothing."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from chat.routes import FUNCTIONS
from local.cli import STOPPED_LINE, parse_args
from local.functions import missing_functions
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
def test_ctrl_c_closes_every_socket_runs_disconnect_and_exits_0_leaving_no_thread_or_process(
    tmp_path: Path,
) -> None:
    stack = start_stack_process(tmp_path / "stack.log")
    children = children_of(stack.process.pid)

    async def connect_two_users() -> list[ChatClient]:
        clients = []
        for name in ("alice", "bob"):
            tokens = await sign_in(stack.url, name)
            clients.append(await ChatClient.connect(stack.websocket_url, tokens["accessToken"]))
        return clients

    async def scenario() -> None:
        clients = await connect_two_users()
        await clients[0].request({"action": "ping"})
        exit_code = await asyncio.to_thread(stack.stop)
        assert exit_code == 0, stack.log()
        for client in clients:
            assert await client.closed_code() == 1001

    asyncio.run(asyncio.wait_for(scenario(), 60))
    log = stack.log()
    assert STOPPED_LINE in log  # printed only when no thread but the main one is left
    assert log.count("code=1001") == 2  # both sockets closed and ran $disconnect
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
