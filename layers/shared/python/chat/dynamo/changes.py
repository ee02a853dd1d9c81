"""Changes of stored messages: edits, deletes, reactions (the `message_changes` and `reactions` tables).

Every change of a room's messages takes the room's next change number from the counter item (`lastVersion`) and
commits, in one transaction: the counter (`lastVersion` moves from v to v+1, conditioned on v: the lock that
orders a room's changes), the message's new state with `version` v+1, the change-feed entry (roomId, v+1) -> seq,
and, for a reaction, the changer's own reaction item. The feed then lists every change in commit order, and a
message's `version` says which of its entries is its last. Sends write the counter too (`lastSeq`), so a change
and a send of one room may cancel each other's transaction (TransactionConflict): both sides read again and retry.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chat.dynamo.base import CONDITION_FAILED, RETRYABLE_REASONS, DynamoTables, aws_errors, log, reason_code
from chat.dynamo.items import (
    Item,
    _int,
    _message_attributes,
    _message_from,
    _n,
    _names,
    _opt_int,
    _preview,
    _room_user,
    _s,
    _ss,
    _str_set,
)
from chat.dynamo.messages import MAX_SEND_ATTEMPTS, SEND_CONTENTION_BUDGET_SECONDS
from chat.errors import ChatError, NotFound, Unavailable
from chat.ports import Changed, ChangesSlice, Decide, Revision, within_bytes
from chat.protocol import PAGE_MAX_BYTES, Message

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mypy_boto3_dynamodb.type_defs import PutTypeDef, TransactWriteItemTypeDef, UpdateTypeDef


class ChangeStore:
    """Change a message with the room's next change number; read the change feed and a user's own reactions."""

    def __init__(
        self,
        db: DynamoTables,
        *,
        max_attempts: int = MAX_SEND_ATTEMPTS,
        budget_seconds: float = SEND_CONTENTION_BUDGET_SECONDS,
    ) -> None:
        self._db = db
        self._counters = db.room_counters
        self._messages = db.messages
        self._changes = db.message_changes
        self._reactions = db.reactions
        self._max_attempts = max_attempts
        self._budget = budget_seconds

    def change_message(self, room_id: str, seq: int, user_id: str, decide: Decide) -> Changed:
        """Read, decide, commit; while other changes or sends of the room win the counter, read again and decide
        again (reactions count from the state that wins), with jittered backoff, as a send does; `Unavailable`
        once the contention outlasts the budget."""
        deadline = self._db.monotonic() + self._budget
        for attempt in range(self._max_attempts):
            if attempt and self._db.monotonic() >= deadline:
                break
            self._db.backoff(attempt)
            last_seq, last_version, message, mine = self._read(room_id, seq, user_id)
            revision = decide(message, mine)
            if revision is None:
                return Changed(message, False, mine)
            stored = _stored(revision.message, room_id, seq, last_version + 1)
            items = self._change_items(stored, message.version, last_seq, last_version, user_id, revision)
            try:
                reasons = self._db.try_transact(items, "change_message")
            except Unavailable:  # throttled beyond botocore's retries: nothing committed, try again
                continue
            if reasons is None:
                return Changed(stored, True, mine if revision.my_reactions is None else revision.my_reactions)
            codes = {reason_code(reason) for reason in reasons}
            if not codes <= RETRYABLE_REASONS | {CONDITION_FAILED, "None"}:
                log.error("change_message cancelled: %s", sorted(codes))
                raise ChatError("storage error")
            # A failed condition: another change (or a send, for the last message) came first. Read again.
        raise self._db.unavailable()

    def _read(self, room_id: str, seq: int, user_id: str) -> tuple[int, int, Message, frozenset[str]]:
        """One consistent BatchGetItem: the counter, the message and the user's reaction item on it."""
        found = self._db.batch_get_one_each(
            {
                self._counters: ({"roomId": _s(room_id)}, True),
                self._messages: ({"roomId": _s(room_id), "seq": _n(seq)}, True),
                self._reactions: (self._reaction_key(room_id, user_id, seq), True),
            },
            "change_message",
        )
        if self._counters not in found or self._messages not in found:
            raise NotFound("no such message")
        counter = found[self._counters]
        mine = _str_set(found.get(self._reactions, {}), "emojis")
        return _int(counter, "lastSeq"), _opt_int(counter, "lastVersion"), _message_from(found[self._messages]), mine

    def _change_items(
        self, stored: Message, read_version: int, last_seq: int, last_version: int, user_id: str, revision: Revision
    ) -> list[TransactWriteItemTypeDef]:
        """The counter moved to the next change number, the message, the feed entry and the changer's reactions."""
        items: list[TransactWriteItemTypeDef] = [
            {"Update": self._counter_update(stored, last_seq, last_version)},
            {"Put": self._message_put(stored, read_version)},
            {
                "Put": {
                    "TableName": self._changes,
                    "Item": {"roomId": _s(stored.room_id), "version": _n(stored.version), "seq": _n(stored.seq)},
                    "ConditionExpression": "attribute_not_exists(#version)",
                    "ExpressionAttributeNames": _names("version"),
                }
            },
        ]
        if revision.my_reactions is not None:
            key = self._reaction_key(stored.room_id, user_id, stored.seq)
            if revision.my_reactions:
                item = {**key, "emojis": _ss(revision.my_reactions)}
                items.append({"Put": {"TableName": self._reactions, "Item": item}})
            else:  # DynamoDB has no empty set: no reactions left, no item
                items.append({"Delete": {"TableName": self._reactions, "Key": key}})
        return items

    def _counter_update(self, stored: Message, last_seq: int, last_version: int) -> UpdateTypeDef:
        """`lastVersion` from the number read to the next: the lock that orders the room's changes."""
        values: Item = {":next": _n(stored.version)}
        update = "SET #lastVersion = :next"
        if last_version:
            condition = "#lastVersion = :version"
            values[":version"] = _n(last_version)
        else:  # attribute_exists: never create a counter (a room) that is not there
            condition = "attribute_exists(#lastSeq) AND attribute_not_exists(#lastVersion)"
        if stored.seq == last_seq:
            # The room list shows the last message: it must not keep an edited or deleted message's old text. A
            # send that comes first makes this one no longer the last (the condition fails: read again).
            update += ", #lastMessage = :preview"
            condition += " AND #lastSeq = :seq"
            values.update({":preview": {"M": _message_attributes(_preview(stored))}, ":seq": _n(stored.seq)})
        return {
            "TableName": self._counters,
            "Key": {"roomId": _s(stored.room_id)},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": _names_in(update, condition),
            "ExpressionAttributeValues": values,
        }

    def _message_put(self, stored: Message, read_version: int) -> PutTypeDef:
        """The whole new state, on the condition that the message is still as read (absent version: never
        changed)."""
        item = _message_attributes(stored)
        if not read_version:
            condition = "attribute_exists(#seq) AND attribute_not_exists(#version)"
            return {
                "TableName": self._messages,
                "Item": item,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": _names_in(condition),
            }
        put: PutTypeDef = {
            "TableName": self._messages,
            "Item": item,
            "ConditionExpression": "#version = :read",
            "ExpressionAttributeNames": _names("version"),
            "ExpressionAttributeValues": {":read": _n(read_version)},
        }
        return put

    def changes(self, room_id: str, *, after_version: int, limit: int) -> ChangesSlice:
        """The next `limit` feed entries (one consistent Query) and their messages (one consistent BatchGetItem):
        a message is listed at the entry of its last change only, so once per page and once across pages."""
        with aws_errors("changes"):
            page = self._db.client.query(
                TableName=self._changes,
                KeyConditionExpression="#roomId = :roomId AND #version > :after",
                ExpressionAttributeNames=_names("roomId", "version"),
                ExpressionAttributeValues={":roomId": _s(room_id), ":after": _n(after_version)},
                ScanIndexForward=True,
                Limit=limit + 1,
                ConsistentRead=True,
            )
        entries = [(_int(item, "version"), _int(item, "seq")) for item in page["Items"]]
        has_more = len(entries) > limit or "LastEvaluatedKey" in page
        entries = entries[:limit]
        keys: list[Item] = [{"roomId": _s(room_id), "seq": _n(seq)} for seq in dict.fromkeys(s for _, s in entries)]
        current = {
            message.seq: message for message in map(_message_from, self._db.batch_get(self._messages, keys, "changes"))
        }
        listed = [current[seq] for version, seq in entries if seq in current and current[seq].version == version]
        kept = within_bytes(listed, PAGE_MAX_BYTES)
        if len(kept) < len(listed):  # cut to fit one API Gateway message: the next page starts after the last kept
            return ChangesSlice(kept, kept[-1].version, True)
        return ChangesSlice(kept, entries[-1][0] if entries else after_version, has_more)

    def my_reactions(self, room_id: str, user_id: str, seqs: Iterable[int]) -> dict[int, frozenset[str]]:
        keys = [self._reaction_key(room_id, user_id, seq) for seq in dict.fromkeys(seqs)]
        return {
            _int(item, "seq"): _str_set(item, "emojis")
            for item in self._db.batch_get(self._reactions, keys, "my_reactions")
        }

    @staticmethod
    def _reaction_key(room_id: str, user_id: str, seq: int) -> Item:
        return {"roomUser": _s(_room_user(room_id, user_id)), "seq": _n(seq)}


def _stored(message: Message, room_id: str, seq: int, version: int) -> Message:
    """The message as the store keeps it (and reads it back): its keys, the new change number, nothing that
    depends on the reader."""
    revised = message.model_copy(update={"room_id": room_id, "seq": seq, "version": version})
    return _message_from(_message_attributes(revised))


def _names_in(*expressions: str) -> dict[str, str]:
    """The placeholders these expressions use, and only those: DynamoDB refuses unused ones."""
    return _names(*dict.fromkeys(re.findall(r"#(\w+)", " ".join(expressions))))
