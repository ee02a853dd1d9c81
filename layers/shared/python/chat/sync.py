"""`sync`: after a reconnect, which of a client's rooms have news, in one frame instead of a `history` per room.

The client says the last seq (and change number) it has of each room. One batch read gives every asked room's
counters and the caller's read marker (and so which rooms are no longer the caller's); only the rooms with news
are read further: their next messages and their change feed's next page. A page stops at SYNC_ROOMS_PER_PAGE
rooms with news or PAGE_MAX_BYTES of JSON; its cursor is the last room id it looked at, rooms going by id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from chat import protocol as p
from chat.ports import ChangesSlice, ChatStore, ReadState, within_bytes

# A room's messages and changes share the page: each list gets a part of it, so one room always fits.
MESSAGES_BYTES = p.PAGE_MAX_BYTES // 2
CHANGES_BYTES = p.PAGE_MAX_BYTES * 2 // 5

ForMember = Callable[[str, Sequence[p.Message]], list[p.Message]]


def _size(model: p.WireModel) -> int:
    return len(
        json.dumps(model.model_dump(by_alias=True, mode="json"), separators=(",", ":"), ensure_ascii=False).encode()
    )


class RoomSync:
    def __init__(self, store: ChatStore) -> None:
        self._store = store

    def page(self, user_id: str, frame: p.Sync, after_room: str | None, for_member: ForMember) -> p.SyncPage:
        asked = sorted(room_id for room_id in frame.rooms if after_room is None or room_id > after_room)
        states = self._store.read_states(user_id, asked)
        news: list[p.RoomNews] = []
        left: list[str] = []
        used = 0
        for room_id in asked:
            state = states.get(room_id)
            if state is None:
                left.append(room_id)
                continue
            room_news = self._news(state, frame.rooms[room_id], frame.versions.get(room_id), for_member)
            if room_news is None:
                continue
            size = _size(room_news)
            if news and (len(news) == p.SYNC_ROOMS_PER_PAGE or used + size > p.PAGE_MAX_BYTES):
                return p.SyncPage(rooms=news, left=left, next_cursor=news[-1].room_id)
            news.append(room_news)
            used += size
        return p.SyncPage(rooms=news, left=left)

    def _news(
        self, state: ReadState, client_seq: int, client_version: int | None, for_member: ForMember
    ) -> p.RoomNews | None:
        new_messages = state.last_seq > client_seq
        # A client that has no version of the room follows its changes from now on (its pages are fresh).
        new_changes = client_version is not None and state.last_version > client_version
        if not (new_messages or new_changes):
            return None
        messages: list[p.Message] = []
        has_more = False
        if new_messages:
            page = self._store.history(
                state.room_id, before_seq=None, after_seq=client_seq, limit=p.SYNC_MESSAGES_PER_ROOM
            )
            messages = within_bytes(page.messages, MESSAGES_BYTES)
            has_more = page.has_more or len(messages) < len(page.messages)
        changes = ChangesSlice([], state.last_version, False)
        if new_changes and client_version is not None:
            feed = self._store.changes(state.room_id, after_version=client_version, limit=p.SYNC_MESSAGES_PER_ROOM)
            kept = within_bytes(feed.messages, CHANGES_BYTES)
            changes = feed if len(kept) == len(feed.messages) else ChangesSlice(kept, kept[-1].version, True)
        return p.RoomNews(
            room_id=state.room_id,
            last_seq=state.last_seq,
            last_version=state.last_version,
            read_seq=state.read_seq,
            unread_count=max(0, state.last_seq - state.read_seq),
            messages=for_member(state.room_id, messages),
            has_more=has_more,
            changes=for_member(state.room_id, changes.messages),
            version=changes.version,
            changes_have_more=changes.has_more,
        )
