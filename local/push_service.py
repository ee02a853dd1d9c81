"""A stand-in push service on the local stack (what FCM, Mozilla's or Apple's Web Push services are to browsers).

Subscriptions registered with an endpoint under `https://push.local.test/` are delivered here: the notifier's
Web Push sender rewrites that origin to this route (PUSH_ENDPOINT_REWRITE), so subscriptions stay https-only, as
on AWS. Each POST (encrypted: aes128gcm, VAPID-signed) is kept per device, and `GET /push-service/{device}` lists
them for tests (headers, and the body in base64). A device whose name starts with `gone-` answers 410 Gone, as a
push service does for a subscription the browser dropped.
"""

from __future__ import annotations

import base64

from aiohttp import web

LOCAL_PUSH_ORIGIN = "https://push.local.test/"
ROUTE = "/push-service/"

DELIVERIES = web.AppKey("push_deliveries", dict[str, list[dict[str, object]]])


def add_push_service(app: web.Application) -> None:
    app[DELIVERIES] = {}

    async def deliver(request: web.Request) -> web.Response:
        device = request.match_info["device"]
        if device.startswith("gone-"):
            return web.Response(status=410)
        body = await request.read()
        request.app[DELIVERIES].setdefault(device, []).append(
            {"headers": dict(request.headers), "body": base64.b64encode(body).decode()}
        )
        return web.Response(status=201)

    async def deliveries(request: web.Request) -> web.Response:
        return web.json_response(request.app[DELIVERIES].get(request.match_info["device"], []))

    app.router.add_post(ROUTE + "{device}", deliver)
    app.router.add_get(ROUTE + "{device}", deliveries)
