"""Messages: the send transaction, idempotency and history (the `messages` and `idempotency` tables).

A send commits three small items at once: the room's counter (`lastSeq` moves from n-1 to n, `lastMessage` becomes
a preview of message n), message n, and the (roomId, senderId#clientMsgId) idempotency item. Nothing in it grows
with the room. Membership is checked by the read before (`RoomStore.room_of_member`), not in the commit: a send
racing its own sender's `leaveRoom` by milliseconds may land just after the leave (a ConditionCheck on the member
item would close that window for 2 more write units on every message).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from chat.dynamo.base import (
    CONDITION_FAILED,
    RETRYABLE_REASONS,
    DynamoTables,
    Reason,
    aws_errors,
    log,
    reason_code,
)
from chat.dynamo.items import Item, _message_attributes, _message_from, _n, _names, _preview, _s, _sender_msg_id
from chat.errors import ChatError, Unavailable, not_a_member
from chat.ports import Appended, HistorySlice, MessageDraft, within_bytes
from chat.protocol import PAGE_MAX_BYTES, Message

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# Sends racing for one room: a loser's pause must spread the losers over more than one commit's time, or they
# collide again (20 senders on one room: base 10 ms / cap 200 ms took ~4.5 transactions per message,
# 50 ms / 500 ms ~2.3). A send keeps trying while other senders win the room's next seq: concurrent senders in
# one room are ordinary, so a send gives up (`Unavailable`, retry with the same clientMsgId) only after this
# long, inside the 29 s API Gateway waits for the reply.
SEND_CONTENTION_BUDGET_SECONDS = 25.0
MAX_SEND_ATTEMPTS = 100


class MessageStore:
    """Append a message exactly once per (sender, clientMsgId) with the room's next seq; read history."""

    def __init__(
        self,
        db: DynamoTables,
        *,
        max_send_attempts: int = MAX_SEND_ATTEMPTS,
        send_budget_seconds: float = SEND_CONTENTION_BUDGET_SECONDS,
    ) -> None:
        self._db = db
        self._client = db.client
        self._counters = db.room_counters
        self._messages = db.messages
        self._idempotency = db.idempotency
        self._max_send_attempts = max_send_attempts
        self._send_budget = send_budget_seconds

    def append_message(self, draft: MessageDraft, *, last_seq_hint: int | None = None) -> Appended:
        """One transaction moves the counter's `lastSeq` from n-1 to n, puts message n and the idempotency item
        (roomId, senderId#clientMsgId). A taken key returns the stored message; a moved `lastSeq` (a concurrent
        sender won) retries with the `lastSeq` the failed condition returned, with jittered backoff, for up to
        `send_budget_seconds`; only then `Unavailable`."""
        last_seq = self._last_seq(draft.room_id) if last_seq_hint is None else last_seq_hint
        deadline = self._db.monotonic() + self._send_budget
        for attempt in range(self._max_send_attempts):
            if attempt and self._db.monotonic() >= deadline:
                break
            self._db.backoff(attempt)
            message = draft.stored_as(last_seq + 1)
            try:
                reasons = self._db.try_transact(self._append_items(message, last_seq), "append_message")
            except Unavailable:  # throttled beyond botocore's retries: nothing committed, try again
                continue
            if reasons is None:
                return Appended(message, created=True)
            counter_reason, _, idempotency_reason = _three(reasons)
            if reason_code(idempotency_reason) == CONDITION_FAILED:
                return Appended(self._stored_message(draft, idempotency_reason.get("Item")), created=False)
            if reason_code(counter_reason) == CONDITION_FAILED:
                last_seq = self._last_seq_from(draft.room_id, counter_reason.get("Item"))
            elif not all(reason_code(reason) in RETRYABLE_REASONS | {"None"} for reason in reasons):
                # e.g. message n exists while lastSeq says n-1: retrying cannot fix that.
                log.error("append_message cancelled: %s", [reason_code(r) for r in reasons])
                raise ChatError("storage error")
        raise self._db.unavailable()

    def _append_items(self, message: Message, last_seq: int) -> list[TransactWriteItemTypeDef]:
        attributes = _message_attributes(message)
        return [
            {
                "Update": {
                    "TableName": self._counters,
                    "Key": {"roomId": _s(message.room_id)},
                    "UpdateExpression": "SET #lastSeq = :seq, #lastMessage = :message",
                    "ConditionExpression": "#lastSeq = :lastSeq",  # also false without the counter: no room
                    "ExpressionAttributeNames": _names("lastSeq", "lastMessage"),
                    "ExpressionAttributeValues": {
                        ":seq": _n(message.seq),
                        ":message": {"M": _message_attributes(_preview(message))},
                        ":lastSeq": _n(last_seq),
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": self._messages,
                    "Item": attributes,
                    "ConditionExpression": "attribute_not_exists(#seq)",
                    "ExpressionAttributeNames": _names("seq"),
                }
            },
            {
                "Put": {
                    "TableName": self._idempotency,
                    "Item": {
                        "roomId": _s(message.room_id),
                        "senderMsgId": _s(_sender_msg_id(message.sender_id, message.client_msg_id)),
                        "seq": _n(message.seq),
                        "messageId": _s(message.id),
                    },
                    "ConditionExpression": "attribute_not_exists(#senderMsgId)",
                    "ExpressionAttributeNames": _names("senderMsgId"),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]

    def _last_seq(self, room_id: str) -> int:
        """The counter's lastSeq from a consistent read; `Forbidden` when the room (its counter) does not exist."""
        with aws_errors("append_message"):
            item = self._client.get_item(
                TableName=self._counters, Key={"roomId": _s(room_id)}, ConsistentRead=True
            ).get("Item")
        if not item:
            raise not_a_member(room_id)
        return int(item["lastSeq"]["N"])

    def _last_seq_from(self, room_id: str, counter_item: Mapping[str, Any] | None) -> int:
        """The lastSeq a failed condition returned, else (no item came back) a consistent read."""
        if counter_item and "lastSeq" in counter_item:
            return int(counter_item["lastSeq"]["N"])
        return self._last_seq(room_id)

    def _stored_message(self, draft: MessageDraft, idempotency_item: Mapping[str, Any] | None) -> Message:
        """The message stored before under the draft's (roomId, clientMsgId)."""
        with aws_errors("append_message"):
            if not idempotency_item:
                idempotency_item = self._client.get_item(
                    TableName=self._idempotency,
                    Key={
                        "roomId": _s(draft.room_id),
                        "senderMsgId": _s(_sender_msg_id(draft.sender_id, draft.client_msg_id)),
                    },
                    ConsistentRead=True,
                ).get("Item")
            if not idempotency_item:
                raise ChatError("storage error")
            item = self._client.get_item(
                TableName=self._messages,
                Key={"roomId": _s(draft.room_id), "seq": idempotency_item["seq"]},
                ConsistentRead=True,
            ).get("Item")
        if not item:
            raise ChatError("storage error")
        return _message_from(item)

    def get_messages(self, room_id: str, seqs: Iterable[int], *, consistent: bool = True) -> dict[int, Message]:
        keys: list[Item] = [{"roomId": _s(room_id), "seq": _n(seq)} for seq in dict.fromkeys(seqs)]
        items = self._db.batch_get(self._messages, keys, "get_messages", consistent=consistent)
        return {message.seq: message for message in map(_message_from, items)}

    def history(self, room_id: str, *, before_seq: int | None, after_seq: int | None, limit: int) -> HistorySlice:
        """Up to `limit` messages, ascending: just before `before_seq`, just after `after_seq`, or the latest.

        The page is also cut to PAGE_MAX_BYTES of JSON, dropping the messages farthest from the anchor
        (the oldest of a before/latest page, the newest of an after page); `has_more` then says so.
        """
        values: Item = {":roomId": _s(room_id)}
        key_condition = "#roomId = :roomId"
        if after_seq is not None:
            key_condition += " AND #seq > :after"
            values[":after"] = _n(after_seq)
        elif before_seq is not None:
            key_condition += " AND #seq < :before"
            values[":before"] = _n(before_seq)
        names = _names("roomId", "seq") if len(values) > 1 else _names("roomId")
        with aws_errors("history"):
            page = self._client.query(
                TableName=self._messages,
                KeyConditionExpression=key_condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ScanIndexForward=after_seq is not None,
                Limit=limit + 1,
                # Read-your-writes: a message acked a moment ago must be in the catch-up page.
                ConsistentRead=True,
            )
        found = [_message_from(item) for item in page["Items"]]
        # Limit stops at limit + 1 items; LastEvaluatedKey with fewer means the 1 MB page limit stopped it.
        has_more = len(found) > limit or "LastEvaluatedKey" in page
        kept = within_bytes(found[:limit], PAGE_MAX_BYTES)
        has_more = has_more or len(kept) < min(len(found), limit)
        if after_seq is None:
            kept.reverse()
        return HistorySlice(kept, has_more)


def _three(reasons: list[Reason]) -> tuple[Reason, Reason, Reason]:
    counter, message, idempotency = [*reasons, {}, {}, {}][:3]
    return counter, message, idempotency
