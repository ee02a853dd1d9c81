"""Rooms and their members (the `rooms` and `memberships` tables).

Today a room's members are the String Set `memberIds` on the room item (the truth: every membership check is a
condition on it) plus one membership item per (user, room), so that `rooms_of` is a Query. Issue 9 turns members
into items of their own; the set, and the conditions and reads on it, are what will change here and in the send
transaction (`chat.dynamo.messages`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from chat.dynamo.base import DynamoTables, aws_errors
from chat.dynamo.items import Item, _iso, _names, _room_from, _room_item, _s, _ss
from chat.errors import BadRequest, ChatError, Forbidden, not_a_member
from chat.ports import RoomRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

MAX_TRANSACTION_ITEMS = 100


class RoomStore:
    """Rooms and memberships: create, add and remove members, a user's rooms."""

    def __init__(self, db: DynamoTables) -> None:
        self._db = db
        self._client = db.client
        self._rooms = db.rooms
        self._memberships = db.memberships

    def get_room(self, room_id: str) -> RoomRecord | None:
        with aws_errors("get_room"):
            item = self._client.get_item(TableName=self._rooms, Key={"roomId": _s(room_id)}, ConsistentRead=True).get(
                "Item"
            )
        return _room_from(item) if item else None

    def create_room(self, room: RoomRecord) -> RoomRecord:
        """One transaction puts the room (if its id is new) and the members' membership items.

        Beyond one transaction's 100 items, the extra memberships are written first: should the process stop
        in between, a membership without its room is harmless (`rooms_of` skips it), a room without its
        memberships is not (a member would not find it).
        """
        room = replace(room, last_seq=0, last_message=None)
        members = sorted(room.member_ids)
        in_transaction, extra = members[: MAX_TRANSACTION_ITEMS - 1], members[MAX_TRANSACTION_ITEMS - 1 :]
        self._write_memberships(room.id, extra, room.created_at)
        put_room: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._rooms,
                "Item": _room_item(room),
                "ConditionExpression": "attribute_not_exists(#roomId)",
                "ExpressionAttributeNames": _names("roomId"),
            }
        }
        reasons = self._db.transact(
            [put_room, *self._membership_updates(room.id, in_transaction, room.created_at)], "create_room"
        )
        if not reasons:
            return room
        stored = self.get_room(room.id)
        if stored is None:  # the condition failed on a room that is not there: nothing deletes rooms
            raise ChatError("storage error")
        return stored

    def add_members(self, room_id: str, by_user_id: str, user_ids: Iterable[str]) -> RoomRecord:
        """Add users to a group room `by_user_id` belongs to, else `Forbidden` (no such room, not a member, or a
        direct room). Already-members keep their `joinedAt`."""
        newcomers = sorted(set(user_ids))
        if not newcomers:
            raise BadRequest("memberIds: nobody to add")
        in_transaction, extra = newcomers[: MAX_TRANSACTION_ITEMS - 1], newcomers[MAX_TRANSACTION_ITEMS - 1 :]
        joined_at = _iso(self._db.clock())
        update_room: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._rooms,
                "Key": {"roomId": _s(room_id)},
                "UpdateExpression": "ADD #memberIds :newcomers",
                "ConditionExpression": "attribute_exists(#roomId) AND contains(#memberIds, :by) AND #isGroup = :true",
                "ExpressionAttributeNames": _names("memberIds", "roomId", "isGroup"),
                "ExpressionAttributeValues": {
                    ":newcomers": _ss(newcomers),
                    ":by": _s(by_user_id),
                    ":true": {"BOOL": True},
                },
            }
        }
        if self._db.transact(
            [update_room, *self._membership_updates(room_id, in_transaction, joined_at)], "add_members"
        ):
            raise self._membership_refused(room_id, by_user_id)
        # Only after the room said yes: a membership must never exist for someone the room refused.
        self._write_memberships(room_id, extra, joined_at)
        return self.require_room(room_id)

    def remove_member(self, room_id: str, user_id: str) -> RoomRecord:
        """Take `user_id` out of the room, else `Forbidden` (no such room, or not a member)."""
        update_room: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._rooms,
                "Key": {"roomId": _s(room_id)},
                "UpdateExpression": "DELETE #memberIds :leaver",
                "ConditionExpression": "attribute_exists(#roomId) AND contains(#memberIds, :userId)",
                "ExpressionAttributeNames": _names("memberIds", "roomId"),
                "ExpressionAttributeValues": {":leaver": _ss([user_id]), ":userId": _s(user_id)},
            }
        }
        delete_membership: TransactWriteItemTypeDef = {
            "Delete": {"TableName": self._memberships, "Key": {"userId": _s(user_id), "roomId": _s(room_id)}}
        }
        if self._db.transact([update_room, delete_membership], "remove_member"):
            raise self._membership_refused(room_id, user_id)
        return self.require_room(room_id)

    def rooms_of(self, user_id: str) -> list[RoomRecord]:
        """The user's rooms, ordered by id."""
        request: QueryInputTypeDef = {
            "TableName": self._memberships,
            "KeyConditionExpression": "#userId = :userId",
            "ProjectionExpression": "#roomId",
            "ExpressionAttributeNames": _names("userId", "roomId"),
            "ExpressionAttributeValues": {":userId": _s(user_id)},
            "ConsistentRead": True,
        }
        room_keys: list[Item] = []
        while True:
            with aws_errors("rooms_of"):
                page = self._client.query(**request)
            room_keys.extend({"roomId": item["roomId"]} for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        rooms = (_room_from(item) for item in self._db.batch_get(self._rooms, room_keys, "rooms_of"))
        # The room's member set is the truth; a membership item can outlive it (see create_room).
        return sorted((room for room in rooms if user_id in room.member_ids), key=lambda room: room.id)

    def _membership_updates(
        self, room_id: str, user_ids: Iterable[str], joined_at: str
    ) -> list[TransactWriteItemTypeDef]:
        return [
            {
                "Update": {
                    "TableName": self._memberships,
                    "Key": {"userId": _s(user_id), "roomId": _s(room_id)},
                    "UpdateExpression": "SET #joinedAt = if_not_exists(#joinedAt, :joinedAt)",
                    "ExpressionAttributeNames": _names("joinedAt"),
                    "ExpressionAttributeValues": {":joinedAt": _s(joined_at)},
                }
            }
            for user_id in user_ids
        ]

    def _write_memberships(self, room_id: str, user_ids: Sequence[str], joined_at: str) -> None:
        for start in range(0, len(user_ids), MAX_TRANSACTION_ITEMS):
            chunk = user_ids[start : start + MAX_TRANSACTION_ITEMS]
            self._db.transact(self._membership_updates(room_id, chunk, joined_at), "write_memberships")

    def _membership_refused(self, room_id: str, user_id: str) -> ChatError:
        """Why a room's membership condition failed, from one consistent read."""
        room = self.get_room(room_id)
        if room is None or user_id not in room.member_ids:
            return not_a_member(room_id)
        return Forbidden("members cannot be added to a direct room")

    def require_room(self, room_id: str) -> RoomRecord:
        """The room, from a consistent read; a missing room is refused as one the caller is not a member of."""
        room = self.get_room(room_id)
        if room is None:
            raise not_a_member(room_id)
        return room
