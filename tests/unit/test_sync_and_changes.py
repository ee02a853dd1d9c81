"""Catching up after time away: the change feed (`changes`) and the one-frame `sync` of many rooms."""

from __future__ import annotations

import pytest

from chat import protocol as p
from chat.errors import BadRequest, Forbidden
from chat.service import Caller
from tests.unit.conftest import Chat
from tests.unit.test_message_changes import delete, edit, react


def changes(chat: Chat, caller: Caller, room_id: str, after: int = 0, limit: int = 50) -> p.ChangesPage:
    reply = chat.service.handle(caller, p.Changes(action="changes", room_id=room_id, after_version=after, limit=limit))
    assert isinstance(reply, p.ChangesPage)
    return reply


def sync(
    chat: Chat, caller: Caller, rooms: dict[str, int], versions: dict[str, int] | None = None, cursor: str | None = None
) -> p.SyncPage:
    reply = chat.service.handle(caller, p.Sync(action="sync", rooms=rooms, versions=versions or {}, cursor=cursor))
    assert isinstance(reply, p.SyncPage)
    return reply


def test_a_member_who_was_away_learns_each_changed_message_once_as_it_now_is(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    one, two, three = (chat.send(alice, room.id, f"m{n}").message for n in range(3))
    seen_version = 0
    chat.service.disconnect(bob.connection_id)

    edit(chat, alice, one, "m0 edited")
    delete(chat, alice, two)
    edit(chat, alice, one, "m0 edited twice")
    react(chat, alice, three, "🎉")

    page = changes(chat, alice, room.id, after=seen_version)
    assert [(m.seq, m.content, m.version) for m in page.messages] == [
        (2, "", 2),
        (1, "m0 edited twice", 3),
        (3, "m2", 4),
    ]
    assert (page.version, page.has_more) == (4, False)
    assert page.messages[2].my_reactions == ["🎉"]
    assert changes(chat, alice, room.id, after=4).messages == []


def test_the_change_feed_pages_by_version(chat: Chat) -> None:
    alice = chat.connect("Alice")
    room = chat.group(alice)
    sent = [chat.send(alice, room.id, f"m{n}").message for n in range(5)]
    for message in sent:
        edit(chat, alice, message, message.content + "!")

    first = changes(chat, alice, room.id, after=0, limit=2)
    second = changes(chat, alice, room.id, after=first.version, limit=2)
    third = changes(chat, alice, room.id, after=second.version, limit=2)

    assert [[m.seq for m in page.messages] for page in (first, second, third)] == [[1, 2], [3, 4], [5]]
    assert (first.has_more, second.has_more, third.has_more) == (True, True, False)


def test_changes_are_for_members_only(chat: Chat) -> None:
    alice, eve = chat.connect("Alice"), chat.connect("Eve")
    room = chat.group(alice)
    with pytest.raises(Forbidden):
        changes(chat, eve, room.id)


def test_sync_answers_only_the_rooms_with_news_with_their_first_pages(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    quiet = chat.group(alice, bob, name="quiet")
    busy = chat.group(alice, bob, name="busy")
    edited = chat.group(alice, bob, name="edited")
    chat.send(alice, quiet.id, "old news")
    chat.send(alice, busy.id, "old")
    old = chat.send(alice, edited.id, "before")
    known = {quiet.id: 1, busy.id: 1, edited.id: 1}
    versions = {quiet.id: 0, busy.id: 0, edited.id: 0}

    for n in range(p.SYNC_MESSAGES_PER_ROOM + 5):
        chat.send(alice, busy.id, f"new {n}")
    edit(chat, alice, old.message, "after")

    page = sync(chat, bob, known, versions)

    news = {room.room_id: room for room in page.rooms}
    assert set(news) == {busy.id, edited.id} and page.left == [] and page.next_cursor is None
    assert [m.seq for m in news[busy.id].messages] == list(range(2, 2 + p.SYNC_MESSAGES_PER_ROOM))
    assert news[busy.id].has_more and news[busy.id].unread_count == p.SYNC_MESSAGES_PER_ROOM + 6
    assert news[edited.id].messages == [] and [m.content for m in news[edited.id].changes] == ["after"]
    assert (news[edited.id].version, news[edited.id].changes_have_more) == (1, False)


def test_sync_lists_the_rooms_the_caller_is_no_longer_in(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    room = chat.group(alice, bob)
    chat.service.handle(alice, p.RemoveMember(action="removeMember", room_id=room.id, user_id="bob"))

    page = sync(chat, bob, {room.id: 0, "r_never_existed": 0})

    assert page.rooms == [] and sorted(page.left) == sorted([room.id, "r_never_existed"])


def test_sync_pages_through_many_rooms_with_news(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    rooms = [chat.group(alice, bob, name=f"room {n}") for n in range(p.SYNC_ROOMS_PER_PAGE * 2 + 3)]
    for room in rooms:
        chat.send(alice, room.id, "news")
    known = {room.id: 0 for room in rooms}

    seen: list[str] = []
    cursor = None
    frames = 0
    while True:
        page = sync(chat, bob, known, cursor=cursor)
        frames += 1
        assert len(page.rooms) <= p.SYNC_ROOMS_PER_PAGE
        seen += [news.room_id for news in page.rooms]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sorted(seen) == sorted(known) and frames == 3


def test_a_sync_page_fits_one_websocket_message(chat: Chat) -> None:
    alice, bob = chat.connect("Alice"), chat.connect("Bob")
    rooms = [chat.group(alice, bob, name=f"room {n}") for n in range(4)]
    for room in rooms:
        for _ in range(p.SYNC_MESSAGES_PER_ROOM):
            chat.send(alice, room.id, "€" * p.MAX_CONTENT_CHARS)

    page = sync(chat, bob, {room.id: 0 for room in rooms})

    assert len(p.encode(page)) < p.MAX_MESSAGE_BYTES
    assert page.next_cursor is not None and page.rooms[0].has_more


def test_a_cursor_that_is_not_ours_is_a_bad_request(chat: Chat) -> None:
    bob = chat.connect("Bob")
    with pytest.raises(BadRequest):
        sync(chat, bob, {"r": 0}, cursor="garbage")


def test_pages_of_long_replies_still_fit_one_websocket_message(chat: Chat) -> None:
    alice = chat.connect("Alice")
    room = chat.group(alice)
    parent = chat.send(alice, room.id, "€" * p.MAX_CONTENT_CHARS).message
    replies = []
    for n in range(p.HISTORY_MAX_LIMIT):
        frame = p.SendMessage(
            action="sendMessage",
            room_id=room.id,
            content=f"{n} " + "€" * 280,
            client_msg_id=f"00000000-0000-4000-8000-{n:012d}",
            reply_to_id=parent.id,
        )
        ack = chat.service.handle(alice, frame)
        assert isinstance(ack, p.Ack)
        replies.append(ack.message)
    for message in replies:
        react(chat, alice, message, "👍")

    latest = chat.service.handle(alice, p.History(action="history", room_id=room.id, limit=p.HISTORY_MAX_LIMIT))
    after = chat.service.handle(
        alice, p.History(action="history", room_id=room.id, after_seq=1, limit=p.HISTORY_MAX_LIMIT)
    )
    feed = changes(chat, alice, room.id, limit=p.HISTORY_MAX_LIMIT)

    assert isinstance(latest, p.HistoryPage) and isinstance(after, p.HistoryPage)
    for page in (latest, after, feed):
        assert len(p.encode(page)) <= p.PAGE_MAX_BYTES + 1024
    assert latest.has_more and latest.messages[-1].seq == p.HISTORY_MAX_LIMIT + 1
    assert after.has_more and after.messages[0].seq == 2
    assert feed.has_more and feed.version == feed.messages[-1].version
    assert changes(chat, alice, room.id, after=feed.version).messages[0].version == feed.version + 1
