"""The built web client (`web/dist`) at `/`, and its settings at `/config.json`, served as CloudFront serves them.

    GET /config.json -> {"websocketUrl": "ws://127.0.0.1:8080/ws",
                         "auth": {"mode": "dev", "tokenUrl": "/auth/token", "refreshUrl": "/auth/refresh"}}

On AWS the same document is written next to the client in its S3 bucket, with `"mode": "cognito"` settings.

- `index.html`, `config.json`, the service worker `sw.js` and the other files outside `assets/`:
  `Cache-Control: no-cache`; `assets/*` (named after their content):
  `public, max-age=31536000, immutable`.
- A GET for a path that is no file, from a browser that accepts HTML, gets index.html (the app routes it).
  Anything else missing is a 404: a missing script must not come back as HTML. CloudFront answers every missing
  path with index.html; this is stricter.
- Every answer carries the CloudFront stack's security headers (`infra/web_headers.py`), with the local
  WebSocket's origin in `connect-src`: a script, style or connection the policy would block on AWS is blocked here.
- Without `web/dist`, a page that says how to build it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from infra.web_headers import ASSET_CACHE_CONTROL, ASSETS_PREFIX, SHELL_CACHE_CONTROL, security_headers

PLACEHOLDER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chat: web client not built</title></head>
<body><main><h1>The web client is not built</h1>
<p>Build it with <code>make web</code> (Node 20.19+ and npm needed; <code>make dev</code> builds it too), then
reload this page.</p>
<p>Meanwhile the stack runs: chat from a terminal as the README shows. The client's settings:
<a href="/config.json">config.json</a>.</p></main></body>
</html>
"""


def client_config(websocket_url: str) -> dict[str, Any]:
    return {
        "websocketUrl": websocket_url,
        "auth": {"mode": "dev", "tokenUrl": "/auth/token", "refreshUrl": "/auth/refresh"},
    }


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def add_web_client(app: web.Application, dist: Path, websocket_url: str) -> None:
    """Register last: it answers every GET path no other route took."""
    config = client_config(websocket_url)
    headers = security_headers([origin_of(websocket_url)])

    async def serve(request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if path == "config.json":
            return web.json_response(config, headers={**headers, "Cache-Control": SHELL_CACHE_CONTROL})
        file = _file_in(dist, path or "index.html")
        if file is not None:
            cache = ASSET_CACHE_CONTROL if path.startswith(ASSETS_PREFIX) else SHELL_CACHE_CONTROL
            return web.FileResponse(file, headers={**headers, "Cache-Control": cache})
        if path and (path.startswith(ASSETS_PREFIX) or "text/html" not in request.headers.get("Accept", "")):
            return web.Response(status=404, text="Not found", headers=headers)
        index = dist / "index.html"
        if index.is_file():
            return web.FileResponse(index, headers={**headers, "Cache-Control": SHELL_CACHE_CONTROL})
        return web.Response(
            text=PLACEHOLDER_PAGE,
            content_type="text/html",
            headers={**headers, "Cache-Control": SHELL_CACHE_CONTROL},
        )

    app.router.add_get("/{path:.*}", serve)


def _file_in(dist: Path, path: str) -> Path | None:
    """The file `path` names inside `dist`, or None: nothing hidden (stamps, dotfiles) and nothing outside."""
    if any(part.startswith(".") or not part for part in path.split("/")):
        return None
    root = dist.resolve()
    file = (root / path).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        return None
    return file
