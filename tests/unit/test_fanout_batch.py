"""`handle_fanout_batch`: one job per SQS record, failures reported per record (ReportBatchItemFailures), bodies
never logged. The service is a stub here; the local stack's tests run the real one behind the poller."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat import lambda_app
from chat.errors import EnqueueFailed
from chat.ports import FanoutJob, LiveConnection, RoomConnection

SECRET = "the secret content of a message"


class StubService:
    def __init__(self, fail_rooms: dict[str, Exception] | None = None) -> None:
        self.jobs: list[FanoutJob] = []
        self.fail_rooms = fail_rooms or {}

    def fan_out(self, job: FanoutJob) -> None:
        self.jobs.append(job)
        if job.room_id in self.fail_rooms:
            raise self.fail_rooms[job.room_id]


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> StubService:
    stub = StubService()
    monkeypatch.setattr(lambda_app, "chat_service", lambda: stub)
    return stub


def record(message_id: str, body: str, receive_count: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1800000000000"},
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:chat-fanout",
        "awsRegion": "us-east-1",
    }


def job(room_id: str, **kwargs: Any) -> FanoutJob:
    return FanoutJob(room_id=room_id, payload=json.dumps({"type": "message", "content": SECRET}), **kwargs)


def test_every_job_is_fanned_out_and_none_reported_when_all_succeed(service: StubService) -> None:
    jobs = [
        job("a"),
        job("b", after_connection_id="c9", attempt=2),
        job("c", retry=(RoomConnection("u", LiveConnection("x", 9)),)),
    ]
    result = lambda_app.handle_fanout_batch({"Records": [record(str(i), j.to_json()) for i, j in enumerate(jobs)]})
    assert result == {"batchItemFailures": []}
    assert service.jobs == jobs


def test_only_the_records_whose_job_raised_are_reported(service: StubService) -> None:
    service.fail_rooms = {"b": EnqueueFailed("queue down"), "d": RuntimeError("unexpected")}
    records = [record(f"m-{room}", job(room).to_json()) for room in "abcd"]
    result = lambda_app.handle_fanout_batch({"Records": records})
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-b"}, {"itemIdentifier": "m-d"}]}
    assert [j.room_id for j in service.jobs] == ["a", "b", "c", "d"], "one failure does not stop the others"


@pytest.mark.parametrize("body", ["not json", "[]", json.dumps({"payload": "p"}), json.dumps({"roomId": "r"}), ""])
def test_a_malformed_body_is_reported_for_the_dead_letter_queue_and_the_rest_go_on(
    service: StubService, body: str
) -> None:
    result = lambda_app.handle_fanout_batch({"Records": [record("bad", body), record("good", job("g").to_json())]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert [j.room_id for j in service.jobs] == ["g"]


def test_an_empty_event_reports_nothing(service: StubService) -> None:
    assert lambda_app.handle_fanout_batch({"Records": []}) == {"batchItemFailures": []}


def test_the_handler_never_logs_a_body(service: StubService, caplog: pytest.LogCaptureFixture) -> None:
    service.fail_rooms = {"b": EnqueueFailed("queue down"), "c": RuntimeError("unexpected")}
    records = [record(f"m-{room}", job(room).to_json()) for room in "abc"]
    records.append(record("bad", '{"payload": "' + SECRET + '"'))
    with caplog.at_level("DEBUG"):
        lambda_app.handle_fanout_batch({"Records": records})
    assert [r.getMessage() for r in caplog.records].count("fan-out job failed: to be redelivered") == 2
    for logged in caplog.records:
        assert SECRET not in repr(vars(logged)) + caplog.text


def test_a_records_log_lines_carry_its_own_keys_not_the_previous_records(
    service: StubService, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys_when_logged: list[dict[str, Any]] = []
    monkeypatch.setattr(
        lambda_app.logger, "error", lambda *a, **k: keys_when_logged.append(dict(lambda_app.logger.get_current_keys()))
    )
    lambda_app.handle_fanout_batch({"Records": [record("m-a", job("a").to_json()), record("bad", "{")]})
    (keys,) = keys_when_logged  # the malformed record's line
    assert keys["messageId"] == "bad" and "roomId" not in keys and "attempt" not in keys
