"""The Lambda side of every function: build the service once per cold start, turn API Gateway events into service
calls, and the outcome (a reply or an error) into the route response that API Gateway sends back to the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from chat import protocol as p
from chat.errors import ChatError
from chat.frames import error_frame, read_frame
from chat.identity import Identity
from chat.moderation import DEFAULT_WORDS, Moderator
from chat.notifications import Notifications
from chat.observability import MetricUnit, logger, metrics, trace_aws_calls, tracer
from chat.ports import FanoutJob
from chat.service import Caller, ChatService, Limits
from chat.settings import load_settings

# Cognito user attributes that hold the name a user chose at sign-up, in order of preference.
SIGN_UP_NAME_ATTRIBUTES = ("name", "preferred_username", "nickname")

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


# Powertools' metrics are one set per process. Lambda runs one invocation per process at a time, but the local
# stack and the tests run handlers in threads: a flush must not empty the set while another thread adds to it or
# checks it (that raised "Must contain at least one metric" in a concurrent test).
_metrics_lock = threading.Lock()


def add_metric(name: str, value: float, unit: MetricUnit = MetricUnit.Count) -> None:
    with _metrics_lock:
        metrics.add_metric(name=name, unit=unit, value=value)


class PowertoolsMetrics:
    def count(self, name: str, value: float = 1) -> None:
        add_metric(name, value, MetricUnit.Count)

    def milliseconds(self, name: str, value: float) -> None:
        add_metric(name, value, MetricUnit.Milliseconds)


@lru_cache(maxsize=1)
def chat_service() -> ChatService:
    """One service, one boto3 client per AWS API and one fan-out pool per cold start, reused while warm."""
    import boto3
    from botocore.config import Config

    from chat.dynamo import DynamoChatStore
    from chat.fanout import ManagementApiNotifier
    from chat.sqs_queue import SqsFanoutQueue

    settings = load_settings()
    trace_aws_calls()
    timeouts = Config(connect_timeout=2, read_timeout=5)
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint_url,
        config=timeouts.merge(Config(retries={"mode": "standard", "max_attempts": 3})),
    )
    management_api = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=settings.connections_endpoint_url,
        # The notifier retries throttling itself; its pool and botocore's connection pool are the same size.
        config=timeouts.merge(
            Config(retries={"total_max_attempts": 1}, max_pool_connections=settings.fanout_concurrency)
        ),
    )
    queue = None
    if settings.fanout_queue_url:
        sqs = boto3.client(
            "sqs",
            endpoint_url=settings.sqs_endpoint_url,
            config=timeouts.merge(Config(retries={"mode": "standard", "max_attempts": 3})),
        )
        queue = SqsFanoutQueue(sqs, settings.fanout_queue_url)
    return ChatService(
        DynamoChatStore(dynamodb, settings),
        ManagementApiNotifier(management_api, max_workers=settings.fanout_concurrency),
        Moderator(settings.moderation_mode, settings.moderation_words or DEFAULT_WORDS),
        queue=queue,
        limits=Limits(
            rate_limit_frames=settings.rate_limit_frames,
            rate_limit_window_seconds=settings.rate_limit_window_seconds,
            connection_lifetime_seconds=settings.connection_lifetime_seconds,
        ),
        metrics=PowertoolsMetrics(),
        push_public_key=push_public_key,
    )


@lru_cache(maxsize=1)
def vapid_key() -> str | None:
    """The VAPID private key, from the secret (read once per container, when first needed), or None."""
    settings = load_settings()
    if settings.vapid_secret is not None:
        secret = settings.vapid_secret.get_secret_value()
    elif settings.vapid_secret_arn:
        import boto3

        response = boto3.client("secretsmanager").get_secret_value(SecretId=settings.vapid_secret_arn)
        secret = str(response["SecretString"])
    else:
        return None
    from chat.webpush import vapid_key_from_secret

    return vapid_key_from_secret(secret)


def push_public_key() -> str | None:
    key = vapid_key()
    if key is None:
        return None
    from chat.webpush import vapid_public_key  # cryptography's EC: loaded only where notifications are asked about

    return vapid_public_key(key)


@lru_cache(maxsize=1)
def notifications() -> Notifications | None:
    """The notifier of this container, or None when no VAPID secret is configured (nothing to sign pushes with)."""
    key = vapid_key()
    if key is None:
        return None
    import boto3
    from botocore.config import Config

    from chat.dynamo import DynamoChatStore
    from chat.webpush import WebPushSender

    settings = load_settings()
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint_url,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}),
    )
    rewrite = settings.push_endpoint_rewrite
    prefix, _, replacement = (rewrite or "").partition("=")
    sender = WebPushSender(key, settings.vapid_subject, endpoint_rewrite=(prefix, replacement) if rewrite else None)
    return Notifications(DynamoChatStore(dynamodb, settings), sender)


def handle_new_messages(event: dict[str, Any]) -> dict[str, Any]:
    """The `messages` stream's event source mapping: a batch of new messages (a burst) becomes at most one
    notification per room and device. A failure raises: Lambda retries the batch (halved on each error), and a
    notification may then go out twice, which its topic makes harmless (the device shows the newest)."""
    from chat.dynamo.stream import new_messages

    records = event.get("Records") or []
    messages = new_messages(records)
    notifier = notifications()
    if notifier is None or not messages:
        logger.info("new messages: no notifications", records=len(records), configured=notifier is not None)
        return {"batchItemFailures": []}
    report = notifier.notify(messages)
    for name, value in (
        ("NotificationsDelivered", report.delivered),
        ("NotificationsFailed", report.failed),
        ("PushSubscriptionsGone", report.gone),
    ):
        add_metric(name, value, MetricUnit.Count)
    logger.info(
        "notified",
        records=len(records),
        rooms=len(report.rooms),
        delivered=report.delivered,
        failed=report.failed,
        gone=report.gone,
    )
    return {"batchItemFailures": []}


def close_service() -> None:
    """Stop the fan-out pool of the cached service (the local stack, on shutdown); Lambda never needs it."""
    if chat_service.cache_info().currsize:
        chat_service().close()
        chat_service.cache_clear()


def powertools_handler(handle: Callable[[dict[str, Any]], dict[str, Any]]) -> LambdaHandler:
    """Logger context, tracing and metrics around `handle`: every function's handler is this plus one call.

    Pinned in code, so that no environment variable can turn them on: the event is never logged (`$connect`'s
    holds the token, a frame's holds the message body), and X-Ray never records the response (`ack` and
    `history` carry message bodies) or the error (its message may echo a frame).
    """

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handle(event)
        finally:
            with _metrics_lock:  # what `metrics.log_metrics` does after the handler, with the set held
                metrics.flush_metrics()

    traced: LambdaHandler = tracer.capture_lambda_handler(lambda_handler, capture_response=False, capture_error=False)
    return logger.inject_lambda_context(traced, log_event=False, clear_state=True)


def handle_sign_up(event: dict[str, Any]) -> dict[str, Any]:
    """Cognito's post-confirmation trigger: the name asked at sign-up becomes the user's chat profile.

    Access tokens carry no name (Cognito's hold only `sub` and a generated `username`), so the name the user
    chose reaches the chat here, once, before the first connection. Cognito expects the event back.
    """
    if event.get("triggerSource") == "PostConfirmation_ConfirmSignUp":
        attributes = event.get("request", {}).get("userAttributes", {})
        user_id = attributes.get("sub")
        name = next((attributes[a].strip() for a in SIGN_UP_NAME_ATTRIBUTES if str(attributes.get(a, "")).strip()), "")
        if user_id and name:
            chat_service().register_user(user_id, name)
            add_metric("UsersRegistered", 1, MetricUnit.Count)
            logger.append_keys(userId=user_id)
            logger.info("user registered")
    return event


def handle_connect(event: dict[str, Any]) -> dict[str, Any]:
    context = event["requestContext"]
    identity = _identity(context)
    if identity is None:  # only reachable if the authorizer is not wired to $connect
        logger.error("connect without an authorizer context: refusing")
        return {"statusCode": 401}
    logger.append_keys(connectionId=context["connectionId"], userId=identity.user_id)
    chat_service().connect(context["connectionId"], identity)
    add_metric("Connects", 1, MetricUnit.Count)
    logger.info("connected")
    return {"statusCode": 200}


def handle_disconnect(event: dict[str, Any]) -> dict[str, Any]:
    context = event["requestContext"]
    logger.append_keys(connectionId=context["connectionId"], disconnectStatusCode=context.get("disconnectStatusCode"))
    chat_service().disconnect(context["connectionId"])
    add_metric("Disconnects", 1, MetricUnit.Count)
    logger.info("disconnected")
    return {"statusCode": 200}


def handle_frame(event: dict[str, Any]) -> dict[str, Any]:
    """Any message route: the reply to the frame, or the error frame that explains why it changed nothing."""
    context = event["requestContext"]
    connection_id = context["connectionId"]
    hints, frame = read_frame(event.get("body"))
    logger.append_keys(
        connectionId=connection_id, action=hints.action, roomId=hints.room_id, clientMsgId=hints.client_msg_id
    )
    reply: p.ServerFrame | None
    try:
        identity = _identity(context)
        if identity is None:
            raise ChatError("no authorizer context on a message route")
        logger.append_keys(userId=identity.user_id)
        service = chat_service()
        service.admit(identity, hints.action)
        if isinstance(frame, ChatError):
            raise frame
        reply = service.handle(Caller(connection_id, identity), frame)
        add_metric("FramesHandled", 1, MetricUnit.Count)
        logger.info("frame handled")
    except ChatError as exc:
        add_metric("FramesRefused", 1, MetricUnit.Count)
        logger.info("frame refused", code=exc.code, reason=exc.message)
        reply = error_frame(exc, hints)
    except Exception as exc:
        logger.exception("frame failed")
        reply = error_frame(exc, hints)
    if reply is None:
        return {"statusCode": 200}
    return {"statusCode": 200, "body": p.encode(reply).decode()}


def handle_fanout_batch(event: dict[str, Any]) -> dict[str, Any]:
    """The fan-out queue's event source mapping (ReportBatchItemFailures): one job per record, each on its own.

    A record whose job raised (it could not enqueue its continuation, or the store failed) is listed in
    `batchItemFailures`: SQS makes it visible again after the visibility timeout, and after `maxReceiveCount`
    receives moves it to the dead-letter queue (whose alarm then fires). The others are deleted. A body that is not
    a job is failed the same way, not dropped: no retry fixes it, but it reaches the DLQ after a few receives, where
    it can be inspected and redriven once the consumer reads it (a producer and a consumer of different versions
    during a deployment would otherwise lose every push in between). Bodies are never logged: the payload is a
    message.
    """
    failures: list[dict[str, str]] = []
    for record in event.get("Records") or []:
        message_id = str(record.get("messageId"))
        attributes = record.get("attributes") or {}
        logger.remove_keys(["roomId", "attempt"])  # the previous record's
        logger.append_keys(messageId=message_id, receiveCount=attributes.get("ApproximateReceiveCount"))
        try:
            job = FanoutJob.from_json(record["body"])
        except (KeyError, TypeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            add_metric("FanoutJobsMalformed", 1, MetricUnit.Count)
            logger.error("fan-out job malformed: failed, for the dead-letter queue", error=type(exc).__name__)
            failures.append({"itemIdentifier": message_id})
            continue
        logger.append_keys(roomId=job.room_id, attempt=job.attempt)
        try:
            chat_service().fan_out(job)
        except ChatError as exc:
            add_metric("FanoutJobsFailed", 1, MetricUnit.Count)
            logger.warning("fan-out job failed: to be redelivered", code=exc.code, reason=exc.message)
            failures.append({"itemIdentifier": message_id})
        except Exception:
            add_metric("FanoutJobsFailed", 1, MetricUnit.Count)
            logger.exception("fan-out job failed: to be redelivered")
            failures.append({"itemIdentifier": message_id})
        else:
            add_metric("FanoutJobsDone", 1, MetricUnit.Count)
    logger.remove_keys(["messageId", "receiveCount", "roomId", "attempt"])
    logger.info("fan-out batch handled", records=len(event.get("Records") or []), failed=len(failures))
    return {"batchItemFailures": failures}


def _identity(request_context: dict[str, Any]) -> Identity | None:
    authorizer = request_context.get("authorizer")
    if not authorizer or "userId" not in authorizer:
        return None
    return Identity.from_authorizer_context(authorizer)
