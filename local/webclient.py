"""The web client (`web/`) at `/`, and its settings at `/config.json`.

    GET /config.json -> {"websocketUrl": "ws://127.0.0.1:8080/ws",
                         "auth": {"mode": "dev", "tokenUrl": "/auth/token", "refreshUrl": "/auth/refresh"}}

On AWS the same document is written next to the client in its S3 bucket, with `"mode": "cognito"` settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

PLACEHOLDER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chat</title></head>
<body><h1>Chat</h1><p>The web client is coming. Its settings: <a href="config.json">config.json</a>.</p></body>
</html>
"""


def client_config(websocket_url: str) -> dict[str, Any]:
    return {
        "websocketUrl": websocket_url,
        "auth": {"mode": "dev", "tokenUrl": "/auth/token", "refreshUrl": "/auth/refresh"},
    }


def add_web_client(app: web.Application, web_dir: Path, websocket_url: str) -> None:
    """Register last: the static files answer every GET path no other route took."""
    config = client_config(websocket_url)

    async def config_json(request: web.Request) -> web.Response:
        return web.json_response(config, headers={"Cache-Control": "no-store"})

    async def index(request: web.Request) -> web.StreamResponse:
        page = web_dir / "index.html"
        if page.is_file():
            return web.FileResponse(page, headers={"Cache-Control": "no-cache"})
        return web.Response(text=PLACEHOLDER_PAGE, content_type="text/html")

    app.router.add_get("/config.json", config_json)
    app.router.add_get("/", index)
    if web_dir.is_dir():
        app.router.add_static("/", web_dir, follow_symlinks=False)
