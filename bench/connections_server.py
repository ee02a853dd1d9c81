"""The stand-in Management API (tests/support/connections_api.py) in a process of its own, for timing fan-out.

In the bench's own process its request handling would share the GIL with the posting threads it is timing, as a
real API Gateway does not. Prints its URL, then answers each line on stdin: `stats` with the total of POSTs and
the `time.monotonic()` of the latest (system-wide on Linux, so comparable with the parent's), `stop` by exiting.

    python bench/connections_server.py DELAY_SECONDS
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class ConnectionsServer:
    """The parent's handle on the child process."""

    def __init__(self, delay_seconds: float) -> None:
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(delay_seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()

    def stats(self) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write("stats\n")
        self._process.stdin.flush()
        return dict(json.loads(self._process.stdout.readline()))

    def posts(self) -> int:
        return int(self.stats()["posts"])

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write("stop\n")
        self._process.stdin.flush()
        self._process.wait(timeout=10)


def serve(delay_seconds: float) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.support.connections_api import ConnectionsApi

    api = ConnectionsApi(delay_seconds=delay_seconds).start()
    print(api.url, flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps({"posts": sum(api.posts.values()), "last_post_at": api.last_post_at}), flush=True)
        else:
            break
    api.stop()


if __name__ == "__main__":
    serve(float(sys.argv[1]))
