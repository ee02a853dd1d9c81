"""An embedded DynamoDB: moto's server on 127.0.0.1, serialized so that it is as linearizable as DynamoDB.

moto's backends are not thread-safe: 20 threads running the send transaction against a plain moto server stored
139 of 500 acknowledged messages, with gaps. One lock around request dispatch makes every request atomic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import boto3
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from chat.tables import TABLES, TableSpec, create_table_kwargs

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialized(app: WsgiApp) -> WsgiApp:
    """Run one request at a time, body included (moto builds responses lazily)."""
    lock = threading.Lock()

    def dispatch_one_at_a_time(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return dispatch_one_at_a_time


class EmbeddedDynamoDB:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        app = serialized(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._host, self._port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-dynamodb", daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def client(self, region: str = "us-east-1") -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def create_tables(self, table_names: Mapping[str, str], specs: Iterable[TableSpec] = TABLES) -> None:
        """Create every table of `specs`; `table_names` maps a spec's logical name to its physical name."""
        create_tables(self.client(), table_names, specs)

    def __enter__(self) -> EmbeddedDynamoDB:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def create_tables(client: Any, table_names: Mapping[str, str], specs: Iterable[TableSpec] = TABLES) -> None:
    """Create the tables (and their TTL settings) with any DynamoDB client: moto's, embedded or in-process."""
    for spec in specs:
        name = table_names[spec.name]
        client.create_table(**create_table_kwargs(spec, name))
        if spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
            )
