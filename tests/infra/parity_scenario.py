"""Drives every handler under moto through every path it has and records each AWS call it makes.

Run in its own process by test_parity.py (`python parity_scenario.py OUT.json`): the handlers cache settings and
clients per process, as they do in Lambda. Each function gets the environment the stack gives it (the token
settings only for the authorizer). Paths that depend on AWS's answers are provoked:

- a connection (`GONE_CONNECTION`) answers 410 Gone and is dropped each time: its user reconnects before every
  fan-out of every function that pushes, so that each one cleans up after it;
- the fan-out function gets an SQS batch of a job for the room (met by the gone connection too) and a malformed
  record; the fan-out queue is moto's, at `FANOUT_QUEUE_URL`;
- `without_returned_items()` drops the item a failed condition returns (as DynamoDB does when there is none,
  e.g. a rate-limit bucket that expired between two writes), so that the fallback reads run too.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.client
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from moto import mock_aws

from chat import pushes, service
from chat.dynamo import DynamoChatStore
from chat.ports import FanoutJob, Identity, LiveConnection, PushSubscription, RoomConnection
from chat.routes import AUTHORIZER_FUNCTION, FANOUT_FUNCTION, NOTIFY_FUNCTION, ROUTES, SIGN_UP_FUNCTION
from chat.settings import TOKEN_VARIABLES, load_settings
from chat.tables import TABLES
from infra.constants import STAGE_NAME
from local import events
from local.dynamodb import create_tables
from tests.support.push_service import PushServiceStandIn

ENDPOINT = f"https://{events.API_ID}.execute-api.{events.REGION}.amazonaws.com/{STAGE_NAME}"
TABLE_NAMES = {spec.name: f"chat-{spec.name}" for spec in TABLES}
GONE_CONNECTION = "goneConnection="
FANOUT_QUEUE_NAME = "chat-fanout"
FANOUT_QUEUE_URL = f"https://sqs.{events.REGION}.amazonaws.com/{events.ACCOUNT_ID}/{FANOUT_QUEUE_NAME}"
FANOUT_QUEUE_ARN = f"arn:aws:sqs:{events.REGION}:{events.ACCOUNT_ID}:{FANOUT_QUEUE_NAME}"
ENVIRONMENT = {
    **{spec.env_var: TABLE_NAMES[spec.name] for spec in TABLES},
    "CONNECTIONS_ENDPOINT_URL": ENDPOINT,
    "FANOUT_QUEUE_URL": FANOUT_QUEUE_URL,
    # A burst of 1000 frames refilled over an hour: after its first frame, every user is mid-burst (the
    # rate limiter's second, conditional write) for the rest of the scenario.
    "RATE_LIMIT_FRAMES": "1000",
    "RATE_LIMIT_WINDOW_SECONDS": "3600",
    # The VAPID secret itself (the stack gives its ARN: the role's right to read it is tested in test_notifications).
    "VAPID_SECRET": "parity",
    "POWERTOOLS_SERVICE_NAME": "chat",
    "POWERTOOLS_METRICS_NAMESPACE": "ChatParity",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": events.REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
TOKEN_SETTINGS = {
    "JWT_ISSUER": "https://issuer.invalid",
    "JWT_AUDIENCE": "chat",
    "JWKS_URL": "https://issuer.invalid/.well-known/jwks.json",
}
assert set(TOKEN_SETTINGS) == set(TOKEN_VARIABLES)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.function: str | None = None
        self.invocations = 0
        self.returned_items = True
        original = botocore.client.BaseClient._make_api_call
        recorder = self

        def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if recorder.function is not None:
                recorder.calls.append(
                    {
                        "function": recorder.function,
                        "invocation": recorder.invocations,
                        "service": client.meta.service_model.signing_name,
                        "operation": operation,
                        "endpoint": client.meta.endpoint_url,
                        "params": _summary(params),
                    }
                )
                if operation == "PostToConnection" and params.get("ConnectionId") == GONE_CONNECTION:
                    error = {"Error": {"Code": "GoneException", "Message": "Gone"}, "ResponseMetadata": {}}
                    raise client.exceptions.GoneException(error, operation)
            try:
                return original(client, operation, params)
            except ClientError as exc:
                if not recorder.returned_items:
                    exc.response.pop("Item", None)
                    for reason in exc.response.get("CancellationReasons") or []:
                        reason.pop("Item", None)
                raise

        botocore.client.BaseClient._make_api_call = record  # type: ignore[method-assign]

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        handler = importlib.import_module(f"functions.{function}.handler")
        self.function = function
        self.invocations += 1
        try:
            return handler.lambda_handler(event, events.LambdaContext(function_name=function))
        except Exception as exc:  # an authorizer denies by raising; any other function should not raise
            if function != AUTHORIZER_FUNCTION or str(exc) != "Unauthorized":
                self.errors.append(f"{function}: {type(exc).__name__}: {exc}")
            return None
        finally:
            self.function = None

    def authorize(self, event: dict[str, Any]) -> Any:
        """The authorizer, with the token settings that only it gets (a Lambda environment of its own)."""
        os.environ.update(TOKEN_SETTINGS)
        load_settings.cache_clear()
        try:
            return self.invoke(AUTHORIZER_FUNCTION, event)
        finally:
            for name in TOKEN_SETTINGS:
                del os.environ[name]
            load_settings.cache_clear()

    @contextmanager
    def without_returned_items(self) -> Iterator[None]:
        self.returned_items = False
        try:
            yield
        finally:
            self.returned_items = True


def _summary(params: dict[str, Any]) -> dict[str, Any]:
    """What decides the IAM action and resource of a call."""
    summary = {k: params[k] for k in ("TableName", "IndexName", "ConnectionId", "QueueUrl") if k in params}
    if "RequestItems" in params:
        summary["RequestItems"] = sorted(params["RequestItems"])
    if "TransactItems" in params:
        summary["TransactItems"] = [
            {kind: body["TableName"]} for item in params["TransactItems"] for kind, body in item.items()
        ]
    return summary


class User:
    def __init__(self, recorder: Recorder, user_id: str, connection_id: str | None = None) -> None:
        self.recorder = recorder
        self.user_id = user_id
        identity = Identity(user_id, user_id.capitalize(), int(time.time()) + 3600)
        self.context = events.authorizer_context(identity.authorizer_context(), user_id)
        info = {"connection_id": connection_id} if connection_id else {}
        self.connection = events.ConnectionInfo(stage=STAGE_NAME, api_id=events.API_ID, **info)

    def sign_up(self) -> None:
        """Cognito's post-confirmation trigger for this user, with the name asked at sign-up."""
        attributes = {"sub": self.user_id, "email": f"{self.user_id}@example.com", "name": self.user_id.capitalize()}
        event = {
            "version": "1",
            "region": events.REGION,
            "userPoolId": f"{events.REGION}_parity",
            "userName": self.user_id,
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "parity"},
            "triggerSource": "PostConfirmation_ConfirmSignUp",
            "request": {"userAttributes": attributes},
            "response": {},
        }
        self.recorder.invoke(SIGN_UP_FUNCTION, event)

    def connect(self) -> None:
        self.recorder.invoke("connect", events.connect_event(self.connection, self.context, {"token": "t"}))

    def disconnect(self) -> None:
        self.recorder.invoke("disconnect", events.disconnect_event(self.connection, self.context))

    def send(self, action: str, **fields: Any) -> dict[str, Any]:
        route = action if action in ROUTES else "$default"
        body = json.dumps({"action": action, "requestId": uuid.uuid4().hex[:8], **fields})
        event = events.message_event(self.connection, route, body, self.context)
        reply = self.recorder.invoke(ROUTES[route], event)
        if isinstance(reply, dict) and isinstance(reply.get("body"), str):
            return dict(json.loads(reply["body"]))
        return {}


def _seed_expired_connection(user_id: str) -> None:
    """A connection whose $disconnect never came, long expired: the user's next connect prunes it."""
    boto3.client("dynamodb").update_item(
        TableName=TABLE_NAMES["users"],
        Key={"userId": {"S": user_id}},
        UpdateExpression="ADD #connections :expired",
        ExpressionAttributeNames={"#connections": "connections"},
        ExpressionAttributeValues={":expired": {"SS": ["1:expiredConnection="]}},
    )


def sqs_record(body: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS event source mapping sends."""
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(int(time.time() * 1000)),
            "SenderId": events.ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": FANOUT_QUEUE_ARN,
        "awsRegion": events.REGION,
    }


def fan_out(recorder: Recorder, extra: list[dict[str, Any]]) -> None:
    """What Lambda's event source mapping does: the fan-out function gets batches of what the queue holds (and
    `extra` records in the first), until the queue is empty (a job's next page is another message)."""
    sqs = boto3.client("sqs")
    for _ in range(50):
        messages = sqs.receive_message(QueueUrl=FANOUT_QUEUE_URL, MaxNumberOfMessages=10).get("Messages", [])
        records, extra = [sqs_record(m["Body"]) for m in messages] + extra, []
        if not records:
            return
        recorder.invoke(FANOUT_FUNCTION, {"Records": records})
        if messages:
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            sqs.delete_message_batch(QueueUrl=FANOUT_QUEUE_URL, Entries=entries)
    raise AssertionError("the fan-out queue never emptied")


def chat_session(recorder: Recorder) -> None:
    recorder.authorize(events.authorizer_event(events.ConnectionInfo(stage=STAGE_NAME, api_id=events.API_ID), {}))
    alice, bob, dave = User(recorder, "alice"), User(recorder, "bob"), User(recorder, "dave")
    carol = User(recorder, "carol", connection_id=GONE_CONNECTION)  # every push to her answers 410
    dave.sign_up()
    _seed_expired_connection("alice")
    for user in (alice, bob, carol):
        user.connect()

    # rooms: a group room, pushed to its members (carol's connection is gone).
    room_id = alice.send("createRoom", name="general", memberIds=["bob", "carol"]).get("room", {}).get("id", "?")
    # disconnect and connect: bob's presence, pushed to his contacts.
    carol.connect()
    bob.disconnect()
    carol.connect()
    bob.connect()
    # send_message: stored, pushed; the same clientMsgId again is the stored message.
    message_id = str(uuid.uuid4())
    carol.connect()
    hello = alice.send("sendMessage", roomId=room_id, content="hello", clientMsgId=message_id).get("message", {})
    alice.send("sendMessage", roomId=room_id, content="hello", clientMsgId=message_id)
    with recorder.without_returned_items():
        alice.send("sendMessage", roomId=room_id, content="hello", clientMsgId=message_id)
    # typing: pushed, never stored.
    carol.connect()
    alice.send("typing", roomId=room_id, isTyping=True)
    with recorder.without_returned_items():
        alice.send("typing", roomId=room_id, isTyping=False)
    # fanout: a batch of jobs for the room, from the fan-out queue.
    carol.connect()
    # big rooms (every room is one here, with pages of one connection): sendMessage, typing and a room change hand
    # their push to the fan-out queue; the fan-out function posts page by page, queueing each next page (carol's
    # connection is gone), plus a retry of two connections and a record that is not a job.
    inline, page_size = pushes.INLINE_PUSH_MAX_MEMBERS, pushes.FANOUT_PAGE_SIZE
    pushes.INLINE_PUSH_MAX_MEMBERS = service.INLINE_PUSH_MAX_MEMBERS = 0  # the service's: typing's interval
    pushes.FANOUT_PAGE_SIZE = 1
    try:
        carol.connect()
        alice.send("sendMessage", roomId=room_id, content="to many", clientMsgId=str(uuid.uuid4()))
        alice.send("typing", roomId=room_id, isTyping=True)
        alice.send("typing", roomId=room_id, isTyping=False)  # within the interval: coalesced
        alice.send("createRoom", name="big", memberIds=["bob", "carol"])
        alice.send("editMessage", roomId=room_id, messageId=hello.get("id", "?-1"), content="hello, all")
        bob.send("markRead", roomId=room_id, seq=1)  # a big room: only bob's other connections are told
        later = int(time.time()) + 3600
        retry = (RoomConnection("bob", LiveConnection(bob.connection.connection_id, later)),)
        payload = json.dumps({"type": "typing", "roomId": room_id, "userId": "alice", "isTyping": True})
        fan_out(recorder, [sqs_record(FanoutJob(room_id, payload, retry=retry, attempt=1).to_json()), sqs_record("?")])
    finally:
        pushes.INLINE_PUSH_MAX_MEMBERS = service.INLINE_PUSH_MAX_MEMBERS = inline
        pushes.FANOUT_PAGE_SIZE = page_size
    # history: after a seq, before a seq, the latest page.
    bob.send("history", roomId=room_id, afterSeq=0)
    bob.send("history", roomId=room_id, beforeSeq=10, limit=1)
    with recorder.without_returned_items():
        bob.send("history", roomId=room_id)
    # message changes: a reply (its parent read), an edit and the same edit again, a reaction added, added again
    # and taken back, an admin's delete, a non-sender's edit refused; one message by id; the change feed; sync.
    hello_id = hello.get("id", "?-1")
    bob.send("sendMessage", roomId=room_id, content="hi", clientMsgId=str(uuid.uuid4()), replyToId=hello_id)
    alice.send("editMessage", roomId=room_id, messageId=hello_id, content="hello!")
    alice.send("editMessage", roomId=room_id, messageId=hello_id, content="hello!")
    bob.send("editMessage", roomId=room_id, messageId=hello_id, content="mine")
    bob.send("addReaction", roomId=room_id, messageId=hello_id, emoji="👍")
    bob.send("addReaction", roomId=room_id, messageId=hello_id, emoji="👍")
    bob.send("history", roomId=room_id, afterSeq=0)
    bob.send("removeReaction", roomId=room_id, messageId=hello_id, emoji="👍")
    alice.send("deleteMessage", roomId=room_id, messageId=hello_id)
    bob.send("getMessage", roomId=room_id, messageId=hello_id)
    bob.send("changes", roomId=room_id, afterVersion=0, limit=1)
    bob.send("sync", rooms={room_id: 0, "r_gone": 0}, versions={room_id: 0})
    # read markers: a receipt to a small room's members.
    bob.send("markRead", roomId=room_id, seq=2)
    # rooms: lists and their next pages, presence, a profile change (pushed to contacts), direct rooms (new,
    # then found), members added, a member leaving.
    cursor = alice.send("listRooms", limit=1).get("nextCursor")
    alice.send("listRooms", limit=1, cursor=cursor)
    cursor = alice.send("listUsers", limit=1).get("nextCursor")
    alice.send("listUsers", query="b", limit=1, cursor=cursor)
    cursor = alice.send("presence", roomId=room_id, limit=1).get("nextCursor")
    alice.send("presence", roomId=room_id, limit=1, cursor=cursor)
    carol.connect()
    alice.send("updateProfile", name="Alice Liddell", avatarUrl="https://img.test/alice.png")
    alice.send("openDirect", userId="bob")
    alice.send("openDirect", userId="bob")
    alice.send("addMembers", roomId=room_id, memberIds=["dave"])
    alice.send("renameRoom", roomId=room_id, name="everyone")
    carol.connect()
    alice.send("removeMember", roomId=room_id, userId="dave")  # dave is told (he never connected)
    carol.connect()
    bob.send("leaveRoom", roomId=room_id)
    with recorder.without_returned_items():
        alice.send("listRooms")
    # notification settings: a device registered (and again), one unregistered; a room muted; previews off.
    device = {"endpoint": "https://push.test/alice", "keys": {"p256dh": "BPk3", "auth": "q7xQ"}}
    alice.send("registerPush", subscription=device)
    alice.send("registerPush", subscription=device)
    alice.send("unregisterPush", endpoint=device["endpoint"])
    alice.send("muteRoom", roomId=room_id, muted=True)
    alice.send("updateSettings", showPreviews=False)
    alice.send("getSettings")
    alice.send("ping")
    alice.send("dance")
    carol.connect()
    # notify: a message to a room whose other member (dave) never connected; one of his devices is reachable, the
    # other gone (410, deleted). The stream's records of the whole session are one batch.
    quiet = alice.send("createRoom", name="quiet", memberIds=["dave"]).get("room", {}).get("id", "?")
    push_service = PushServiceStandIn().start()
    try:
        store = DynamoChatStore(boto3.client("dynamodb"), TABLE_NAMES)
        for path in ("/push/dave", "/gone/dave"):
            store.add_push_subscription("dave", browser_subscription(push_service.url + path), keep=10)
        alice.send("sendMessage", roomId=quiet, content="are you there?", clientMsgId=str(uuid.uuid4()))
        recorder.invoke(NOTIFY_FUNCTION, {"Records": stream_records(TABLE_NAMES["messages"])})
    finally:
        push_service.stop()
    for user in (bob, alice, carol):
        user.disconnect()


def browser_subscription(endpoint: str) -> PushSubscription:
    """A subscription with real keys, as a browser makes one (the payload is encrypted for them)."""
    public = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    encode = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")  # noqa: E731
    return PushSubscription(endpoint, encode(public), encode(os.urandom(16)), "2027-01-15T08:00:00.000Z")


def stream_records(table: str) -> list[dict[str, Any]]:
    """What Lambda's event source mapping hands the notifier: the table stream's records, from its start."""
    arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records += streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    return records


def main(out: str) -> None:
    os.environ.update(ENVIRONMENT)
    # Carol's connection answers 410 long after its $connect: every function that pushes must forget it.
    pushes.CONNECT_WINDOW_SECONDS = 0
    with mock_aws():
        create_tables(boto3.client("dynamodb"), TABLE_NAMES)
        assert boto3.client("sqs").create_queue(QueueName=FANOUT_QUEUE_NAME)["QueueUrl"] == FANOUT_QUEUE_URL
        recorder = Recorder()
        chat_session(recorder)
    with open(out, "w") as handle:
        json.dump({"calls": recorder.calls, "errors": recorder.errors}, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
