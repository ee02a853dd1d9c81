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
  A reply over 128 KB cannot be delivered: the caller gets `{"message": "Internal server error", ...}` instead.
  A failure of the gateway's own code on a frame is answered the same way, never dropped silently.
- `$disconnect` runs (best-effort, once) when a socket closes for any reason.
- `POST|GET|DELETE /@connections/{id}`: the Management API the handlers' boto3 client calls; 410 GoneException
  for a connection that is unknown or closing, or whose authorizer or `$connect` is still running (a dropped push
  to such a connection is logged: that is when pushes get lost on AWS too). `open_delay_seconds` widens that
  window, as API Gateway's latency and cold starts do.
- Limits: a data frame over 32 KB or a message over 128 KB closes the connection with 1009; a binary frame with
  1003; 10 minutes without a data frame in either direction (pings do not count) or 2 hours after connecting,
  1001. A `@connections` payload over 128 KB is refused with 413 PayloadTooLargeException.
- Fairness: at most `max_frames_in_flight_per_user` frames of one user (all their connections) are handled at
  once; past it the gateway stops reading that user's sockets. On AWS every invocation has its own execution
  environment, so one user's flood never queues another user's frames: here they share one thread pool.
- A WebSocket upgrade on any other path is a 404 (API Gateway serves a WebSocket API on its stage URL only).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Handler, Middleware

from chat.protocol import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES
from chat.routes import AUTHORIZER_FUNCTION, ROUTES, TOKEN_QUERY_PARAMETER
from local.console import FrameLog
from local.events import (
    ConnectionInfo,
    RawBody,
    authorizer_context,
    authorizer_event,
    connect_event,
    disconnect_event,
    message_event,
    method_arn,
    new_request_id,
)
from local.frame_guard import GuardedWebSocketResponse
from local.functions import FunctionRunner, Invocation

log = logging.getLogger("local.gateway")

ABNORMAL_CLOSURE = 1006
CONNECTIONS_PATH = "/@connections/"
CONTEXT_VALUE_TYPES = (str, int, float, bool)


@dataclass(frozen=True)
class GatewayLimits:
    max_frame_bytes: int = MAX_FRAME_BYTES
    max_message_bytes: int = MAX_MESSAGE_BYTES
    idle_timeout_seconds: float = 600.0
    max_lifetime_seconds: float = 7200.0
    # Frames of one user (all their connections) being handled at once; past it the gateway stops reading that
    # user's sockets, so that a flood queues only its sender's frames (see StackOptions.handler_workers).
    max_frames_in_flight_per_user: int = 16
    close_timeout_seconds: float = 5.0
    # Extra time between `$connect` answering 200 and the socket opening (API Gateway's latency, cold starts):
    # pushes to the connection meanwhile answer 410, as on AWS. Widens the race for tests; 0 adds nothing.
    open_delay_seconds: float = 0.0


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
        self.principal_id = str(authorizer.get("principalId", ""))
        self.user = user_label(authorizer)
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


def user_label(authorizer: Mapping[str, Any]) -> str:
    """The console's name for a connection's user: the authorizer's `userName`, else the start of `principalId`.

    Cognito access tokens carry no display name, only `sub` and a `username` that is a UUID as well: a name that
    is empty or just the principal is shortened to something a person can tell apart in the log.
    """
    principal = str(authorizer.get("principalId") or "-")
    name = str(authorizer.get("userName") or "")
    return name if name and name != principal else principal[:8]


class UserFrameCap:
    """At most `limit` frames of one user in flight at once, across all their connections."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._holders: Counter[str] = Counter()  # frames waiting for or holding a slot, per user

    async def acquire(self, user: str) -> None:
        semaphore = self._semaphores.setdefault(user, asyncio.Semaphore(self._limit))
        self._holders[user] += 1
        try:
            await semaphore.acquire()
        except BaseException:
            self._forget(user)
            raise

    def release(self, user: str) -> None:
        self._semaphores[user].release()
        self._forget(user)

    def _forget(self, user: str) -> None:
        self._holders[user] -= 1
        if not self._holders[user]:  # nobody waits or holds a slot: the user's state can go
            del self._holders[user], self._semaphores[user]


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


def _json_field(text: str, name: str) -> str | None:
    """A top-level string field of a JSON object, or None: for anything else, including JSON nested too deep for
    Python's parser (`[[[[...` 1,000 deep raises RecursionError, not ValueError)."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def select_route(body: str, routes: Mapping[str, str]) -> str:
    """`$request.body.action` when it names a message route, else `$default`."""
    action = _json_field(body, "action")
    if action is not None and action in routes and not action.startswith("$"):
        return action
    return "$default"


def frame_type(payload: str) -> str:
    """The `type` of a server frame, for the log (never its content)."""
    return _json_field(payload, "type") or "raw"


def integration_error(message: str, connection_id: str, request_id: str) -> str:
    """What API Gateway sends the caller instead of a route response it could not get or deliver."""
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})


def websocket_paths_only(path: str) -> Middleware:
    """A middleware that answers a WebSocket upgrade on any path but `path` with 404 (not the web client's 200)."""

    @web.middleware
    async def refuse_upgrades_elsewhere(request: web.Request, handler: Handler) -> web.StreamResponse:
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if upgrade and request.path != path:
            message = f"No WebSocket endpoint at {request.path}: connect to {path}"
            return web.json_response({"message": message}, status=404)
        return await handler(request)

    return refuse_upgrades_elsewhere


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
        # Connections whose authorizer or $connect is still running (or waiting out the open delay): user label.
        self._connecting: dict[str, str] = {}
        self._frame_cap = UserFrameCap(self.limits.max_frames_in_flight_per_user)
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
        started = time.perf_counter()
        self._connecting[info.connection_id] = "-"
        try:
            opened = await self._handshake(request, ws, info, started)
        finally:
            self._connecting.pop(info.connection_id, None)
        if not isinstance(opened, Connection):
            return opened
        conn = opened
        self._connections[conn.id] = conn  # no await since it left `_connecting`: never in neither
        self._log.frame("open", conn.id, conn.user, ms=(time.perf_counter() - started) * 1000)
        try:
            code, reason = await self._serve(conn)
        finally:
            self._connections.pop(conn.id, None)
        await self._disconnected(conn, code, reason)
        return ws

    async def _handshake(
        self, request: web.Request, ws: GuardedWebSocketResponse, info: ConnectionInfo, started: float
    ) -> Connection | web.Response:
        """Authorizer, `$connect`, the open delay and the upgrade: the open connection, or the refusal."""
        query = {key: request.query[key] for key in request.query}
        verdict = await self._authorize(info, query)
        if isinstance(verdict, Refusal):
            return self._refuse(info, verdict, started)
        user = user_label(verdict)
        self._connecting[info.connection_id] = user
        connected = await self._runner.invoke(self._routes["$connect"], connect_event(info, verdict, query))
        status = connected.status_code
        if status != 200:
            refusal = Refusal(status if status is not None and 400 <= status < 600 else 500, "$connect refused")
            return self._refuse(info, refusal, started, user)
        conn = Connection(info, verdict, ws)
        if self.limits.open_delay_seconds > 0:
            await asyncio.sleep(self.limits.open_delay_seconds)
        if not self._accepting:  # the stack began to stop while $connect ran
            await self._disconnected(conn, WSCloseCode.GOING_AWAY, "Going away")
            return self._refuse(info, Refusal(503, "shutting down"), started, user)
        try:
            await ws.prepare(request)
        except ConnectionError:  # the client left during $connect; aiohttp ignores this error quietly
            await self._disconnected(conn, ABNORMAL_CLOSURE, "handshake failed")
            raise
        conn.opened = time.monotonic()  # the idle and lifetime limits count from the open socket
        conn.touch()
        return conn

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
        code, reason = ABNORMAL_CLOSURE, ""
        try:
            while True:
                msg = await conn.ws.receive()
                if msg.type is WSMsgType.TEXT:
                    conn.touch()
                    received = time.perf_counter()
                    await self._frame_cap.acquire(conn.principal_id)
                    task = asyncio.create_task(self._dispatch(conn, msg.data, received))
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

    async def _dispatch(self, conn: Connection, body: str, received: float) -> None:
        """Handle one frame (its user's slot is held) and send the reply; nothing here may drop it silently."""
        request_id = new_request_id()
        try:
            reply = await self._invoke_route(conn, body, request_id)
        except Exception:  # a bug of the gateway itself: answer as API Gateway does when it fails
            log.exception("the gateway failed on a frame of %s", conn.id)
            self._log.frame("error", conn.id, conn.user, size=len(body.encode()), extra="gateway failed on the frame")
            reply = integration_error("Internal server error", conn.id, request_id)
        finally:
            self._frame_cap.release(conn.principal_id)
        if reply is not None:
            await self._send(conn, reply, "reply", (time.perf_counter() - received) * 1000)

    async def _invoke_route(self, conn: Connection, body: str, request_id: str) -> str | None:
        """Run the frame's route; the route response to send back, if any."""
        route = select_route(body, self._routes)
        event = message_event(conn.info, route, body, conn.authorizer, request_id)
        invocation = await self._runner.invoke(self._routes[route], event)
        if invocation.failed:
            log.error("%s failed on %s", invocation.function, route, exc_info=invocation.error)
        self._log.frame("in", conn.id, conn.user, action=route, size=len(body.encode()), ms=invocation.ms)
        if invocation.timed_out:
            return integration_error("Endpoint request timed out", conn.id, request_id)
        if invocation.failed:
            return integration_error("Internal server error", conn.id, request_id)
        result = invocation.result
        body_out = result.get("body") if isinstance(result, dict) else None
        if not isinstance(body_out, str) or not body_out:
            return None
        size = len(body_out.encode())
        if size > self.limits.max_message_bytes:  # API Gateway cannot send it: the caller gets an error instead
            limit_kb = self.limits.max_message_bytes // 1024
            self._log.frame(
                "limit",
                conn.id,
                conn.user,
                frame_type=frame_type(body_out),
                size=size,
                extra=f"reply over {limit_kb} KB not sent",
            )
            return integration_error("Internal server error", conn.id, request_id)
        return body_out

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
        connection_id = request.match_info["connection_id"]
        if self._open_connection(connection_id) is None:  # read the body only for the log
            data = await request.read() if connection_id in self._connecting else b""
            await self._log_dropped_push(connection_id, data)
            return _gone()
        return await self.post_to_connection(connection_id, await request.read())

    async def _get_connection(self, request: web.Request) -> web.Response:
        return self.get_connection(request.match_info["connection_id"])

    async def _delete_connection(self, request: web.Request) -> web.Response:
        return self.delete_connection(request.match_info["connection_id"])

    async def post_to_connection(self, connection_id: str, data: bytes) -> web.Response:
        """PostToConnection, over HTTP or in process (`ManagementApiInProcess`): the same checks, the same answer."""
        conn = self._open_connection(connection_id)
        if conn is None:
            await self._log_dropped_push(connection_id, data)
            return _gone()
        if len(data) > self.limits.max_message_bytes:
            return _management_error(413, "PayloadTooLargeException", "Message too long")
        try:
            payload = data.decode("utf-8")
        except UnicodeDecodeError:
            return _management_error(400, "BadRequestException", "Data must be UTF-8 text")
        if not await self._send(conn, payload, "push"):
            return _gone()
        return web.Response(status=200)

    def get_connection(self, connection_id: str) -> web.Response:
        conn = self._open_connection(connection_id)
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

    def delete_connection(self, connection_id: str) -> web.Response:
        conn = self._open_connection(connection_id)
        if conn is None:
            return _gone()
        self._log.frame("delete", conn.id, conn.user)
        conn.request_close(WSCloseCode.OK, "")
        return web.Response(status=204)

    async def _log_dropped_push(self, connection_id: str, data: bytes) -> None:
        """A push to a connection that is not open yet is lost, on AWS too: say so (the client catches up)."""
        user = self._connecting.get(connection_id)
        if user is None:
            return
        self._log.frame(
            "drop",
            connection_id,
            user,
            frame_type=frame_type(data.decode("utf-8", errors="replace")),
            size=len(data),
            extra="410: $connect still running",
        )

    def _open_connection(self, connection_id: str) -> Connection | None:
        conn = self._connections.get(connection_id)
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


class ManagementApiInProcess:
    """The handlers' `@connections` calls answered without HTTP, by the very code that answers them over HTTP.

    A botocore `before-send` hook (on boto3's default session, so on every Management API client made after
    `install()`) takes a request for this gateway's `@connections`, runs `post_to_connection`, `get_connection` or
    `delete_connection` on the gateway's event loop, and hands botocore back that response's status, headers and
    body. botocore still validates, serializes and signs each call, as on Lambda; what goes is urllib3, the
    loopback socket and aiohttp's HTTP parsing, ~1 ms of CPU per push that AWS spends on its own servers. Calls
    from the loop's own thread, and for any other endpoint, go over HTTP as before.
    """

    def __init__(self, gateway: WebSocketGateway, base_url: str, timeout_seconds: float = 10.0) -> None:
        self._gateway = gateway
        self._prefix = base_url.rstrip("/") + CONNECTIONS_PATH
        self._loop = asyncio.get_running_loop()
        self._timeout = timeout_seconds
        self._hook_id = f"management-api-in-process-{id(self)}"

    def install(self) -> None:
        import boto3

        events = boto3._get_default_session().events
        events.register("before-send.apigatewaymanagementapi", self._dispatch, unique_id=self._hook_id)

    def uninstall(self) -> None:
        import boto3

        events = boto3._get_default_session().events
        events.unregister("before-send.apigatewaymanagementapi", unique_id=self._hook_id)

    def _dispatch(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

        if not request.url.startswith(self._prefix) or self._on_loop_thread():
            return None
        connection_id = unquote(urlsplit(request.url).path[len(CONNECTIONS_PATH) :])
        body = request.body or b""
        data = body.encode() if isinstance(body, str) else bytes(body)
        try:
            future = asyncio.run_coroutine_threadsafe(self._call(request.method, connection_id, data), self._loop)
        except RuntimeError as exc:  # the loop is closed: the stack has stopped
            raise EndpointConnectionError(endpoint_url=request.url) from exc
        try:
            response = future.result(self._timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise ReadTimeoutError(endpoint_url=request.url) from exc
        body_out = response.body if isinstance(response.body, bytes) else b""  # the gateway answers bytes or nothing
        headers: Any = dict(response.headers)
        return AWSResponse(request.url, response.status, headers, RawBody(body_out))

    def _on_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    async def _call(self, method: str, connection_id: str, data: bytes) -> web.Response:
        gateway = self._gateway
        if method == "POST":
            response = await gateway.post_to_connection(connection_id, data)
        elif method == "GET":
            response = gateway.get_connection(connection_id)
        elif method == "DELETE":
            response = gateway.delete_connection(connection_id)
        else:
            response = web.json_response({"message": "Method Not Allowed"}, status=405)
        return response


def _gone() -> web.Response:
    return _management_error(410, "GoneException", "Gone")


def _management_error(status: int, error_type: str, message: str) -> web.Response:
    """An error as the Management API sends it (restJson1): botocore reads the code from x-amzn-ErrorType."""
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
