"""The local stack under load: send -> every member's receive (p50, p99) and messages per second, beside a bare
`websockets` broadcast server on the same load (the transport's floor), in the same run.

    .venv/bin/python bench/local_load.py                    # both scenarios (the room of 2,000 takes minutes)
    .venv/bin/python bench/local_load.py --scenarios rooms  # 200 clients in 20 rooms only
    .venv/bin/python bench/local_load.py --profile /tmp/p   # also a yappi profile of the stack (all threads)

Each server runs in its own process on 127.0.0.1 (the stack: `LocalStack`, real handlers, embedded DynamoDB, as
`make dev` runs it, with RATE_LIMIT_FRAMES raised so that the bench is never refused); the clients run here. For
each scenario and server:

- paced: messages at a fixed rate (round-robin over the rooms and their members) below saturation (5/s: the
  stack saturates near 12/s on a loaded 2-core machine, and queueing is not what p50 should show); every
  member but the sender records the time from send to receive (the sender gets the ack). p50/p99 come from here,
  and so do the stack's figures per message: the time its handlers waited on the embedded DynamoDB (botocore's
  `before-send` to `before-parse`, i.e. the request on the wire, the serializing lock and moto; enabled only here)
  and the CPU seconds of its process (`time.process_time`, every thread).
- saturated: each room sends its next message as soon as the previous one is acked and received by every member
  (one in flight per room), for a fixed time: messages/s is what the server sustains.

Prints a table and writes `bench/results/local_load.json` (a list of flat records, one per scenario and server).
Bounded: every wait has a timeout, and the servers are stopped at the end whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT)]

RESULTS = ROOT / "bench" / "results" / "local_load.json"
HOST = "127.0.0.1"
SETUP_CONCURRENCY = 32
FRAME_TIMEOUT = 60.0


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    rooms: int
    members_per_room: int
    paced_rate: float  # messages per second, over all rooms
    paced_messages: int
    saturated_seconds: float

    @property
    def clients(self) -> int:
        return self.rooms * self.members_per_room


SCENARIOS = {
    "rooms": Scenario("200 clients in 20 rooms", "rooms", 20, 10, 5.0, 60, 8.0),
    "big": Scenario("1 room of 2,000", "big", 1, 2000, 1.0, 4, 5.0),
}


# ------------------------------------------------------------------------------------------------ servers


def serve_stack(profile: str | None) -> None:
    """The child process: the local stack with real handlers, answering `stats` and `quit` on stdin."""
    os.environ["RATE_LIMIT_FRAMES"] = "100000000"
    from local.stack import LocalStack, StackOptions

    wait = DynamoWait()
    wait.install()
    profiler = _start_profiler() if profile else None

    async def main() -> None:
        options = StackOptions(port=0, handler_log_level="ERROR", idle_timeout_seconds=3600)
        async with LocalStack(options) as stack:
            _say({"url": stack.url, "websocket_url": stack.websocket_url})
            loop = asyncio.get_running_loop()
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                command = line.strip()
                if command == "stats":
                    _say({"cpu_s": time.process_time(), **wait.snapshot()})
                elif command in ("quit", ""):
                    break

    asyncio.run(main())
    if profiler is not None and profile:
        _stop_profiler(profiler, profile)


class DynamoWait:
    """Time from botocore's `before-send` to `before-parse` of every DynamoDB call: the time a handler thread waits
    on the embedded DynamoDB (wire or in-process dispatch, the serializing lock, moto), not its own botocore work."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.seconds = 0.0
        self.calls = 0

    def install(self) -> None:
        import boto3

        # Clients copy the session's handlers when they are made (the handlers make theirs on first use).
        events = boto3._get_default_session().events
        events.register_first("before-send.dynamodb", self._sent)
        events.register_first("before-parse.dynamodb", self._answered)

    def _sent(self, **_: Any) -> None:
        self._local.started = time.perf_counter()

    def _answered(self, **_: Any) -> None:
        started = getattr(self._local, "started", None)
        if started is None:
            return
        self._local.started = None
        elapsed = time.perf_counter() - started
        with self._lock:
            self.seconds += elapsed
            self.calls += 1

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {"dynamodb_wait_s": self.seconds, "dynamodb_calls": self.calls}


def _start_profiler() -> Any:
    import yappi  # pip install --target /tmp/proftools yappi; PYTHONPATH=/tmp/proftools

    yappi.set_clock_type("cpu")
    yappi.start(builtins=False)
    return yappi


def _stop_profiler(yappi: Any, path: str) -> None:
    yappi.stop()
    stats = yappi.get_func_stats()
    stats.save(path + ".pstat", type="pstat")
    with open(path + ".txt", "w") as out:
        stats.sort("ttot").print_all(
            out=out, columns={0: ("name", 90), 1: ("ncall", 10), 2: ("tsub", 8), 3: ("ttot", 8), 4: ("tavg", 8)}
        )


def serve_bare() -> None:
    """The child process: a bare `websockets` broadcast server (join a room, then each message goes to the room's
    other members, and an ack to the sender): what any WebSocket server on this machine costs at least."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    rooms: dict[str, set[ServerConnection]] = {}

    async def handle(ws: ServerConnection) -> None:
        joined: str | None = None
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("action") == "join":
                    joined = frame["roomId"]
                    rooms.setdefault(joined, set()).add(ws)
                    await ws.send(json.dumps({"type": "joined", "requestId": frame.get("requestId")}))
                    continue
                room = frame["roomId"]
                message = {"roomId": room, "content": frame["content"], "clientMsgId": frame["clientMsgId"]}
                push = json.dumps({"type": "message", "message": message})
                broadcast([c for c in rooms.get(room, ()) if c is not ws], push)
                await ws.send(json.dumps({"type": "ack", "clientMsgId": frame["clientMsgId"], "message": message}))
        finally:
            if joined is not None:
                rooms[joined].discard(ws)

    async def main() -> None:
        async with serve(handle, HOST, 0, max_size=128 * 1024, compression=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            _say({"url": f"http://{HOST}:{port}", "websocket_url": f"ws://{HOST}:{port}"})
            loop = asyncio.get_running_loop()
            while True:
                command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
                if command == "stats":
                    _say({"cpu_s": time.process_time(), "dynamodb_wait_s": 0.0, "dynamodb_calls": 0})
                elif command in ("quit", ""):
                    break

    asyncio.run(main())


MARK = "@@local_load "  # the lines of the protocol between the bench and its servers (handlers may print too)


def _say(record: dict[str, Any]) -> None:
    sys.stdout.write(MARK + json.dumps(record) + "\n")
    sys.stdout.flush()


class ServerProcess:
    """A child running `serve_stack` or `serve_bare`; its stdout answers the commands written to its stdin."""

    def __init__(self, role: str, log_path: Path, profile: str | None = None) -> None:
        command = [sys.executable, __file__, "--serve", role]
        if profile:
            command += ["--profile", profile]
        self._log = log_path.open("wb")
        self.stray_lines: list[str] = []
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, cwd=ROOT, bufsize=0
        )
        print(f"  {role} server: pid {self.process.pid}", file=sys.stderr, flush=True)
        started = self._read(timeout=60)
        self.url: str = started["url"]
        self.websocket_url: str = started["websocket_url"]

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        stdout = self.process.stdout
        result: list[str] = []

        def read() -> None:
            for line in iter(stdout.readline, b""):
                text = line.decode(errors="replace")
                if text.startswith(MARK):
                    result.append(text[len(MARK) :])
                    return
                self.stray_lines.append(text)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not result:
            raise RuntimeError(f"the server process did not answer (see {self._log.name})")
        return dict(json.loads(result[0]))

    def stats(self) -> dict[str, float]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"stats\n")
        return self._read(timeout=30)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            assert self.process.stdin is not None
            self.process.stdin.write(b"quit\n")
            self.process.stdin.close()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# ------------------------------------------------------------------------------------------------ clients


@dataclass
class Sent:
    at: float
    expected: int
    received: int = 0
    acked: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def check(self) -> None:
        if self.acked and self.received >= self.expected:
            self.done.set()


class Recorder:
    def __init__(self) -> None:
        self.sent: dict[str, Sent] = {}
        self.latencies_ms: list[float] = []
        self.recording = False

    def received(self, client_msg_id: str) -> None:
        sent = self.sent.get(client_msg_id)
        if sent is None:
            return
        if self.recording:
            self.latencies_ms.append((time.perf_counter() - sent.at) * 1000)
        sent.received += 1
        sent.check()

    def acked(self, client_msg_id: str) -> None:
        sent = self.sent.get(client_msg_id)
        if sent is not None:
            sent.acked = True
            sent.check()


class Client:
    def __init__(self, ws: Any, recorder: Recorder, user_id: str = "") -> None:
        self.ws = ws
        self.user_id = user_id
        self._recorder = recorder
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    self._recorder.received(frame["message"].get("clientMsgId", ""))
                elif kind == "ack":
                    self._recorder.acked(frame.get("clientMsgId", ""))
                request_id = frame.get("requestId")
                if request_id in self._waiting:
                    self._waiting.pop(request_id).set_result(frame)

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        request_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        await self.ws.send(json.dumps({**frame, "requestId": request_id}))
        return await asyncio.wait_for(future, FRAME_TIMEOUT)

    async def send_message(self, room_id: str, expected: int) -> Sent:
        client_msg_id = str(uuid.uuid4())
        sent = Sent(at=time.perf_counter(), expected=expected)
        self._recorder.sent[client_msg_id] = sent
        frame = {"action": "sendMessage", "roomId": room_id, "content": "load test", "clientMsgId": client_msg_id}
        await self.ws.send(json.dumps(frame))
        return sent

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self._reader.cancel()


async def bounded(tasks: list[Callable[[], Awaitable[Any]]], limit: int = SETUP_CONCURRENCY) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(task: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await task()

    return list(await asyncio.gather(*(one(t) for t in tasks)))


async def connect(url: str) -> Any:
    import websockets

    return await websockets.connect(url, proxy=None, open_timeout=60, close_timeout=5, max_size=128 * 1024)


async def setup_stack(server: ServerProcess, scenario: Scenario, recorder: Recorder) -> list[tuple[str, list[Client]]]:
    """Sign everyone in, connect everyone, create the rooms (the first member adds the others, 100 a frame)."""
    import aiohttp

    run = uuid.uuid4().hex[:6]
    async with aiohttp.ClientSession() as session:

        async def sign_in(name: str) -> dict[str, Any]:
            async with session.post(f"{server.url}/auth/token", json={"name": name}, proxy=None) as response:
                assert response.status == 200, await response.text()
                return dict(await response.json())

        tokens = await bounded([lambda i=i: sign_in(f"load-{run}-{i}") for i in range(scenario.clients)])

    async def open_client(token: dict[str, Any]) -> Client:
        ws = await connect(f"{server.websocket_url}?token={token['accessToken']}")
        return Client(ws, recorder, token["user"]["id"])

    # Everyone connects before any room exists: with today's data model a connection pushes presence to every
    # contact online and reads every contact, so connecting the members of a room of 2,000 would cost millions of
    # pushes; a member added later gets the room frame instead (an addMembers frame pushes it to the room online).
    clients = await bounded([lambda t=t: open_client(t) for t in tokens])
    rooms: list[tuple[str, list[Client]]] = []
    per_room = scenario.members_per_room
    for r in range(scenario.rooms):
        members = clients[r * per_room : (r + 1) * per_room]
        creator = members[0]
        first = [m.user_id for m in members[1:100]]
        reply = await creator.request({"action": "createRoom", "name": f"load {r}", "memberIds": first})
        assert reply.get("type") == "room", reply
        room_id = reply["room"]["id"]
        for start in range(100, per_room, 100):  # at most MAX_MEMBERS_PER_FRAME a frame
            batch = [m.user_id for m in members[start : start + 100]]
            reply = await creator.request({"action": "addMembers", "roomId": room_id, "memberIds": batch})
            assert reply.get("type") == "room", reply
        rooms.append((room_id, members))
    return rooms


async def setup_bare(server: ServerProcess, scenario: Scenario, recorder: Recorder) -> list[tuple[str, list[Client]]]:
    async def open_member(room_id: str) -> Client:
        client = Client(await connect(server.websocket_url), recorder)
        await client.request({"action": "join", "roomId": room_id})
        return client

    rooms = []
    for r in range(scenario.rooms):
        room_id = f"room-{r}"
        members = await bounded([lambda room_id=room_id: open_member(room_id)] * scenario.members_per_room)
        rooms.append((room_id, members))
    return rooms


@dataclass
class Figures:
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    deliveries: int = 0
    paced_rate: float = 0.0
    paced_messages_per_s: float = 0.0
    messages_per_s: float = 0.0
    dynamodb_wait_ms_per_message: float = 0.0
    dynamodb_calls_per_message: float = 0.0
    cpu_ms_per_message: float = 0.0
    saturated_cpu_ms_per_message: float = 0.0
    saturated_dynamodb_wait_ms_per_message: float = 0.0
    setup_s: float = 0.0
    lost: int = 0


async def run_load(server: ServerProcess, scenario: Scenario, bare: bool) -> Figures:
    recorder = Recorder()
    figures = Figures(paced_rate=scenario.paced_rate)
    started = time.perf_counter()
    rooms = await (setup_bare if bare else setup_stack)(server, scenario, recorder)
    figures.setup_s = time.perf_counter() - started
    try:
        await asyncio.sleep(0.5)  # let the last pushes of the setup land
        await paced(server, scenario, rooms, recorder, figures)
        await saturated(server, scenario, rooms, recorder, figures)
    finally:
        await bounded([c.close for _, clients in rooms for c in clients], 256)
    return figures


async def paced(
    server: ServerProcess, scenario: Scenario, rooms: list[tuple[str, list[Client]]], recorder: Recorder, f: Figures
) -> None:
    before = server.stats()
    print(f"  paced: {scenario.paced_messages} messages at {scenario.paced_rate}/s", file=sys.stderr, flush=True)
    recorder.recording = True
    sends: list[Sent] = []
    started = time.perf_counter()
    for n in range(scenario.paced_messages):
        due = started + n / scenario.paced_rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        room_id, members = rooms[n % len(rooms)]
        sender = members[(n // len(rooms)) % len(members)]
        sends.append(await sender.send_message(room_id, expected=len(members) - 1))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in sends)), FRAME_TIMEOUT)
    elapsed = time.perf_counter() - started
    recorder.recording = False
    after = server.stats()
    f.lost = sum(s.expected - s.received for s in sends)
    latencies = sorted(recorder.latencies_ms)
    f.deliveries = len(latencies)
    if latencies:
        f.p50_ms = statistics.median(latencies)
        f.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        f.max_ms = latencies[-1]
    messages = len(sends)
    f.paced_messages_per_s = messages / elapsed
    f.cpu_ms_per_message = (after["cpu_s"] - before["cpu_s"]) * 1000 / messages
    f.dynamodb_wait_ms_per_message = (after["dynamodb_wait_s"] - before["dynamodb_wait_s"]) * 1000 / messages
    f.dynamodb_calls_per_message = (after["dynamodb_calls"] - before["dynamodb_calls"]) / messages


async def saturated(
    server: ServerProcess, scenario: Scenario, rooms: list[tuple[str, list[Client]]], recorder: Recorder, f: Figures
) -> None:
    """One message in flight per room, each sent when the previous one is acked and received by every member."""
    before = server.stats()
    deadline = time.perf_counter() + scenario.saturated_seconds
    completed = 0

    async def room_loop(room_id: str, members: list[Client]) -> None:
        nonlocal completed
        n = 0
        while time.perf_counter() < deadline:
            sent = await members[n % len(members)].send_message(room_id, expected=len(members) - 1)
            n += 1
            try:
                await asyncio.wait_for(sent.done.wait(), FRAME_TIMEOUT)
            except TimeoutError:
                return
            completed += 1

    started = time.perf_counter()
    await asyncio.gather(*(room_loop(room_id, members) for room_id, members in rooms))
    elapsed = time.perf_counter() - started
    after = server.stats()
    f.messages_per_s = completed / elapsed
    if completed:
        f.saturated_cpu_ms_per_message = (after["cpu_s"] - before["cpu_s"]) * 1000 / completed
        waited = after["dynamodb_wait_s"] - before["dynamodb_wait_s"]
        f.saturated_dynamodb_wait_ms_per_message = waited * 1000 / completed


# ------------------------------------------------------------------------------------------------ report


def record(scenario: Scenario, stack: Figures, bare: Figures) -> dict[str, Any]:
    r = round
    return {
        "benchmark": "local_load",
        "scenario": scenario.name,
        "clients": scenario.clients,
        "rooms": scenario.rooms,
        "members_per_room": scenario.members_per_room,
        "paced_rate_messages_per_s": scenario.paced_rate,
        "paced_messages": scenario.paced_messages,
        "deliveries": stack.deliveries,
        "p50_ms": r(stack.p50_ms, 2),
        "p99_ms": r(stack.p99_ms, 2),
        "max_ms": r(stack.max_ms, 2),
        "messages_per_s": r(stack.messages_per_s, 1),
        "dynamodb_wait_ms_per_message": r(stack.dynamodb_wait_ms_per_message, 2),
        "dynamodb_calls_per_message": r(stack.dynamodb_calls_per_message, 1),
        "cpu_ms_per_message": r(stack.cpu_ms_per_message, 2),
        "saturated_cpu_ms_per_message": r(stack.saturated_cpu_ms_per_message, 2),
        "saturated_dynamodb_wait_ms_per_message": r(stack.saturated_dynamodb_wait_ms_per_message, 2),
        "p50_over_dynamodb_wait": r(stack.p50_ms / stack.dynamodb_wait_ms_per_message, 2)
        if stack.dynamodb_wait_ms_per_message
        else None,
        "lost_deliveries": stack.lost,
        "setup_s": r(stack.setup_s, 1),
        "bare_p50_ms": r(bare.p50_ms, 2),
        "bare_p99_ms": r(bare.p99_ms, 2),
        "bare_messages_per_s": r(bare.messages_per_s, 1),
        "bare_cpu_ms_per_message": r(bare.cpu_ms_per_message, 2),
        "p50_over_bare": r(stack.p50_ms / bare.p50_ms, 1) if bare.p50_ms else None,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
    }


def print_table(records: list[dict[str, Any]]) -> None:
    columns = [
        ("scenario", "scenario", 24, "s"),
        ("p50 ms", "p50_ms", 8, ".1f"),
        ("p99 ms", "p99_ms", 8, ".1f"),
        ("msg/s", "messages_per_s", 7, ".1f"),
        ("ddb ms/msg", "dynamodb_wait_ms_per_message", 11, ".1f"),
        ("ddb calls", "dynamodb_calls_per_message", 9, ".1f"),
        ("cpu ms/msg", "cpu_ms_per_message", 11, ".1f"),
        ("p50/ddb", "p50_over_dynamodb_wait", 8, ".2f"),
        ("bare p50", "bare_p50_ms", 9, ".2f"),
        ("bare p99", "bare_p99_ms", 9, ".2f"),
        ("bare msg/s", "bare_messages_per_s", 10, ".0f"),
        ("bare cpu", "bare_cpu_ms_per_message", 9, ".2f"),
    ]
    print("  ".join(f"{title:>{width}}" for title, _, width, _ in columns))
    for rec in records:
        cells = []
        for _, key, width, fmt in columns:
            value = rec.get(key)
            cells.append(f"{value:>{width}{fmt}}" if value is not None else f"{'-':>{width}}")
        print("  ".join(cells))


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    records = []
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    for key in args.scenarios.split(","):
        scenario = SCENARIOS[key]
        if args.messages:
            scenario = replace(scenario, paced_messages=args.messages)
        if args.rate:
            scenario = replace(scenario, paced_rate=args.rate)
        if args.saturate is not None:
            scenario = replace(scenario, saturated_seconds=args.saturate)
        figures: dict[str, Figures] = {}
        for role in ("stack", "bare"):
            profile = f"{args.profile}-{key}" if args.profile and role == "stack" else None
            server = ServerProcess(role, logs / f"local_load-{key}-{role}.log", profile)
            try:
                print(f"{scenario.name}: {role} ...", file=sys.stderr, flush=True)
                figures[role] = await run_load(server, scenario, bare=role == "bare")
            finally:
                server.stop()
        records.append(record(scenario, figures["stack"], figures["bare"]))
        print(json.dumps(records[-1]), file=sys.stderr, flush=True)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="rooms,big", help="comma-separated: rooms, big")
    parser.add_argument("--profile", help="write a yappi profile of the stack to PATH-<scenario>.{txt,pstat}")
    parser.add_argument("--messages", type=int, help="paced messages (default: the scenario's)")
    parser.add_argument("--rate", type=float, help="paced messages per second (default: the scenario's)")
    parser.add_argument("--saturate", type=float, help="seconds of the saturated phase (default: the scenario's)")
    parser.add_argument("--logs", default="/tmp", help="where the servers' logs go")
    parser.add_argument("--out", default=str(RESULTS), help="the JSON results ('' for none)")
    parser.add_argument("--serve", choices=["stack", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="the 20 rooms only (make bench BENCH_ARGS=--quick)")
    args = parser.parse_args()
    if args.quick:
        args.scenarios = "rooms"
    if args.serve == "stack":
        serve_stack(args.profile)
        return
    if args.serve == "bare":
        serve_bare()
        return
    records = asyncio.run(asyncio.wait_for(run(args), 900))
    print_table(records)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(records, indent=2) + "\n")
        print(f"\nwritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
