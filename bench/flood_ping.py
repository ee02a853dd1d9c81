"""Another user's ping round trip while one user floods the local stack from four tabs: fairness, in figures.

Starts the real local stack (`python -m local --port 0 --quiet`) as a process, signs in two users, and measures
the round trip of one user's `ping` (sent one after the other) at rest, then while the other user sends
`listRooms` as fast as four connections are answered, for a bounded time and number of frames. On AWS every invocation
has its own execution environment, so the flood should not slow the ping; locally the handlers share one thread
pool, and the gateway caps each user's frames in flight so that a flood queues only its sender's frames.
Figures, not pass/fail.

    .venv/bin/python bench/flood_ping.py [--seconds 5] [--pings 200] [--tabs 4]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT)]

from tests.local.chat_client import ChatClient, sign_in, start_stack_process  # noqa: E402

FLOOD_FRAME = '{"action": "listRooms"}'
MAX_FLOOD_FRAMES_PER_TAB = 20_000
# Frames a tab keeps unanswered: far more than a user's frames in flight (16), so the gateway always has more.
FLOOD_WINDOW = 64


async def ping_round_trips(client: ChatClient, *, count: int, until: float | None = None) -> list[float]:
    """Milliseconds per ping, one ping after the other: `count` of them, or fewer if `until` comes first."""
    times: list[float] = []
    while len(times) < count and (until is None or time.monotonic() < until):
        started = time.perf_counter()
        reply = await client.request({"action": "ping"}, timeout=60)
        assert reply["type"] == "pong", reply
        times.append((time.perf_counter() - started) * 1000)
    return times


async def flood(tab: ChatClient, until: float) -> tuple[int, int]:
    """Send frames as fast as they are answered, keeping `FLOOD_WINDOW` unanswered, until `until` (or the frame
    cap); (sent, answered). A bounded window keeps the server busy without burying the close frame under
    thousands of frames buffered in the socket, so that the flood ends when the measurement does."""
    window = asyncio.Semaphore(FLOOD_WINDOW)
    answered = 0

    async def read_replies() -> None:
        nonlocal answered
        async for _ in tab.ws:
            answered += 1
            window.release()

    reader = asyncio.create_task(read_replies())
    sent = 0
    while sent < MAX_FLOOD_FRAMES_PER_TAB and time.monotonic() < until:
        await window.acquire()
        await tab.ws.send(FLOOD_FRAME)
        sent += 1
    async with asyncio.timeout(60):
        while answered < sent:
            await asyncio.sleep(0.01)
    await tab.close()
    await reader
    return sent, answered


def summary(times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    return f"median {statistics.median(times):6.1f} ms   p95 {p95:7.1f} ms   (n={len(times)})"


async def measure(url: str, websocket_url: str, *, seconds: float, pings: int, tabs: int) -> None:
    flooder = await sign_in(url, "flooder")
    pinger = await sign_in(url, "pinger")
    client = await ChatClient.connect(websocket_url, pinger["accessToken"])
    await ping_round_trips(client, count=20)  # warm up: handlers imported, clients and pools created
    at_rest = await ping_round_trips(client, count=pings)

    flood_tabs = [await ChatClient.connect(websocket_url, flooder["accessToken"]) for _ in range(tabs)]
    until = time.monotonic() + seconds
    floods = [asyncio.create_task(flood(tab, until)) for tab in flood_tabs]
    during = await ping_round_trips(client, count=100_000, until=until)
    counts = await asyncio.gather(*floods)
    await client.close()

    sent, answered = sum(c[0] for c in counts), sum(c[1] for c in counts)
    print("Round trip of one user's ping (sent one after the other):")
    print(f"  at rest                                   {summary(at_rest)}")
    print(f"  while another user floods from {tabs} tabs    {summary(during)}")
    print(f"  the flood: {sent} frames sent in {seconds:.0f} s, {answered} answered")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long the flood lasts (default 5)")
    parser.add_argument("--pings", type=int, default=200, help="pings measured at rest (default 200)")
    parser.add_argument("--tabs", type=int, default=4, help="the flooding user's connections (default 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        stack = start_stack_process(Path(scratch) / "stack.log", "--quiet")
        try:
            asyncio.run(measure(stack.url, stack.websocket_url, seconds=args.seconds, pings=args.pings, tabs=args.tabs))
        finally:
            code = stack.stop()
            if code != 0:
                print(f"the stack exited with {code}:\n{stack.log()}", file=sys.stderr)


if __name__ == "__main__":
    main()
