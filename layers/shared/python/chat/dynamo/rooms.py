"""Rooms and their members (the `rooms`, `room_counters`, `members` and `memberships` tables).

A member is two items written in one transaction: (roomId, userId) in `members`, the truth every member action
checks, and (userId, roomId) in `memberships`, so that a user's rooms are a Query too. The room item holds no
member list: only `memberCount`, the first 100 member ids by id (what a room frame shows) and the admins
(`adminIds`), kept exact by an optimistic lock (`version`) that every member change moves; when the last admin
leaves a group that still has members, the first remaining member by id becomes its admin in the same update.
The counter item (`room_counters`) is the only room item a send writes (see `chat.dynamo.messages`); it is created
with the room, so a missing counter is a missing room.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chat.dynamo.base import CONDITION_FAILED, DynamoTables, Reason, aws_errors, reason_code
from chat.dynamo.items import (
    Item,
    _iso,
    _member_item,
    _n,
    _names,
    _room_from,
    _room_item,
    _s,
    _ss,
    _str,
    _user_from,
    _version,
)
from chat.errors import BadRequest, ChatError, Forbidden, not_a_member
from chat.ports import MemberView, RoomRecord
from chat.protocol import ROOM_MEMBER_IDS_SHOWN

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from chat.dynamo.live import LiveIndex

MAX_TRANSACTION_ITEMS = 100
# A member change writes the room item and a check besides two items per member.
MEMBERS_PER_TRANSACTION = (MAX_TRANSACTION_ITEMS - 2) // 2
# Member changes racing for one room (each moves its version): a loser reads the room again and retries.
MAX_MEMBER_CHANGE_ATTEMPTS = 8


class RoomStore:
    """Rooms and members: create, add and remove members, a member's view of a room, a user's rooms."""

    def __init__(self, db: DynamoTables, live: LiveIndex) -> None:
        self._db = db
        self._live = live
        self._client = db.client
        self._rooms = db.rooms
        self._counters = db.room_counters
        self._members = db.members
        self._memberships = db.memberships

    # ------------------------------------------------------------------------------------------------- reads

    def get_room(self, room_id: str) -> RoomRecord | None:
        item = self._room_item(room_id)
        return _room_from(item) if item else None

    def require_room(self, room_id: str) -> RoomRecord:
        """The room, from a consistent read; a missing room is refused as one the caller is not a member of."""
        return self._versioned_room(room_id)[0]

    def _versioned_room(self, room_id: str) -> tuple[RoomRecord, int]:
        item = self._room_item(room_id)
        if not item:
            raise not_a_member(room_id)
        return _room_from(item), _version(item)

    def _room_item(self, room_id: str) -> Item | None:
        with aws_errors("get_room"):
            return self._client.get_item(TableName=self._rooms, Key={"roomId": _s(room_id)}, ConsistentRead=True).get(
                "Item"
            )

    def get_rooms(self, room_ids: Iterable[str]) -> list[RoomRecord]:
        keys: list[Item] = [{"roomId": _s(room_id)} for room_id in dict.fromkeys(room_ids)]
        return [_room_from(item) for item in self._db.batch_get(self._rooms, keys, "get_rooms", consistent=False)]

    def room_of_member(self, room_id: str, user_id: str) -> MemberView:
        """One BatchGetItem: the membership and the counter (consistent: a member added a moment ago may act at
        once, and a stale lastSeq would cost a failed transaction), the room and the member's profile (eventually
        consistent, half the read units: a name or a member count a second old changes nothing)."""
        found = self._db.batch_get_one_each(
            {
                self._rooms: ({"roomId": _s(room_id)}, False),
                self._counters: ({"roomId": _s(room_id)}, True),
                self._members: ({"roomId": _s(room_id), "userId": _s(user_id)}, True),
                self._db.users: ({"userId": _s(user_id)}, False),
            },
            "room_of_member",
        )
        if self._rooms not in found or self._members not in found:
            raise not_a_member(room_id)
        profile = found.get(self._db.users)
        return MemberView(
            _room_from(found[self._rooms], found.get(self._counters)),
            _user_from(profile) if profile else None,
        )

    def require_member(self, room_id: str, user_id: str) -> None:
        with aws_errors("require_member"):
            item = self._client.get_item(
                TableName=self._members,
                Key={"roomId": _s(room_id), "userId": _s(user_id)},
                ConsistentRead=True,
            ).get("Item")
        if not item:
            raise not_a_member(room_id)

    def member_ids(self, room_id: str, *, after: str | None, limit: int) -> list[str]:
        condition = "#roomId = :roomId" + (" AND #userId > :after" if after is not None else "")
        values: Item = {":roomId": _s(room_id)}
        if after is not None:
            values[":after"] = _s(after)
        with aws_errors("member_ids"):
            items = self._client.query(
                TableName=self._members,
                KeyConditionExpression=condition,
                ProjectionExpression="#userId",
                ExpressionAttributeNames=_names("roomId", "userId"),
                ExpressionAttributeValues=values,
                Limit=limit,
                ConsistentRead=True,
            )["Items"]
        return [_str(item, "userId") for item in items]

    def rename_room(self, room_id: str, name: str) -> RoomRecord:
        """One conditional UpdateItem; the name is no part of the member-change lock (`version`)."""
        with aws_errors("rename_room"):
            try:
                item = self._client.update_item(
                    TableName=self._rooms,
                    Key={"roomId": _s(room_id)},
                    UpdateExpression="SET #name = :name",
                    ConditionExpression="attribute_exists(#roomId)",
                    ExpressionAttributeNames=_names("name", "roomId"),
                    ExpressionAttributeValues={":name": _s(name)},
                    ReturnValues="ALL_NEW",
                )["Attributes"]
            except self._client.exceptions.ConditionalCheckFailedException as exc:
                raise not_a_member(room_id) from exc
        return _room_from(item)

    # --------------------------------------------------------------------------------------- member changes

    def create_room(self, room: RoomRecord, member_ids: Collection[str]) -> RoomRecord:
        """One transaction puts the room (if its id is new), its counter and the first members.

        Beyond one transaction, the other members are written first: should the process stop in between, members
        of a room that does not exist are harmless (nothing finds the room), a room missing members is not.
        """
        members = sorted(set(member_ids))
        room = replace(
            room,
            member_count=len(members),
            member_ids=tuple(members[:ROOM_MEMBER_IDS_SHOWN]),
            last_seq=0,
            last_message=None,
        )
        first = MEMBERS_PER_TRANSACTION - 1  # the counter takes one more item
        for start in range(first, len(members), MEMBERS_PER_TRANSACTION):
            chunk = members[start : start + MEMBERS_PER_TRANSACTION]
            self._db.transact(self._member_puts(room.id, chunk, room.created_at), "create_room")
        put_room: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._rooms,
                "Item": _room_item(room),
                "ConditionExpression": "attribute_not_exists(#roomId)",
                "ExpressionAttributeNames": _names("roomId"),
            }
        }
        put_counter: TransactWriteItemTypeDef = {
            "Put": {"TableName": self._counters, "Item": {"roomId": _s(room.id), "lastSeq": _n(0)}}
        }
        reasons = self._db.transact(
            [put_room, put_counter, *self._member_puts(room.id, members[:first], room.created_at)], "create_room"
        )
        if reasons:
            stored = self.get_room(room.id)
            if stored is None:  # the condition failed on a room that is not there: nothing deletes rooms
                raise ChatError("storage error")
            return stored
        self._live.index_members(room.id, members)
        return room

    def add_members(self, room_id: str, by_user_id: str, user_ids: Iterable[str]) -> RoomRecord:
        """Add users to a group room `by_user_id` belongs to, else `Forbidden` (no such room, not a member, or a
        direct room). Users already in the room are left as they are."""
        wanted = sorted(set(user_ids))
        if not wanted:
            raise BadRequest("memberIds: nobody to add")
        joined_at = _iso(self._db.clock())
        for start in range(0, len(wanted), MEMBERS_PER_TRANSACTION):
            pending = wanted[start : start + MEMBERS_PER_TRANSACTION]
            for attempt in range(MAX_MEMBER_CHANGE_ATTEMPTS):
                self._db.backoff(attempt)
                room, version = self._versioned_room(room_id)
                if not room.is_group:
                    self._check_member(room_id, by_user_id)
                    raise Forbidden("members cannot be added to a direct room")
                existing = self._existing_members(room_id, list(dict.fromkeys([by_user_id, *pending])))
                if by_user_id not in existing:
                    raise not_a_member(room_id)
                pending = [user_id for user_id in pending if user_id not in existing]
                if not pending:
                    break
                shown = sorted({*room.member_ids, *pending})[:ROOM_MEMBER_IDS_SHOWN]
                reasons = self._db.transact(
                    [
                        self._room_update(room.id, version, len(pending), shown),
                        self._member_check(room_id, by_user_id),
                        *self._member_puts(room_id, pending, joined_at),
                    ],
                    "add_members",
                )
                if not reasons:
                    self._live.index_members(room_id, pending)
                    break
                if _failed(reasons[1]):
                    raise not_a_member(room_id)
                # The room moved on (another member change) or a newcomer joined meanwhile: read again.
            else:
                raise self._db.unavailable()
        return self.require_room(room_id)

    def remove_member(self, room_id: str, user_id: str) -> RoomRecord:
        """Take `user_id` out of the room (and its connections out of the room's index), else `Forbidden`."""
        for attempt in range(MAX_MEMBER_CHANGE_ATTEMPTS):
            self._db.backoff(attempt)
            room, version = self._versioned_room(room_id)
            shown = list(room.member_ids)
            if user_id in shown:
                # Refill the shown ids from the members in order, the leaver left out.
                after_leaver = self.member_ids(room_id, after=None, limit=ROOM_MEMBER_IDS_SHOWN + 1)
                shown = [member for member in after_leaver if member != user_id][:ROOM_MEMBER_IDS_SHOWN]
            admins = _admins_without(room, user_id, shown)
            delete_member: TransactWriteItemTypeDef = {
                "Delete": {
                    "TableName": self._members,
                    "Key": {"roomId": _s(room_id), "userId": _s(user_id)},
                    "ConditionExpression": "attribute_exists(#userId)",
                    "ExpressionAttributeNames": _names("userId"),
                }
            }
            delete_membership: TransactWriteItemTypeDef = {
                "Delete": {"TableName": self._memberships, "Key": {"userId": _s(user_id), "roomId": _s(room_id)}}
            }
            reasons = self._db.transact(
                [self._room_update(room_id, version, -1, shown, admins), delete_member, delete_membership],
                "remove_member",
            )
            if not reasons:
                self._live.unindex_member(room_id, user_id)
                return self.require_room(room_id)
            if _failed(reasons[1]):
                raise not_a_member(room_id)
        raise self._db.unavailable()

    # ------------------------------------------------------------------------------------------------ helpers

    def _room_update(
        self, room_id: str, version: int, delta: int, shown: Sequence[str], admins: Sequence[str] | None = None
    ) -> TransactWriteItemTypeDef:
        """The room's count, shown ids and (unless None) admins, on the condition that no other member change came
        first."""
        values: dict[str, Any] = {":delta": _n(delta), ":one": _n(1), ":version": _n(version)}
        names = _names("memberCount", "version", "memberIds")
        sets = ["#memberCount = #memberCount + :delta", "#version = #version + :one"]
        removes = []  # DynamoDB has no empty set
        if shown:
            sets.append("#memberIds = :shown")
            values[":shown"] = _ss(shown)
        else:
            removes.append("#memberIds")
        if admins is not None:
            names.update(_names("adminIds"))
            if admins:
                sets.append("#adminIds = :admins")
                values[":admins"] = _ss(admins)
            else:
                removes.append("#adminIds")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return {
            "Update": {
                "TableName": self._rooms,
                "Key": {"roomId": _s(room_id)},
                "UpdateExpression": expression,
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _member_check(self, room_id: str, user_id: str) -> TransactWriteItemTypeDef:
        return {
            "ConditionCheck": {
                "TableName": self._members,
                "Key": {"roomId": _s(room_id), "userId": _s(user_id)},
                "ConditionExpression": "attribute_exists(#userId)",
                "ExpressionAttributeNames": _names("userId"),
            }
        }

    def _member_puts(self, room_id: str, user_ids: Iterable[str], joined_at: str) -> list[TransactWriteItemTypeDef]:
        puts: list[TransactWriteItemTypeDef] = []
        for user_id in user_ids:
            item = _member_item(room_id, user_id, joined_at)
            puts.append(
                {
                    "Put": {
                        "TableName": self._members,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(#userId)",
                        "ExpressionAttributeNames": _names("userId"),
                    }
                }
            )
            puts.append({"Put": {"TableName": self._memberships, "Item": item}})
        return puts

    def _existing_members(self, room_id: str, user_ids: Sequence[str]) -> set[str]:
        keys: list[Item] = [{"roomId": _s(room_id), "userId": _s(user_id)} for user_id in user_ids]
        return {_str(item, "userId") for item in self._db.batch_get(self._members, keys, "add_members")}

    def _check_member(self, room_id: str, user_id: str) -> None:
        if not self._existing_members(room_id, [user_id]):
            raise not_a_member(room_id)


def _failed(reason: Reason) -> bool:
    return reason_code(reason) == CONDITION_FAILED


def _admins_without(room: RoomRecord, leaver: str, shown: Sequence[str]) -> list[str] | None:
    """The admins once `leaver` is gone (None: unchanged). A group never loses its last admin while it has
    members: the remaining member first by id takes over."""
    if leaver not in room.admin_ids:
        return None
    admins = [admin for admin in room.admin_ids if admin != leaver]
    if not admins and room.member_count > 1:
        # `shown` is the first remaining members by id (refilled without the leaver when it was among them).
        admins = list(shown[:1])
    return admins
