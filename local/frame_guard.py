"""API Gateway's 32 KB frame limit, which aiohttp cannot enforce by itself.

aiohttp reassembles fragmented messages and only bounds the whole message (`max_msg_size`, our 128 KB). API
Gateway also refuses any single data frame over 32 KB and closes the connection with 1009. `FrameSizeGuard` sits
in front of aiohttp's WebSocket reader, reads the frame headers of the raw byte stream (no payload is decoded)
and, at the first oversized frame, hands the reader everything before that frame and then fails the message
queue with a 1009 error, which aiohttp's `receive()` turns into a close frame with that code.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import WSCloseCode, web
from aiohttp.http_websocket import WebSocketError

_CONTROL_OPCODES = frozenset({0x8, 0x9, 0xA})


class _Reader(Protocol):
    def feed_data(self, data: bytes) -> tuple[bool, bytes]: ...

    def feed_eof(self) -> None: ...


class _Queue(Protocol):
    def set_exception(self, exc: BaseException) -> None: ...


class FrameHeaderScanner:
    """Finds the frame boundaries of a client-to-server WebSocket byte stream (RFC 6455 section 5.2)."""

    def __init__(self, max_frame_bytes: int) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._header = bytearray()
        self._payload_left = 0

    def find_oversized_frame(self, data: bytes) -> int | None:
        """Offset in `data` of the first byte of a data frame whose payload is over the limit, if any."""
        position = 0
        size = len(data)
        while position < size:
            if self._payload_left:
                skipped = min(self._payload_left, size - position)
                self._payload_left -= skipped
                position += skipped
                continue
            frame_start = position - len(self._header)
            needed = self._header_length()
            take = min(needed - len(self._header), size - position)
            self._header += data[position : position + take]
            position += take
            if len(self._header) < needed or len(self._header) < self._header_length():
                continue
            opcode = self._header[0] & 0x0F
            payload = self._payload_length()
            self._header.clear()
            if opcode not in _CONTROL_OPCODES and payload > self.max_frame_bytes:
                return max(frame_start, 0)
            self._payload_left = payload
        return None

    def _header_length(self) -> int:
        if len(self._header) < 2:
            return 2
        length = self._header[1] & 0x7F
        extended = 2 if length == 126 else 8 if length == 127 else 0
        masked = 4 if self._header[1] & 0x80 else 0
        return 2 + extended + masked

    def _payload_length(self) -> int:
        length = self._header[1] & 0x7F
        if length == 126:
            return int.from_bytes(self._header[2:4], "big")
        if length == 127:
            return int.from_bytes(self._header[2:10], "big")
        return length


class FrameSizeGuard:
    """Stands in for aiohttp's WebSocket reader on the connection's protocol; forwards every byte it accepts."""

    def __init__(self, reader: _Reader, queue: _Queue, max_frame_bytes: int) -> None:
        self._reader = reader
        self._queue = queue
        self._scanner = FrameHeaderScanner(max_frame_bytes)
        self.tripped = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.tripped:
            return False, b""
        offset = self._scanner.find_oversized_frame(bytes(data))
        if offset is None:
            return self._reader.feed_data(data)
        if offset:
            self._reader.feed_data(data[:offset])
        self.tripped = True
        limit_kb = self._scanner.max_frame_bytes // 1024
        self._queue.set_exception(WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, f"Frame over {limit_kb} KB"))
        # Not end-of-stream: the connection stays open so that aiohttp can send the 1009 close frame.
        return False, b""

    def feed_eof(self) -> None:
        self._reader.feed_eof()


class GuardedWebSocketResponse(web.WebSocketResponse):
    """A `WebSocketResponse` whose incoming data frames may not exceed `max_frame_bytes`."""

    def __init__(self, *, max_frame_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_frame_bytes = max_frame_bytes

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: Any) -> None:
        super()._post_start(request, protocol, writer)
        # aiohttp has no hook between the socket and its frame parser: wrap the parser it just installed.
        handler: Any = request.protocol
        assert self._parser is not None and self._reader is not None and handler is not None
        handler._payload_parser = FrameSizeGuard(self._parser, self._reader, self._max_frame_bytes)
