"""The fan-out queue: big rooms' pushes, off the request path (chat.sqs_queue sends, functions/fanout consumes).

A standard SQS queue (encrypted with SQS's own key, TLS only) with a dead-letter queue, the fan-out function's
event source mapping (partial batch failures), and an alarm on the dead-letter queue.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, aws_lambda
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chat.routes import FANOUT_FUNCTION
from infra.constants import (
    FANOUT_BATCH_SIZE,
    FANOUT_MAX_BATCHING_WINDOW,
    FANOUT_MAX_CONCURRENCY,
    FANOUT_MAX_RECEIVE_COUNT,
    FANOUT_RETENTION,
    SIZING,
)

# Lambda's guidance for an SQS event source: a visibility timeout of at least six times the function's timeout,
# so that a batch retried after throttling is not redelivered while a first attempt may still run.
VISIBILITY_TIMEOUT = Duration.seconds(6 * int(SIZING[FANOUT_FUNCTION].timeout.to_seconds()))
DEAD_LETTER_RETENTION = Duration.days(14)  # SQS's maximum: two weeks to look at, and redrive, what failed


class FanoutQueue(Construct):
    """Created before the functions (they read its URL); `subscribe` wires the fan-out function in afterwards."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            # SQS's own key (SSE-SQS): encrypted at rest with no KMS key to pay for, and no kms:Decrypt to grant.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=FANOUT_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=FANOUT_MAX_RECEIVE_COUNT, queue=self.dead_letters),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description="Fan-out jobs failed every delivery and are in the dead-letter queue: pushes to big "
            "rooms were lost (clients catch up with history). Inspect, fix, then redrive.",
            metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    @property
    def url(self) -> str:
        return self.queue.queue_url

    @property
    def arn(self) -> str:
        return self.queue.queue_arn

    def subscribe(self, function: aws_lambda.IFunction) -> aws_lambda.EventSourceMapping:
        """The fan-out function's event source mapping. Its role's rights to consume come from infra/access.py
        (the three actions Lambda's poller needs), not from `SqsEventSource`, which grants more."""
        return aws_lambda.EventSourceMapping(
            self,
            "EventSource",
            target=function,
            event_source_arn=self.queue.queue_arn,
            batch_size=FANOUT_BATCH_SIZE,
            max_batching_window=FANOUT_MAX_BATCHING_WINDOW,
            max_concurrency=FANOUT_MAX_CONCURRENCY,
            report_batch_item_failures=True,
        )
