"""What members have read: each member's read marker (`readSeq` on the `memberships` item) and the rooms' counters.

The marker lives on the user -> room item, which is written and deleted in the same transaction as the member
item (see `chat.dynamo.rooms`): moving it is one conditional UpdateItem that is also the membership check, and a
user's rooms come with their markers from the one Query that lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from chat.dynamo.base import DynamoTables, aws_errors
from chat.dynamo.items import Item, _int, _n, _names, _opt_int, _room_from, _s, _str
from chat.errors import not_a_member
from chat.ports import MemberRoom, ReadMarker, ReadState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class ReadMarkers:
    """A user's rooms with their markers; moving a marker; the markers and counters `sync` compares."""

    def __init__(self, db: DynamoTables) -> None:
        self._db = db
        self._client: DynamoDBClient = db.client
        self._rooms = db.rooms
        self._counters = db.room_counters
        self._memberships = db.memberships

    def rooms_of(self, user_id: str) -> list[MemberRoom]:
        """The user's rooms with their counters and the user's marker, ordered by id (consistent: a room just
        created or written to is listed as it now is)."""
        memberships = self._db.memberships_of(user_id)
        keys: list[Item] = [{"roomId": _s(room_id)} for room_id in memberships]
        counters = {_str(item, "roomId"): item for item in self._db.batch_get(self._counters, keys, "rooms_of")}
        rooms = [
            _room_from(item, counters.get(_str(item, "roomId")))
            for item in self._db.batch_get(self._rooms, keys, "rooms_of")
        ]
        return [MemberRoom(room, *memberships[room.id]) for room in sorted(rooms, key=lambda room: room.id)]

    def mark_read(self, room_id: str, user_id: str, seq: int) -> ReadMarker:
        """Move the marker forward to `seq`, capped at the room's lastSeq: one consistent read of the counter and
        one conditional write of the memberships item, which fails, writing nothing, for a non-member or a marker
        already there (then the stored marker is the answer)."""
        with aws_errors("mark_read"):
            counter = self._client.get_item(
                TableName=self._counters, Key={"roomId": _s(room_id)}, ConsistentRead=True
            ).get("Item")
        if not counter:
            raise not_a_member(room_id)
        target = max(0, min(seq, _int(counter, "lastSeq")))
        with aws_errors("mark_read"):
            try:
                self._client.update_item(
                    TableName=self._memberships,
                    Key={"userId": _s(user_id), "roomId": _s(room_id)},
                    UpdateExpression="SET #readSeq = :target",
                    ConditionExpression="attribute_exists(#roomId) AND "
                    "(attribute_not_exists(#readSeq) OR #readSeq < :target)",
                    ExpressionAttributeNames=_names("readSeq", "roomId"),
                    ExpressionAttributeValues={":target": _n(target)},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except self._client.exceptions.ConditionalCheckFailedException as exc:
                old = cast("Item | None", exc.response.get("Item"))
                if not old:
                    raise not_a_member(room_id) from exc
                return ReadMarker(_opt_int(old, "readSeq"), moved=False)
        return ReadMarker(target, moved=True)

    def read_states(self, user_id: str, room_ids: Iterable[str]) -> dict[str, ReadState]:
        """The user's markers from the one consistent Query that lists their rooms (a Query rounds the units up
        once for all its small items, where a batch read rounds each key up: 1 read unit for 40 rooms, not 40),
        then a consistent BatchGetItem of the asked rooms' counters; rooms the user is not in are left out."""
        read_seqs = self._db.read_seqs_of(user_id)
        wanted = [room_id for room_id in dict.fromkeys(room_ids) if room_id in read_seqs]
        keys: list[Item] = [{"roomId": _s(room_id)} for room_id in wanted]
        counters = {_str(item, "roomId"): item for item in self._db.batch_get(self._counters, keys, "read_states")}
        return {
            room_id: ReadState(
                room_id,
                _opt_int(counters[room_id], "lastSeq"),
                _opt_int(counters[room_id], "lastVersion"),
                read_seqs[room_id],
            )
            for room_id in wanted
            if room_id in counters
        }

    def read_marks(self, room_id: str, user_ids: Iterable[str]) -> dict[str, int]:
        """The members' markers, eventually consistent (half the read units: a marker a second old is fine for
        showing who has read what); users who are not members are left out."""
        keys: list[Item] = [{"userId": _s(user_id), "roomId": _s(room_id)} for user_id in dict.fromkeys(user_ids)]
        items = self._db.batch_get(self._memberships, keys, "read_marks", consistent=False)
        return {_str(item, "userId"): _opt_int(item, "readSeq") for item in items}
