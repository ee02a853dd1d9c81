"""Tiny stand-ins for the Lambda functions, to test the gateway on its own: they record every event they get and
do, on request, what the real handlers do to the gateway (push, look up or close connections, fail, run long).

Tokens: `user:<name>` is allowed as <name>; `deny` gets a Deny policy; `broken` makes the authorizer fail; any
other token is `Unauthorized`. The user `refused` is turned away by `$connect` (403); `early-bird` posts to its
own connection from inside `$connect`. Frames with an unknown `action` reach `$default`; its fake acts on
`push` (to `to`, `bytes` long if given), `inspect` (GetConnection of `id`), `hangUp` (DeleteConnection of
itself), `boom`, `sleep`, `reply` (a reply exactly `bytes` long) and `block` (waits until `release` is set).
The sign-up trigger records its events and fails for the name `Unlucky`.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3

from local.functions import LambdaHandler


def _policy(effect: str, principal: str, resource: str, context: dict[str, Any]) -> dict[str, Any]:
    statement = {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}
    return {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": context,
    }


class FakeFunctions:
    def __init__(self) -> None:
        self.endpoint_url = ""  # the stack's URL, set once it listens
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.outcomes: list[str] = []
        self._lock = threading.Lock()
        self._client: Any = None
        self.release = threading.Event()  # lets every `block` frame finish
        self._blocked = 0
        self._blocked_changed = threading.Condition(self._lock)

    def registry(self) -> dict[str, LambdaHandler]:
        return {
            "authorizer": self.authorizer,
            "connect": self.connect,
            "disconnect": self.disconnect,
            "sign_up": self.sign_up,
            **{name: self.message for name in ("rooms", "send_message", "typing", "history")},
        }

    def events_of(self, function: str) -> list[dict[str, Any]]:
        with self._lock:
            return [event for name, event in self.events if name == function]

    def _record(self, function: str, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append((function, event))

    def wait_until_blocked(self, count: int, timeout: float = 10.0) -> int:
        """Wait (bounded) until `count` frames are blocked; how many are."""
        with self._blocked_changed:
            self._blocked_changed.wait_for(lambda: self._blocked >= count, timeout)
            return self._blocked

    @property
    def blocked(self) -> int:
        with self._lock:
            return self._blocked

    def management_api(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = boto3.client(
                    "apigatewaymanagementapi",
                    endpoint_url=self.endpoint_url,
                    region_name="us-east-1",
                    aws_access_key_id="local",
                    aws_secret_access_key="local",
                )
            return self._client

    # ------------------------------------------------------------------------------------------- functions

    def authorizer(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("authorizer", event)
        token = event["queryStringParameters"].get("token", "")
        if token == "broken":
            raise RuntimeError("the authorizer has a bug")
        if token == "deny":
            return _policy("Deny", "someone", event["methodArn"], {})
        if not token.startswith("user:"):
            raise Exception("Unauthorized")
        name = token.removeprefix("user:")
        identity = {"userId": f"id-{name}", "userName": name, "tokenExpiresAt": 2_000_000_000}
        return _policy("Allow", f"id-{name}", event["methodArn"], identity)

    def connect(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("connect", event)
        user = event["requestContext"]["authorizer"]["userName"]
        if user == "refused":
            return {"statusCode": 403}
        if user == "early-bird":
            self.outcomes.append(self._post(event["requestContext"]["connectionId"], {"type": "hello"}))
        return {"statusCode": 200}

    def disconnect(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("disconnect", event)
        return {"statusCode": 200}

    def sign_up(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("sign_up", event)
        if event["request"]["userAttributes"]["name"] == "Unlucky":
            raise RuntimeError("the sign-up trigger has a bug")
        return event

    def message(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("message", event)
        own_id = event["requestContext"]["connectionId"]
        try:
            frame = json.loads(event["body"])
        except (ValueError, RecursionError):
            frame = {}
        action = frame.get("action") if isinstance(frame, dict) else None
        reply: dict[str, Any] = {
            "type": "echo",
            "route": event["requestContext"]["routeKey"],
            "bytes": len(event["body"].encode()),
            "connectionId": own_id,
            "authorizer": event["requestContext"]["authorizer"],
        }
        if isinstance(frame, dict) and "requestId" in frame:
            reply["requestId"] = frame["requestId"]
        if action == "boom":
            raise RuntimeError("the handler has a bug")
        if action == "sleep":
            time.sleep(float(frame["seconds"]))
        if action == "push":
            pushed = {"type": "pushed", "text": frame.get("text", "")}
            reply["outcome"] = self._post(frame["to"], sized(pushed, frame["bytes"]) if "bytes" in frame else pushed)
        if action == "reply":
            return {"statusCode": 200, "body": json.dumps(sized({"type": "sized"}, frame["bytes"]))}
        if action == "block":
            self._block()
        if action == "inspect":
            found = self.management_api().get_connection(ConnectionId=frame["id"])
            reply["connection"] = {
                "connectedAt": found["ConnectedAt"].isoformat(),
                "lastActiveAt": found["LastActiveAt"].isoformat(),
                "identity": found["Identity"],
            }
        if action == "hangUp":
            self.management_api().delete_connection(ConnectionId=own_id)
            return {"statusCode": 200}
        return {"statusCode": 200, "body": json.dumps(reply)}

    def _block(self) -> None:
        with self._blocked_changed:
            self._blocked += 1
            self._blocked_changed.notify_all()
        try:
            self.release.wait(30)  # bounded: a failed test must not leave threads behind for long
        finally:
            with self._blocked_changed:
                self._blocked -= 1

    def _post(self, connection_id: str, frame: dict[str, Any]) -> str:
        client = self.management_api()
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(frame).encode())
        except client.exceptions.GoneException:
            return "gone"
        except client.exceptions.PayloadTooLargeException:
            return "too large"
        return "delivered"


def sized(frame: dict[str, Any], size: int) -> dict[str, Any]:
    """`frame` with a `pad` field that makes its JSON exactly `size` bytes long."""
    empty = len(json.dumps({**frame, "pad": ""}).encode())
    return {**frame, "pad": "x" * (size - empty)}
