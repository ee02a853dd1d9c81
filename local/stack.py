"""The whole local stack on one port of 127.0.0.1: gateway, `@connections`, identity provider, web client, and an
embedded DynamoDB (and SQS: the fan-out queue, with a poller in place of Lambda's event source mapping) on a
second, internal port.

    async with LocalStack(StackOptions(port=0)) as stack:
        print(stack.url)

With `handlers=None` (the product) it sets the handlers' environment (`chat.settings`) in `os.environ` and loads
`functions/*/handler.py`; their settings and clients are cached per process, so run one such stack per process
(`python -m local`). Tests of the gateway pass their own handlers and need neither the environment nor DynamoDB.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from chat.notifications import NOTIFY_BATCH_SIZE, NOTIFY_BATCHING_WINDOW_SECONDS, NOTIFY_RETRY_ATTEMPTS
from chat.routes import FANOUT_FUNCTION, FUNCTIONS, NOTIFY_FUNCTION
from chat.settings import Settings, load_settings
from chat.tables import TABLES
from local.console import FrameLog
from local.dynamodb import EmbeddedDynamoDB
from local.events import REGION
from local.functions import FunctionRunner, LambdaHandler, load_handlers
from local.gateway import GatewayLimits, ManagementApiInProcess, WebSocketGateway, websocket_paths_only
from local.identity import DevIdentityProvider
from local.paths import WEB_DIST
from local.push_service import LOCAL_PUSH_ORIGIN, add_push_service
from local.push_service import ROUTE as PUSH_SERVICE_ROUTE
from local.queue_poller import FanoutQueues, QueuePoller, create_fanout_queues
from local.stream_poller import StreamPoller
from local.webclient import add_web_client

log = logging.getLogger("local.stack")

WEBSOCKET_PATH = "/ws"

# Credentials that would point boto3 at a real account (or fail on a missing profile) are dropped.
AWS_VARIABLES_TO_DROP = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


@dataclass(frozen=True)
class StackOptions:
    host: str = "127.0.0.1"
    port: int = 8080  # 0: any free port
    idle_timeout_seconds: float = 600.0
    max_lifetime_seconds: float = 7200.0
    access_token_seconds: int = 3600
    audience: str = "chat-local"
    table_prefix: str = "chat-local-"
    # Each frame holds a worker while its handler runs, and one user may have `frames_in_flight_per_user` frames
    # in flight across all their tabs. 128 workers leave 64 free while four users flood at their cap of 16, so a
    # flood queues its sender's frames only, as on AWS where every invocation has its own execution environment.
    # The pool starts threads on demand: a quiet stack runs few.
    handler_workers: int = 128
    frames_in_flight_per_user: int = 16
    # Extra wait between `$connect` answering 200 and the socket opening (API Gateway's latency, cold starts).
    open_delay_seconds: float = 0.0
    # Handlers' own JSON logs (Powertools); the console's per-frame lines are the readable log.
    handler_log_level: str = "WARNING"
    web_dist: Path = WEB_DIST  # the built web client (`make web`)
    # The fan-out queue (infra/fanout.py on AWS): a failed job comes back after the visibility timeout, and goes to
    # the dead-letter queue after `fanout_max_receive_count` receives, as there. Shorter than AWS's six times the
    # function's timeout, so that a retry shows within a minute while developing.
    fanout_visibility_timeout_seconds: int = 30
    fanout_max_receive_count: int = 5
    fanout_pollers: int = 2
    # The messages stream into the notifier (infra/notifications.py on AWS): a burst within the window is one batch.
    notify_batching_window_seconds: float = NOTIFY_BATCHING_WINDOW_SECONDS
    extra_environment: Mapping[str, str] = field(default_factory=dict)


def table_names(prefix: str) -> dict[str, str]:
    return {spec.name: f"{prefix}{spec.name}" for spec in TABLES}


def handler_environment(
    options: StackOptions, base_url: str, dynamodb_url: str, fanout_queue_url: str | None = None
) -> dict[str, str]:
    """Every variable `chat.settings.Settings` requires, plus what boto3 and Powertools need off AWS. The embedded
    server is DynamoDB and SQS alike."""
    names = table_names(options.table_prefix)
    environment = {spec.env_var: names[spec.name] for spec in TABLES}
    if fanout_queue_url:
        environment.update(FANOUT_QUEUE_URL=fanout_queue_url, SQS_ENDPOINT_URL=dynamodb_url)
    environment.update(
        CONNECTIONS_ENDPOINT_URL=base_url,
        DYNAMODB_ENDPOINT_URL=dynamodb_url,
        JWT_ISSUER=base_url,
        JWT_AUDIENCE=options.audience,
        JWKS_URL=f"{base_url}/.well-known/jwks.json",
        # Presence expiry follows the gateway's lifetime (the setting's floor is 60 s).
        CONNECTION_LIFETIME_SECONDS=str(max(60, math.ceil(options.max_lifetime_seconds))),
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        # A VAPID key of this run's own: `settings` hands its public half to browsers that subscribe to pushes.
        VAPID_SECRET=secrets.token_urlsafe(32),
        PUSH_ENDPOINT_REWRITE=f"{LOCAL_PUSH_ORIGIN}={base_url}{PUSH_SERVICE_ROUTE}",
        POWERTOOLS_SERVICE_NAME="chat",
        POWERTOOLS_METRICS_NAMESPACE="chat-local",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_LOG_LEVEL=options.handler_log_level,
        POWERTOOLS_METRICS_DISABLED=os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
        NO_PROXY=_no_proxy(os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""),
    )
    environment.update(options.extra_environment)
    missing = [
        name for name, required in Settings.environment_variables().items() if required and name not in environment
    ]
    if missing:
        raise RuntimeError(f"the local stack does not set {missing}")
    return environment


def _no_proxy(current: str) -> str:
    """The handlers call 127.0.0.1 (gateway, DynamoDB): never through a proxy from the developer's environment."""
    hosts = [h for h in current.split(",") if h.strip()]
    return ",".join([*hosts, *(h for h in ("127.0.0.1", "localhost") if h not in hosts)])


class LocalStack:
    def __init__(
        self,
        options: StackOptions | None = None,
        *,
        handlers: Mapping[str, LambdaHandler] | None = None,
        embedded_dynamodb: bool | None = None,
    ) -> None:
        self.options = options or StackOptions()
        self._handlers = handlers
        self._with_dynamodb = handlers is None if embedded_dynamodb is None else embedded_dynamodb
        self._dynamodb: EmbeddedDynamoDB | None = None
        self._runner: FunctionRunner | None = None
        self._poller: QueuePoller | None = None
        self._stream_poller: StreamPoller | None = None
        self.fanout_queues: FanoutQueues | None = None
        self._app_runner: web.AppRunner | None = None
        self._saved_environment: dict[str, str | None] = {}
        self._loaded_real_handlers = False
        self.gateway: WebSocketGateway | None = None
        self._management_api: ManagementApiInProcess | None = None
        self.identity: DevIdentityProvider | None = None
        self.port = 0
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.options.host}:{self.port}{WEBSOCKET_PATH}"

    async def start(self) -> str:
        started = time.perf_counter()
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        return self.url

    async def _start(self) -> None:
        options = self.options
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((options.host, options.port))
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        handlers = self._handlers
        # moto's embedded server would log every DynamoDB request.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self._with_dynamodb:
            self._dynamodb = EmbeddedDynamoDB(host=options.host)
            self._dynamodb.start()
            self._dynamodb.create_tables(table_names(options.table_prefix))
            self.fanout_queues = create_fanout_queues(
                self._dynamodb.sqs_client(REGION),
                f"{options.table_prefix}fanout",
                visibility_timeout_seconds=options.fanout_visibility_timeout_seconds,
                max_receive_count=options.fanout_max_receive_count,
            )
        if handlers is None:
            assert self._dynamodb is not None, "the real handlers need the embedded DynamoDB"
            queue_url = self.fanout_queues.url if self.fanout_queues else None
            self._apply_environment(handler_environment(options, self.url, self._dynamodb.endpoint_url, queue_url))
            handlers = load_handlers(FUNCTIONS)
            self._loaded_real_handlers = True
        self._runner = FunctionRunner(handlers, max_workers=options.handler_workers)
        if self._dynamodb is not None and self.fanout_queues is not None and self._runner.has(FANOUT_FUNCTION):
            self._poller = QueuePoller(
                self._dynamodb.sqs_client(REGION),
                self.fanout_queues,
                self._runner,
                FANOUT_FUNCTION,
                threads=options.fanout_pollers,
            )
            self._poller.start()
        if self._dynamodb is not None and self._runner.has(NOTIFY_FUNCTION):
            self._stream_poller = StreamPoller(
                self._dynamodb.client(REGION),
                self._dynamodb.client(REGION, "dynamodbstreams"),
                table_names(options.table_prefix)["messages"],
                self._runner,
                NOTIFY_FUNCTION,
                batch_size=NOTIFY_BATCH_SIZE,
                batching_window_seconds=options.notify_batching_window_seconds,
                retry_attempts=NOTIFY_RETRY_ATTEMPTS,
            )
            self._stream_poller.start()
        self.identity = DevIdentityProvider(
            self.url, options.audience, self._runner, access_token_seconds=options.access_token_seconds
        )
        self.gateway = WebSocketGateway(
            self._runner,
            limits=GatewayLimits(
                idle_timeout_seconds=options.idle_timeout_seconds,
                max_lifetime_seconds=options.max_lifetime_seconds,
                max_frames_in_flight_per_user=options.frames_in_flight_per_user,
                open_delay_seconds=options.open_delay_seconds,
            ),
            frame_log=FrameLog(),
        )
        app = web.Application(middlewares=[websocket_paths_only(WEBSOCKET_PATH)])
        add_http_log(app, FrameLog())
        self.identity.add_routes(app)
        self.gateway.add_routes(app, WEBSOCKET_PATH)
        add_push_service(app)
        add_web_client(app, options.web_dist, self.websocket_url)
        self._app_runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5)
        await self._app_runner.setup()
        await web.SockSite(self._app_runner, listener).start()
        # The handlers' `@connections` calls reach the gateway without HTTP (see ManagementApiInProcess).
        self._management_api = ManagementApiInProcess(self.gateway, self.url)
        self._management_api.install()

    def _apply_environment(self, environment: Mapping[str, str]) -> None:
        for name in (*environment, *AWS_VARIABLES_TO_DROP):
            self._saved_environment.setdefault(name, os.environ.get(name))
        for name in AWS_VARIABLES_TO_DROP:
            os.environ.pop(name, None)
        os.environ.update(environment)
        load_settings.cache_clear()
        Settings.from_environ(os.environ)  # fail now, with every problem named, rather than on the first frame

    async def stop(self) -> None:
        """Stop polling the fan-out queue, close every socket (running `$disconnect`), stop serving, stop the
        handlers' pool and DynamoDB."""
        if self._poller is not None:
            # In a thread: a batch in flight posts to the gateway, which this event loop serves.
            await asyncio.to_thread(self._poller.stop)
            self._poller = None
        if self._stream_poller is not None:
            await asyncio.to_thread(self._stream_poller.stop)
            self._stream_poller = None
        if self.gateway is not None:
            await self.gateway.shutdown()
        if self._management_api is not None:
            self._management_api.uninstall()
            self._management_api = None
        if self._app_runner is not None:
            await self._app_runner.cleanup()
            self._app_runner = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._loaded_real_handlers:  # their cached service keeps a fan-out pool: stop its threads
            from chat.lambda_app import close_service

            close_service()
            self._loaded_real_handlers = False
        if self._dynamodb is not None:
            self._dynamodb.stop()
            self._dynamodb = None
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment.clear()
        self.gateway = None

    async def __aenter__(self) -> LocalStack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


REQUEST_STARTED = web.RequestKey("request_started", float)


def add_http_log(app: web.Application, frame_log: FrameLog) -> None:
    """One line per plain HTTP request, with the status as sent: a static file's 404 (or 304) is decided only when
    the response is prepared, after every middleware has returned. `@connections` calls are logged as the frames
    they push, WebSocket connections as their own lines."""

    @web.middleware
    async def note_start(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[REQUEST_STARTED] = time.perf_counter()
        return await handler(request)

    async def log_response(request: web.BaseRequest, response: web.StreamResponse) -> None:
        if request.path.startswith("/@connections/") or request.path == WEBSOCKET_PATH:
            return
        started = request.get(REQUEST_STARTED)
        ms = (time.perf_counter() - started) * 1000 if isinstance(started, float) else 0.0
        frame_log.http(request.method, request.path, response.status, ms)

    app.middlewares.insert(0, note_start)
    app.on_response_prepare.append(log_response)
