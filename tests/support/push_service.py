"""A stand-in Web Push service (what FCM, Mozilla's autopush or Apple's service do for browsers): it takes the
encrypted POSTs of `chat.webpush.WebPushSender`, keeps them per endpoint for tests to read, and answers 201, or
410 for endpoints under /gone/ (a subscription the browser dropped). Bound to 127.0.0.1 on a free port."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


class PushServiceStandIn:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        lock = threading.Lock()
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                gone = self.path.startswith("/gone/")
                if not gone:
                    with lock:
                        deliveries.append(Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(410 if gone else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> PushServiceStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def to(self, path: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.path == path]
