"""`python -m local`: run the whole chat on 127.0.0.1 until Ctrl-C (or SIGTERM), then stop cleanly and exit 0."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from local.console import configure_console

LISTENING_LINE = "Chat is running at {url}  (web client; WebSocket {ws_url}; Ctrl-C to stop)"
STOPPED_LINE = "Stopped cleanly."


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("CHAT_PORT") or 8080),
        help="port on 127.0.0.1 (default: $CHAT_PORT or 8080; 0 picks a free one)",
    )
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1"], help="only 127.0.0.1")
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=_env_float("CHAT_IDLE_TIMEOUT_SECONDS", 600),
        help="seconds without a data frame before a socket is closed (default 600, as API Gateway)",
    )
    parser.add_argument(
        "--max-lifetime",
        type=float,
        default=_env_float("CHAT_MAX_LIFETIME_SECONDS", 7200),
        help="seconds a socket may stay open (default 7200, as API Gateway)",
    )
    parser.add_argument(
        "--token-lifetime",
        type=int,
        default=int(_env_float("CHAT_TOKEN_LIFETIME_SECONDS", 3600)),
        help="lifetime of the access tokens of /auth/token (default 3600)",
    )
    parser.add_argument(
        "--handler-log-level",
        default=os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        help="level of the handlers' own JSON logs (default WARNING; the frame lines are always shown)",
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
            handler_log_level=args.handler_log_level.upper(),
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
