"""The fan-out queue in the template: encrypted, TLS only, a dead-letter queue with its alarm, and the fan-out
function's event source mapping with partial batch failures."""

from __future__ import annotations

from typing import Any

from cdk_template import references
from stack_synth import Synth

from chat.routes import FANOUT_FUNCTION
from infra.constants import (
    FANOUT_BATCH_SIZE,
    FANOUT_MAX_CONCURRENCY,
    FANOUT_MAX_RECEIVE_COUNT,
    RESERVED_CONCURRENCY,
    SIZING,
)


def _queues(synth: Synth) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    queue_id = synth.logical_id(synth.stack.fanout.queue)
    dlq_id = synth.logical_id(synth.stack.fanout.dead_letters)
    return queue_id, synth.resources[queue_id]["Properties"], dlq_id, synth.resources[dlq_id]["Properties"]


def test_the_queue_and_its_dead_letter_queue_are_encrypted_and_refuse_plain_http(cognito: Synth) -> None:
    queue_id, queue, dlq_id, dlq = _queues(cognito)
    assert len(cognito.of_type("AWS::SQS::Queue")) == 2
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True
    policies = cognito.of_type("AWS::SQS::QueuePolicy").values()
    for queue_ref in (queue_id, dlq_id):
        (policy,) = [p for p in policies if {"Ref": queue_ref} in p["Properties"]["Queues"]]
        (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_visibility_timeout_is_six_times_the_function_timeout_and_five_receives_lead_to_the_dlq(
    cognito: Synth,
) -> None:
    _, queue, dlq_id, dlq = _queues(cognito)
    timeout = SIZING[FANOUT_FUNCTION].timeout.to_seconds()
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"]["maxReceiveCount"] == FANOUT_MAX_RECEIVE_COUNT == 5
    assert list(references(queue["RedrivePolicy"]["deadLetterTargetArn"])) == [dlq_id]
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_fanout_function_consumes_the_queue_with_partial_batch_failures(cognito: Synth) -> None:
    queue_id, *_ = _queues(cognito)
    function_id = cognito.logical_id(cognito.stack.functions.by_name[FANOUT_FUNCTION])
    (mapping,) = [
        m["Properties"]
        for m in cognito.of_type("AWS::Lambda::EventSourceMapping").values()
        if list(references(m["Properties"]["FunctionName"])) == [function_id]
    ]
    assert list(references(mapping["EventSourceArn"])) == [queue_id]
    assert mapping["BatchSize"] == FANOUT_BATCH_SIZE == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": FANOUT_MAX_CONCURRENCY}
    assert mapping.get("MaximumBatchingWindowInSeconds", 0) == 0
    # Lambda's rule: a maximum concurrency above the reserved concurrency would only throttle.
    assert RESERVED_CONCURRENCY[FANOUT_FUNCTION] >= FANOUT_MAX_CONCURRENCY


def test_an_alarm_fires_on_any_message_in_the_dead_letter_queue(cognito: Synth) -> None:
    _, _, dlq_id, _ = _queues(cognito)
    (alarm,) = [
        a["Properties"]
        for a in cognito.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    ]
    assert alarm["Namespace"] == "AWS/SQS" and alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    (dimension,) = alarm["Dimensions"]
    assert dimension["Name"] == "QueueName" and list(references(dimension["Value"])) == [dlq_id]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"


def test_every_function_is_told_the_queue_url(cognito: Synth) -> None:
    queue_id, *_ = _queues(cognito)
    for name, function in cognito.stack.functions.by_name.items():
        variables = cognito.resources[cognito.logical_id(function)]["Properties"]["Environment"]["Variables"]
        assert variables["FANOUT_QUEUE_URL"] == {"Ref": queue_id}, name
