"""Flood control's storage: one GCRA bucket per user (the `rate_limits` table; the arithmetic is `chat.flood`),
and one typing slot per big room (`claim_room_typing`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from chat.dynamo.base import DynamoTables, aws_errors, error_code
from chat.dynamo.items import _int, _n, _names, _s
from chat.flood import FrameBudget

RATE_LIMIT_TTL_SLACK_SECONDS = 60


class RateLimitStore:
    """Counts a user's frames against their budget, without a read in the common case and without races."""

    def __init__(self, db: DynamoTables) -> None:
        self._client = db.client
        self._rate_limits = db.rate_limits

    def count_frame(self, user_id: str, now: float, limit: int, window_seconds: int) -> int | None:
        """GCRA (`chat.flood`) in at most two conditional writes, neither of which can lose a race.

        A rested user (stored TAT in the past, or none): SET the TAT to now + interval. Mid-burst (the first
        condition failed and returned the TAT): ADD the interval, on condition that the result stays within one
        window of now. DynamoDB applies each update atomically to the current item, so concurrent frames of one
        user never overdraw the budget and never need a retry; a refusal writes nothing.
        """
        budget = FrameBudget(limit, window_seconds)
        now_ms = math.floor(now * 1000)
        ttl = _n(budget.expires_at(now_ms + budget.window_ms) + RATE_LIMIT_TTL_SLACK_SECONDS)
        rested = {
            "UpdateExpression": "SET #tat = :tat, #ttl = :ttl",
            "ConditionExpression": "attribute_not_exists(#tat) OR #tat < :now",
            "ExpressionAttributeValues": {":tat": _n(now_ms + budget.interval_ms), ":ttl": ttl, ":now": _n(now_ms)},
        }
        mid_burst = {
            "UpdateExpression": "ADD #tat :interval SET #ttl = :ttl",
            "ConditionExpression": "#tat <= :latest",
            "ExpressionAttributeValues": {
                ":interval": _n(budget.interval_ms),
                ":ttl": ttl,
                ":latest": _n(now_ms + budget.window_ms - budget.interval_ms),
            },
        }
        stored_tat: int | None = None
        for update in (rested, mid_burst):
            with aws_errors("count_frame"):
                try:
                    self._client.update_item(
                        TableName=self._rate_limits,
                        Key={"bucket": _s(user_id)},
                        ExpressionAttributeNames=_names("tat", "ttl"),
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                        **update,  # type: ignore[arg-type]
                    )
                    return None
                except ClientError as exc:
                    if error_code(exc) != "ConditionalCheckFailedException":
                        raise
                    returned: Any = exc.response.get("Item")  # ALL_OLD: the item as the condition saw it
                    stored_tat = self._stored_tat(user_id, returned)
            admission = budget.admit(stored_tat, now_ms)
            if admission.next_tat_ms is None:
                return admission.retry_after_ms
        # Only when the item expired (TTL) between our two writes: refuse this one frame for one interval.
        return budget.interval_ms

    def _stored_tat(self, user_id: str, item: Mapping[str, Any] | None) -> int:
        """The TAT from the item a failed condition returned, else a consistent read; 0 without one."""
        if not item:
            with aws_errors("count_frame"):
                item = self._client.get_item(
                    TableName=self._rate_limits, Key={"bucket": _s(user_id)}, ConsistentRead=True
                ).get("Item", {})
        return _int(item, "tat") if "tat" in item else 0

    def claim_room_typing(self, room_id: str, now: float, interval_seconds: float) -> bool:
        """One conditional write: True for the first typing frame of the room in each interval (a refusal
        writes nothing), so a big room gets at most one typing push per interval, however many type."""
        now_ms = math.floor(now * 1000)
        until_ms = now_ms + math.ceil(interval_seconds * 1000)
        with aws_errors("claim_room_typing"):
            try:
                self._client.update_item(
                    TableName=self._rate_limits,
                    Key={"bucket": _s(f"typing#{room_id}")},
                    UpdateExpression="SET #tat = :until, #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(#tat) OR #tat <= :now",
                    ExpressionAttributeNames=_names("tat", "ttl"),
                    ExpressionAttributeValues={
                        ":until": _n(until_ms),
                        ":now": _n(now_ms),
                        ":ttl": _n(until_ms // 1000 + RATE_LIMIT_TTL_SLACK_SECONDS),
                    },
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                return False
        return True
