"""The local stack's console log: one readable, greppable line per frame, connection, HTTP request and fan-out
batch (the queue poller's invocations of the fan-out function).

    14:03:07.215 in      conn=Jd8kq2 user=Alice        action=sendMessage      bytes=143 ms=21.4
    14:03:07.236 reply   conn=Jd8kq2 user=Alice        type=ack                bytes=301
    14:03:07.231 push    conn=Pq71bX user=Bob          type=message            bytes=278
    14:03:07.240 fanout  records=1 failed=0 ms=12.5

Never a token or a message's content: sizes, actions and frame types only.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

FRAMES_LOGGER = "local.frames"
STACK_LOGGER = "local"


def configure_console(stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Send the stack's log lines to `stream` (stdout) as `HH:MM:SS.mmm message`; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(message)s", datefmt="%H:%M:%S"))
    logger = logging.getLogger(STACK_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler


def short_id(connection_id: str) -> str:
    return connection_id[:6]


class FrameLog:
    """Writes the per-frame lines; every field is a short token so that the columns line up."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(FRAMES_LOGGER)

    def frame(
        self,
        direction: str,
        connection_id: str,
        user: str,
        *,
        action: str | None = None,
        frame_type: str | None = None,
        size: int | None = None,
        ms: float | None = None,
        extra: str = "",
        level: int = logging.INFO,
    ) -> None:
        if not self._logger.isEnabledFor(level):
            return
        what = f"action={action}" if action is not None else f"type={frame_type}" if frame_type else ""
        parts = [f"{direction:<7} conn={short_id(connection_id)} user={_field(user):<12} {what:<24}"]
        if size is not None:
            parts.append(f"bytes={size}")
        if ms is not None:
            parts.append(f"ms={ms:.1f}")
        if extra:
            parts.append(extra)
        self._logger.log(level, " ".join(parts).rstrip())

    def http(self, method: str, path: str, status: int, ms: float) -> None:
        self._logger.info("%-7s %s %s status=%d ms=%.1f", "http", method, path, status, ms)

    def event(self, message: str, *args: object, level: int = logging.INFO) -> None:
        self._logger.log(level, message, *args)


def _field(value: str) -> str:
    """A user name as one token: spaces and control characters cannot break the line's columns."""
    cleaned = "".join(c if c.isprintable() and not c.isspace() else "_" for c in value)
    return cleaned[:24] or "-"
