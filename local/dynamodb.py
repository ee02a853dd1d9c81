"""An embedded DynamoDB: moto's server on 127.0.0.1, serialized so that it is as linearizable as DynamoDB. The same
server is the local stack's SQS (the fan-out queue, local/queue_poller.py): moto serves every service on one port.

moto's backends are not thread-safe: 20 threads running the send transaction against a plain moto server stored
139 of 500 acknowledged messages, with gaps. One lock around request dispatch makes every request atomic.

Clients made in this process (the local stack's handlers) skip the wire: a botocore `before-send` hook hands the
very request botocore signed to moto's DynamoDB handler, under the same lock, and gives botocore back the status,
headers and body moto's server would have sent (moto's own `mock_aws` dispatches the same way). Over HTTP each
request cost a werkzeug thread, Flask's dispatch and, once more handler threads waited on the lock than botocore
pools connections (10), a new TCP connection and a new server thread (see `bench/local_load.py`). Clients of other
processes, and any client given `endpoint_url`, still reach the same backend over HTTP.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from chat.tables import TABLES, TableSpec, create_table_kwargs
from local.events import RawBody

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialized(app: WsgiApp, lock: threading.Lock | None = None) -> WsgiApp:
    """Run one request at a time, body included (moto builds responses lazily); `lock` is shared with any other
    way into the same backends."""
    lock = lock or threading.Lock()

    def dispatch_one_at_a_time(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return dispatch_one_at_a_time


class EmbeddedDynamoDB:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, in_process: bool = True) -> None:
        """`in_process`: this process's boto3 clients made after `start()` dispatch to moto without HTTP."""
        self._host = host
        self._port = port
        self._in_process = in_process
        self._lock = threading.Lock()  # every request, over HTTP or in process, one at a time
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._hook_id = f"embedded-dynamodb-{uuid.uuid4().hex}"
        self._endpoint_prefix = ""

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        roll_back_touched_items_only()
        app = serialized(DomainDispatcherApplication(create_backend_app), self._lock)
        self._server = make_server(self._host, self._port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-dynamodb", daemon=True)
        self._thread.start()
        if self._in_process:
            self._endpoint_prefix = self.endpoint_url + "/"
            # Clients copy the session's handlers when they are made: the handlers make theirs after this.
            hook: Any = self._dispatch_in_process  # a before-send hook may answer in place of the endpoint
            boto3._get_default_session().events.register("before-send.dynamodb", hook, unique_id=self._hook_id)
        return self.endpoint_url

    def _dispatch_in_process(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        """moto's answer to a request for this endpoint, as its server would send it; None for any other endpoint."""
        if self._server is None or not request.url.startswith(self._endpoint_prefix):
            return None
        from moto.dynamodb.responses import DynamoHandler
        from werkzeug.exceptions import HTTPException  # moto's errors are werkzeug's

        for name, value in request.headers.items():  # as moto's server would read them: text
            if isinstance(value, bytes):
                request.headers[name] = value.decode("utf-8")
        with self._lock:
            try:
                status, headers, body = DynamoHandler.dispatch(request, request.url, request.headers)
            except HTTPException as exc:  # moto's errors, as its server renders them
                status, headers, body = exc.code, dict(exc.get_headers()), exc.get_body()
        raw = RawBody(body.encode() if isinstance(body, str) else body)
        return AWSResponse(request.url, status, headers, raw)

    def stop(self) -> None:
        boto3._get_default_session().events.unregister("before-send.dynamodb", unique_id=self._hook_id)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def client(
        self, region: str = "us-east-1", service: Literal["dynamodb", "sqs", "dynamodbstreams"] = "dynamodb"
    ) -> Any:
        """A client of this server: moto serves every AWS service on the one endpoint, one request at a time."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def sqs_client(self, region: str = "us-east-1") -> Any:
        """The fan-out queue's SQS, serialized with DynamoDB."""
        return self.client(region, "sqs")

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


def roll_back_touched_items_only() -> None:
    """Make moto's TransactWriteItems cost O(items in the transaction) instead of O(items in its tables).

    moto 5.2 deep-copies every table a transaction names, on every call, to roll back on failure: once the
    messages table holds a few hundred items a send takes ~50 ms, and 500 contended sends take minutes. Here
    the table "copy" is the table itself and the touched items are snapshotted and restored instead: the same
    all-or-nothing outcome. Safe because requests are serialized (one at a time through `serialized`).
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "rolls_back_touched_items_only", False):
        return
    copy_whole_tables = DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots = []
        for entry in transact_items:
            kind, operation = next(iter(entry.items()))
            table = backend.tables.get(operation.get("TableName"))
            if table is None:
                continue
            attributes = operation["Item"] if kind == "Put" else operation.get("Key", {})
            key_names = [name for name in (table.hash_key_attr, table.range_key_attr) if name]
            if any(name not in attributes for name in key_names):
                continue  # moto rejects it before writing anything
            hash_key = DynamoType(attributes[table.hash_key_attr])
            range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
            snapshots.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        Table.__deepcopy__ = lambda table, memo: table  # type: ignore[attr-defined]
        try:
            copy_whole_tables(backend, transact_items)
        except BaseException:
            for table, hash_key, range_key, before in reversed(snapshots):
                table.delete_item(hash_key, range_key)
                if before is not None and range_key is not None:
                    table.items[hash_key][range_key] = before
                elif before is not None:
                    table.items[hash_key] = before
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    transact_write_items.rolls_back_touched_items_only = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
