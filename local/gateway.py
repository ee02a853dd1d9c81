"""The WebSocket gateway: API Gateway's WebSocket API, on an aiohttp app, in front of the very same handlers.

What it does as API Gateway does:

- `GET /ws?token=...`: no token, 401 without calling anyone (the authorizer's identity source is missing); else the
  REQUEST authorizer, then `$connect`, both before the upgrade is accepted. `Exception("Unauthorized")` is 401, a
  policy that does not allow `execute-api:Invoke` on the method ARN is 403, an authorizer failure 500; `$connect`
  answering anything but 200 refuses the upgrade with that status.
- Each text frame goes to the route named by `$request.body.action`, or `$default`, with the authorizer context
  in `requestContext.authorizer`; the handler's `body` is sent back to the caller (two-way routes). A handler that
  raises gives the caller `{"message": "Internal server error", ...}`, one that runs past 29 s
  `{"message": "Endpoint request timed out", ...}`. Frames are dispatched concurrently, as Lambda would run them.
- `$disconnect` runs (best-effort, once) when a socket closes for any reason.
- `POST|GET|DELETE /@connections/{id}`: the Management API the handlers' boto3 client calls; 410 GoneException
  for a connection that is unknown or closing (including one whose `$connect` is still running).
- Limits: a data frame over 32 KB or a message over 128 KB closes the connection with 1009; a binary frame with
  1003; 10 minutes without a data frame in either direction (pings do not count) or 2 hours after connecting,
  1001. A `@connections` payload over 128 KB is refused with 413 PayloadTooLargeException.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from http import HTTPStatus
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from chat.protocol import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES
from chat.routes import AUTHORIZER_FUNCTION, ROUTES, TOKEN_QUERY_PARAMETER
from local.console import FrameLog
from local.events import (
    ConnectionInfo,
    authorizer_context,
    authorizer_event,
    connect_event,
    disconnect_event,
    message_event,
    method_arn,
)
from local.frame_guard import GuardedWebSocketResponse
from local.functions import FunctionRunner, Invocation

log = logging.getLogger("local.gateway")

ABNORMAL_CLOSURE = 1006
CONTEXT_VALUE_TYPES = (str, int, float, bool)


@dataclass(frozen=True)
class GatewayLimits:
    max_frame_bytes: int = MAX_FRAME_BYTES
    max_message_bytes: int = MAX_MESSAGE_BYTES
    idle_timeout_seconds: float = 600.0
    max_lifetime_seconds: float = 7200.0
    # Frames of one connection being handled at once; past it the gateway stops reading that socket.
    max_frames_in_flight: int = 16
    close_timeout_seconds: float = 5.0


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str

    def response(self) -> web.Response:
        phrase = HTTPStatus(self.status).phrase if self.status in HTTPStatus._value2member_map_ else "Error"
        return web.json_response({"message": phrase}, status=self.status)


class Connection:
    """One open socket: who is on it, when it was last active, and how it is being closed."""

    def __init__(self, info: ConnectionInfo, authorizer: dict[str, Any], ws: web.WebSocketResponse) -> None:
        self.info = info
        self.authorizer = authorizer
        self.user = str(authorizer.get("userName") or authorizer.get("principalId") or "-")
        self.ws = ws
        self.opened = time.monotonic()
        self.last_active = self.opened
        self.last_active_at = datetime.now(UTC)
        self.close_task: asyncio.Task[bool] | None = None
        self.close_code: int | None = None
        self.close_reason = ""

    @property
    def id(self) -> str:
        return self.info.connection_id

    @property
    def open(self) -> bool:
        return self.close_task is None and not self.ws.closed

    def touch(self) -> None:
        self.last_active = time.monotonic()
        self.last_active_at = datetime.now(UTC)

    def request_close(self, code: int, reason: str) -> None:
        """Start the closing handshake in its own task, so that no caller's cancellation can cut it short."""
        if self.open:
            self.close_code, self.close_reason = code, reason
            self.close_task = asyncio.create_task(self.ws.close(code=code, message=reason.encode()[:123]))


def policy_allows(policy_document: Any, resource: str) -> bool:
    """IAM evaluation, reduced to what an authorizer policy holds: an explicit Deny wins, else any Allow."""
    statements = policy_document.get("Statement") if isinstance(policy_document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict):
            continue
        actions, resources = _as_list(statement.get("Action")), _as_list(statement.get("Resource"))
        if not any(fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if not any(fnmatchcase(resource, r) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


def authorization(invocation: Invocation, resource: str) -> Refusal | dict[str, Any]:
    """The authorizer's verdict: the context for every later event of the connection, or the refusal."""
    if invocation.error is not None and str(invocation.error) == "Unauthorized":
        return Refusal(401, "unauthorized")
    if invocation.failed:
        return Refusal(500, "authorizer failed")
    policy = invocation.result
    if not isinstance(policy, dict) or not isinstance(policy.get("principalId"), str):
        return Refusal(500, "authorizer returned no principalId")
    if not policy_allows(policy.get("policyDocument"), resource):
        return Refusal(403, "policy denies")
    context = policy.get("context") or {}
    if not isinstance(context, dict) or not all(isinstance(v, CONTEXT_VALUE_TYPES) for v in context.values()):
        return Refusal(500, "authorizer context must map names to strings, numbers or booleans")
    return authorizer_context(context, policy["principalId"])


def select_route(body: str, routes: Mapping[str, str]) -> str:
    """`$request.body.action` when it names a message route, else `$default`."""
    try:
        frame = json.loads(body)
    except ValueError:
        return "$default"
    action = frame.get("action") if isinstance(frame, dict) else None
    if isinstance(action, str) and action in routes and not action.startswith("$"):
        return action
    return "$default"


def frame_type(payload: str) -> str:
    """The `type` of a server frame, for the log (never its content)."""
    try:
        frame = json.loads(payload)
    except ValueError:
        return "raw"
    kind = frame.get("type") if isinstance(frame, dict) else None
    return kind if isinstance(kind, str) else "raw"


class WebSocketGateway:
    def __init__(
        self,
        runner: FunctionRunner,
        *,
        limits: GatewayLimits | None = None,
        frame_log: FrameLog | None = None,
        routes: Mapping[str, str] = ROUTES,
        authorizer_function: str = AUTHORIZER_FUNCTION,
    ) -> None:
        self._runner = runner
        self.limits = limits or GatewayLimits()
        self._log = frame_log or FrameLog()
        self._routes = dict(routes)
        self._authorizer = authorizer_function
        self._connections: dict[str, Connection] = {}
        self._sessions: set[asyncio.Task[Any]] = set()
        self._dispatches: set[asyncio.Task[None]] = set()
        self._accepting = True

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def add_routes(self, app: web.Application, path: str = "/ws") -> None:
        app.router.add_get(path, self._upgrade)
        # botocore percent-encodes the id; API Gateway ids may hold "/" and "+" (base64), so match any path.
        connection = app.router.add_resource("/@connections/{connection_id:.+}")
        connection.add_route("POST", self._post_to_connection)
        connection.add_route("GET", self._get_connection)
        connection.add_route("DELETE", self._delete_connection)

    # ------------------------------------------------------------------------------------------- connections

    async def _upgrade(self, request: web.Request) -> web.StreamResponse:
        ws = GuardedWebSocketResponse(
            max_frame_bytes=self.limits.max_frame_bytes,
            max_msg_size=self.limits.max_message_bytes,
            compress=False,  # API Gateway negotiates no permessage-deflate: frame sizes are payload sizes
            autoping=True,
        )
        if not ws.can_prepare(request).ok:
            return web.json_response({"message": "Expected a WebSocket upgrade"}, status=426)
        if not self._accepting:
            return Refusal(503, "shutting down").response()
        session = asyncio.current_task()
        assert session is not None
        self._sessions.add(session)  # from here on, shutdown waits for this connection and its $disconnect
        try:
            return await self._open(request, ws)
        finally:
            self._sessions.discard(session)

    async def _open(self, request: web.Request, ws: GuardedWebSocketResponse) -> web.StreamResponse:
        info = ConnectionInfo(
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            domain_name=request.url.host or "127.0.0.1",
        )
        query = {key: request.query[key] for key in request.query}
        started = time.perf_counter()
        verdict = await self._authorize(info, query)
        if isinstance(verdict, Refusal):
            return self._refuse(info, verdict, started)
        user = str(verdict.get("userName") or verdict.get("principalId"))
        connected = await self._runner.invoke(self._routes["$connect"], connect_event(info, verdict, query))
        status = connected.status_code
        if status != 200:
            refusal = Refusal(status if status is not None and 400 <= status < 600 else 500, "$connect refused")
            return self._refuse(info, refusal, started, user)
        conn = Connection(info, verdict, ws)
        if not self._accepting:  # the stack began to stop while $connect ran
            await self._disconnected(conn, WSCloseCode.GOING_AWAY, "Going away")
            return self._refuse(info, Refusal(503, "shutting down"), started, user)
        try:
            await ws.prepare(request)
        except ConnectionError:  # the client left during $connect; aiohttp ignores this error quietly
            await self._disconnected(conn, ABNORMAL_CLOSURE, "handshake failed")
            raise
        self._connections[conn.id] = conn
        self._log.frame("open", conn.id, conn.user, ms=(time.perf_counter() - started) * 1000)
        try:
            code, reason = await self._serve(conn)
        finally:
            self._connections.pop(conn.id, None)
        await self._disconnected(conn, code, reason)
        return ws

    async def _authorize(self, info: ConnectionInfo, query: dict[str, str]) -> Refusal | dict[str, Any]:
        if not query.get(TOKEN_QUERY_PARAMETER):
            return Refusal(401, "no token")
        invocation = await self._runner.invoke(self._authorizer, authorizer_event(info, query))
        if invocation.failed and str(invocation.error) != "Unauthorized":
            log.error("authorizer failed", exc_info=invocation.error)
        return authorization(invocation, method_arn(info))

    def _refuse(self, info: ConnectionInfo, refusal: Refusal, started: float, user: str = "-") -> web.Response:
        ms = (time.perf_counter() - started) * 1000
        self._log.frame("refuse", info.connection_id, user, ms=ms, extra=f"status={refusal.status} {refusal.reason}")
        return refusal.response()

    async def _serve(self, conn: Connection) -> tuple[int, str]:
        """Read frames until the socket closes; the close code and reason for `$disconnect`."""
        watchdog = asyncio.create_task(self._enforce_time_limits(conn))
        in_flight = asyncio.Semaphore(self.limits.max_frames_in_flight)
        code, reason = ABNORMAL_CLOSURE, ""
        try:
            while True:
                msg = await conn.ws.receive()
                if msg.type is WSMsgType.TEXT:
                    conn.touch()
                    await in_flight.acquire()
                    task = asyncio.create_task(self._dispatch(conn, msg.data, time.perf_counter(), in_flight))
                    self._dispatches.add(task)
                    task.add_done_callback(self._dispatches.discard)
                    continue
                if msg.type is WSMsgType.BINARY:
                    conn.request_close(WSCloseCode.UNSUPPORTED_DATA, "Binary frames are not supported")
                elif msg.type is WSMsgType.CLOSE:
                    code, reason = int(msg.data), str(msg.extra or "")
                elif msg.type is WSMsgType.ERROR:  # aiohttp has sent the close frame (1009: too big)
                    code = getattr(msg.data, "code", None) or conn.ws.close_code or ABNORMAL_CLOSURE
                    reason = str(msg.data)
                    self._log.frame("limit", conn.id, conn.user, extra=f"code={code} {reason}")
                break
        finally:
            watchdog.cancel()
            if conn.close_task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(conn.close_task), self.limits.close_timeout_seconds)
        if conn.close_code is not None:
            code, reason = conn.close_code, conn.close_reason
        return code, reason

    async def _enforce_time_limits(self, conn: Connection) -> None:
        while conn.open:
            now = time.monotonic()
            ends_at = conn.opened + self.limits.max_lifetime_seconds
            idles_at = conn.last_active + self.limits.idle_timeout_seconds
            if now >= ends_at:
                self._log.frame("limit", conn.id, conn.user, extra="connection lifetime reached")
                conn.request_close(WSCloseCode.GOING_AWAY, "Connection lifetime exceeded")
            elif now >= idles_at:
                self._log.frame("limit", conn.id, conn.user, extra="idle timeout")
                conn.request_close(WSCloseCode.GOING_AWAY, "Idle timeout")
            else:
                await asyncio.sleep(min(ends_at, idles_at) - now)

    async def _disconnected(self, conn: Connection, code: int, reason: str) -> None:
        event = disconnect_event(conn.info, conn.authorizer, code, reason)
        invocation = await self._runner.invoke(self._routes["$disconnect"], event)
        if invocation.failed:
            log.error("$disconnect failed", exc_info=invocation.error)
        lived = time.monotonic() - conn.opened
        self._log.frame(
            "close", conn.id, conn.user, ms=invocation.ms, extra=f"code={code} lived={lived:.1f}s {reason}".rstrip()
        )

    # ------------------------------------------------------------------------------------------- frames

    async def _dispatch(self, conn: Connection, body: str, received: float, in_flight: asyncio.Semaphore) -> None:
        try:
            route = select_route(body, self._routes)
            event = message_event(conn.info, route, body, conn.authorizer)
            invocation = await self._runner.invoke(self._routes[route], event)
        finally:
            in_flight.release()
        size = len(body.encode())
        if invocation.failed:
            log.error("%s failed on %s", invocation.function, route, exc_info=invocation.error)
        self._log.frame("in", conn.id, conn.user, action=route, size=size, ms=invocation.ms)
        reply = self._route_response(invocation, event["requestContext"])
        if reply is not None:
            await self._send(conn, reply, "reply", (time.perf_counter() - received) * 1000)

    @staticmethod
    def _route_response(invocation: Invocation, request_context: dict[str, Any]) -> str | None:
        ids = {"connectionId": request_context["connectionId"], "requestId": request_context["requestId"]}
        if invocation.timed_out:
            return json.dumps({"message": "Endpoint request timed out", **ids})
        if invocation.failed:
            return json.dumps({"message": "Internal server error", **ids})
        result = invocation.result
        body = result.get("body") if isinstance(result, dict) else None
        return body if isinstance(body, str) and body else None

    async def _send(self, conn: Connection, payload: str, direction: str, ms: float | None = None) -> bool:
        if not conn.open:
            return False
        try:
            await conn.ws.send_str(payload)
        except (ConnectionError, RuntimeError):
            return False
        conn.touch()
        self._log.frame(
            direction, conn.id, conn.user, frame_type=frame_type(payload), size=len(payload.encode()), ms=ms
        )
        return True

    # ------------------------------------------------------------------------------------------- @connections

    async def _post_to_connection(self, request: web.Request) -> web.Response:
        conn = self._open_connection(request)
        if conn is None:
            return _gone()
        data = await request.read()
        if len(data) > self.limits.max_message_bytes:
            return _management_error(413, "PayloadTooLargeException", "Message too long")
        try:
            payload = data.decode("utf-8")
        except UnicodeDecodeError:
            return _management_error(400, "BadRequestException", "Data must be UTF-8 text")
        if not await self._send(conn, payload, "push"):
            return _gone()
        return web.Response(status=200)

    async def _get_connection(self, request: web.Request) -> web.Response:
        conn = self._open_connection(request)
        if conn is None:
            return _gone()
        connected_at = datetime.fromtimestamp(conn.info.connected_at_ms / 1000, UTC)
        return web.json_response(
            {
                "connectedAt": _iso(connected_at),
                "identity": {"sourceIp": conn.info.source_ip, "userAgent": conn.info.user_agent},
                "lastActiveAt": _iso(conn.last_active_at),
            }
        )

    async def _delete_connection(self, request: web.Request) -> web.Response:
        conn = self._open_connection(request)
        if conn is None:
            return _gone()
        self._log.frame("delete", conn.id, conn.user)
        conn.request_close(WSCloseCode.OK, "")
        return web.Response(status=204)

    def _open_connection(self, request: web.Request) -> Connection | None:
        conn = self._connections.get(request.match_info["connection_id"])
        return conn if conn is not None and conn.open else None

    # ------------------------------------------------------------------------------------------- shutdown

    async def shutdown(self, timeout: float = 15.0) -> None:
        """Refuse new connections, close every socket (each runs `$disconnect`), wait for handlers in flight."""
        self._accepting = False
        for conn in list(self._connections.values()):
            conn.request_close(WSCloseCode.GOING_AWAY, "Going away")
        pending = {*self._sessions, *self._dispatches}
        if pending:
            _, late = await asyncio.wait(pending, timeout=timeout)
            if late:
                log.warning("%d connection(s) or frame(s) still running at shutdown", len(late))


def _gone() -> web.Response:
    return _management_error(410, "GoneException", "Gone")


def _management_error(status: int, error_type: str, message: str) -> web.Response:
    """An error as the Management API sends it (restJson1): botocore reads the code from x-amzn-ErrorType."""
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
