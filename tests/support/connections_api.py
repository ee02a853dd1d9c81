"""A stand-in for the API Gateway Management API (`@connections`) on 127.0.0.1, for handler tests.

It records every frame posted per connection, answers 410 Gone for connections marked gone, and 429 for
connections given a number of throttled answers first, so that the real boto3 client and its error parsing
are exercised end to end.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops SYNs under a 32-wide fan-out: 1 s retransmits


class ConnectionsApi:
    def __init__(self, *, delay_seconds: float = 0.0) -> None:
        """`delay_seconds`: how long each request waits before it is answered (the benchmark's API latency)."""
        self.delay_seconds = delay_seconds
        self.last_post_at = 0.0  # time.monotonic() of the latest POST answered
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.throttle: dict[str, int] = defaultdict(int)
        self.posts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="connections-api", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ConnectionsApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def received(self, connection_id: str, frame_type: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [f for f in self.frames[connection_id] if frame_type is None or f.get("type") == frame_type]

    def _answer(self, method: str, connection_id: str, body: bytes) -> tuple[int, str | None]:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        with self._lock:
            if method == "POST":
                self.last_post_at = time.monotonic()
            self.posts[connection_id] += method == "POST"
            if connection_id in self.gone:
                return 410, "GoneException"
            if self.throttle[connection_id] > 0:
                self.throttle[connection_id] -= 1
                return 429, "LimitExceededException"
            if method == "POST":
                self.frames[connection_id].append(json.loads(body))
            return 200, None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pooled connections expect
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm holds the body until
            # the client's delayed ACK (40 ms on Linux), which made every post take 40 ms more.
            disable_nagle_algorithm = True

            def _serve(self, method: str) -> None:
                prefix = "/@connections/"
                if not self.path.startswith(prefix):
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, error_type = api._answer(method, unquote(self.path[len(prefix) :]), body)
                payload = json.dumps({"message": error_type} if error_type else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                self._serve("POST")

            def do_GET(self) -> None:
                self._serve("GET")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
