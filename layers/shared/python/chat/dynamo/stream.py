"""New messages from the `messages` table's stream (DynamoDB Streams records, as Lambda's event source mapping
delivers them and as the local stack's poller reads them): inserts only, in the stream's order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chat.dynamo.items import _message_from
from chat.protocol import Message


def new_messages(records: Iterable[Mapping[str, Any]]) -> list[Message]:
    """The messages the INSERT records carry (edits and deletes are MODIFY records: never a notification)."""
    return [
        _message_from(record["dynamodb"]["NewImage"])
        for record in records
        if record.get("eventName") == "INSERT" and "NewImage" in record.get("dynamodb", {})
    ]
