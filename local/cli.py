"""`python -m local`: run the whole chat on 127.0.0.1 until Ctrl-C (or SIGTERM), then stop cleanly and exit 0."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from local.console import configure_console

LISTENING_LINE = "Chat is running at {url}  (web client; WebSocket {ws_url}; Ctrl-C to stop)"
STOPPED_LINE = "Stopped cleanly."
PROG = "python -m local"

T = TypeVar("T")


def port_number(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free one)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535; 0 picks a free one)")
    return port


def non_negative_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of 0 or more")
    return value


def _from_environment(name: str, convert: Callable[[str], T], default: T) -> T:
    """`$name` converted, or the default; a bad value stops the program with one line and exit code 2."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return convert(value)
    except argparse.ArgumentTypeError as bad:
        print(f"{PROG}: {name}={bad}", file=sys.stderr)
        raise SystemExit(2) from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument(
        "--port",
        type=port_number,
        default=_from_environment("CHAT_PORT", port_number, 8080),
        help="port on 127.0.0.1 (default: $CHAT_PORT or 8080; 0 picks a free one)",
    )
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1"], help="only 127.0.0.1")
    parser.add_argument(
        "--idle-timeout",
        type=non_negative_number,
        default=_from_environment("CHAT_IDLE_TIMEOUT_SECONDS", non_negative_number, 600.0),
        help="seconds without a data frame before a socket is closed (default 600, as API Gateway)",
    )
    parser.add_argument(
        "--max-lifetime",
        type=non_negative_number,
        default=_from_environment("CHAT_MAX_LIFETIME_SECONDS", non_negative_number, 7200.0),
        help="seconds a socket may stay open (default 7200, as API Gateway)",
    )
    parser.add_argument(
        "--token-lifetime",
        type=lambda text: int(non_negative_number(text)),
        default=int(_from_environment("CHAT_TOKEN_LIFETIME_SECONDS", non_negative_number, 3600.0)),
        help="lifetime of the access tokens of /auth/token (default 3600)",
    )
    parser.add_argument(
        "--open-delay-ms",
        type=non_negative_number,
        default=_from_environment("CHAT_OPEN_DELAY_MS", non_negative_number, 0.0),
        help="extra wait between $connect answering 200 and the socket opening, as API Gateway's latency and cold "
        "starts add (pushes to the connection meanwhile get 410); default $CHAT_OPEN_DELAY_MS or 0",
    )
    parser.add_argument(
        "--handler-log-level",
        default=os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        help="level of the handlers' own JSON logs (default WARNING; the frame lines are always shown)",
    )
    parser.add_argument(
        "--web-dist",
        type=Path,
        default=None,
        help="the built web client to serve at / (default web/dist; tests serve a changed copy as a new deploy)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-frame lines, only start and stop")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    from local.stack import LocalStack, StackOptions

    stack = LocalStack(
        StackOptions(
            host=args.host,
            port=args.port,
            idle_timeout_seconds=args.idle_timeout,
            max_lifetime_seconds=args.max_lifetime,
            access_token_seconds=args.token_lifetime,
            open_delay_seconds=args.open_delay_ms / 1000,
            handler_log_level=args.handler_log_level.upper(),
            **({"web_dist": args.web_dist} if args.web_dist else {}),
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stack.start()
    print(LISTENING_LINE.format(url=stack.url, ws_url=stack.websocket_url), flush=True)
    logging.getLogger("local").info("started in %.2f s", stack.startup_seconds)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C stops at once
            loop.remove_signal_handler(signum)
        logging.getLogger("local").info(
            "stopping: closing %d connection(s)", stack.gateway.connection_count if stack.gateway else 0
        )
        await stack.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_console(level=logging.WARNING if args.quiet else logging.INFO)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        print("Interrupted while stopping.", file=sys.stderr, flush=True)
        return 130
    except OSError as exc:
        print(f"Cannot start the local stack on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    leftovers = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if leftovers:
        print(f"Stopped, but threads are still running: {leftovers}", file=sys.stderr, flush=True)
        return 1
    print(STOPPED_LINE, flush=True)
    return 0
