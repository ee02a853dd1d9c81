"""Each room's live connections (the `room_connections` table): who to push to, read in proportion to who is online.

An entry (roomId, connectionId) -> userId, expiresAt is written for every room of a user when one of the user's
connections opens, and deleted when it closes, when the user leaves the room, or when a push finds it gone (410);
TTL removes what a lost `$disconnect` left behind, and a reader skips entries past `expiresAt`.

Cost, for a user in R rooms: a connect writes R entries (BatchWriteItem, 25 a request) after one Query of the
user's memberships, and reads the memberships once more (see `index_connection`); a disconnect reads them once
and deletes R entries. Neither depends on how many members the rooms have.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chat.dynamo.base import DynamoTables, aws_errors, log
from chat.dynamo.items import Item, _names, _room_connection_from, _room_connection_item, _s, _user_from
from chat.errors import ChatError
from chat.ports import ConnectionsPage, LiveConnection, RoomConnection

# Entries outlive their connection's hard lifetime a little, as the connection items do.
ROOM_CONNECTION_TTL_SLACK_SECONDS = 3600


class LiveIndex:
    """The per-room index of live connections."""

    def __init__(self, db: DynamoTables) -> None:
        self._db = db
        self._table = db.room_connections

    # ------------------------------------------------------------------------------------- connections

    def index_connection(self, user_id: str, connection: LiveConnection) -> list[str]:
        """Enter the connection into each of the user's rooms.

        The memberships are read again after the writes, and entries for rooms the user left meanwhile are taken
        out: a `leaveRoom` racing this connect either comes before that second read (and is seen) or after the
        entries were written (and deletes them itself, having seen this connection on the user item).
        """
        entry = RoomConnection(user_id, connection)
        room_ids = self._db.room_ids_of(user_id)
        self._put({room_id: [entry] for room_id in room_ids})
        still = set(self._db.room_ids_of(user_id))
        left = [room_id for room_id in room_ids if room_id not in still]
        if left:
            self._delete((room_id, connection.connection_id) for room_id in left)
        return [room_id for room_id in room_ids if room_id in still]

    def unindex_connection(self, user_id: str, connection_id: str) -> list[str]:
        room_ids = self._db.room_ids_of(user_id)
        self._delete((room_id, connection_id) for room_id in room_ids)
        return room_ids

    def forget(self, room_id: str, connection_ids: Iterable[str]) -> None:
        self._delete((room_id, connection_id) for connection_id in connection_ids)

    # ----------------------------------------------------------------------------------------- members

    def index_members(self, room_id: str, user_ids: Iterable[str]) -> None:
        """Enter the live connections of users who just joined the room.

        Best effort, after the membership is stored: should it fail, those connections miss the room's pushes
        until they reconnect (a client catches up with `history` then), but the membership stands.
        """
        now = self._db.clock()
        keys: list[Item] = [{"userId": _s(user_id)} for user_id in dict.fromkeys(user_ids)]
        try:
            users = [_user_from(item) for item in self._db.batch_get(self._db.users, keys, "index_members")]
            entries = [RoomConnection(user.user_id, c) for user in users for c in user.live_connections(now)]
            if entries:
                self._put({room_id: entries})
        except ChatError:
            log.warning("could not index the live connections of new members of a room", exc_info=True)

    def unindex_member(self, room_id: str, user_id: str) -> None:
        """Take the connections of a user who left the room out of its index."""
        with aws_errors("unindex_member"):
            item = self._db.client.get_item(
                TableName=self._db.users, Key={"userId": _s(user_id)}, ConsistentRead=True
            ).get("Item")
        if item:
            self._delete((room_id, c.connection_id) for c in _user_from(item).connections)

    # ------------------------------------------------------------------------------------------- reads

    def page(self, room_id: str, *, after: str | None = None, limit: int | None = None) -> ConnectionsPage:
        """Live entries by connection id after `after`: one Query page of at most `limit` (None: every page)."""
        values: Item = {":roomId": _s(room_id)}
        condition = "#roomId = :roomId"
        if after is not None:
            condition += " AND #connectionId > :after"
            values[":after"] = _s(after)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": _names("roomId", "connectionId") if after else _names("roomId"),
            "ExpressionAttributeValues": values,
        }
        if limit is None:
            items = self._db.query_all(request, "room_connections")
            more = None
        else:
            with aws_errors("room_connections"):
                response = self._db.client.query(**request, Limit=limit)
            items = response["Items"]
            last = response.get("LastEvaluatedKey")
            more = str(last["connectionId"]["S"]) if last else None
        now = self._db.clock()
        entries = [_room_connection_from(item) for item in items]
        return ConnectionsPage([e for e in entries if e.connection.expires_at > now], more)

    # ------------------------------------------------------------------------------------------ writes

    def _put(self, entries: dict[str, list[RoomConnection]]) -> None:
        requests = [
            {"PutRequest": {"Item": _room_connection_item(room_id, entry, ROOM_CONNECTION_TTL_SLACK_SECONDS)}}
            for room_id, room_entries in entries.items()
            for entry in room_entries
        ]
        self._db.batch_write(self._table, requests, "index_connections")

    def _delete(self, keys: Iterable[tuple[str, str]]) -> None:
        requests = [
            {"DeleteRequest": {"Key": {"roomId": _s(room_id), "connectionId": _s(connection_id)}}}
            for room_id, connection_id in dict.fromkeys(keys)
        ]
        self._db.batch_write(self._table, requests, "unindex_connections")
