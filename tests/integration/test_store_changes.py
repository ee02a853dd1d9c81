"""The ChatStore contract of issue 10: read markers, message changes (edits, deletes, reactions) and the change
feed, admins and renames; the last section: how the DynamoDB adapter stores them.

Tests taking `store` run against every store (see conftest.STORE_FACTORIES).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chat import protocol as p
from chat.dynamo import DynamoChatStore
from chat.errors import ChatError, Forbidden, NotFound
from chat.ports import ChatStore, Decide, ReadMarker, ReadState, Revision, RoomRecord, seq_of
from chat.tables import TABLES
from local.dynamodb import EmbeddedDynamoDB
from tests.integration.test_concurrent_sends import _configured_client
from tests.integration.test_dynamo_store import CREATED_AT, ScriptedTransactions, draft, group, send

EDITED_AT = "2027-01-15T09:00:00.000Z"


def edit(content: str) -> Decide:
    def decide(message: p.Message, mine: frozenset[str]) -> Revision | None:
        if message.content == content:
            return None  # a retried edit: nothing to change
        return Revision(message.model_copy(update={"content": content, "edited_at": EDITED_AT}))

    return decide


def delete(message: p.Message, mine: frozenset[str]) -> Revision | None:
    if message.deleted_at is not None:
        return None
    return Revision(message.model_copy(update={"content": "", "deleted_at": EDITED_AT, "reactions": []}), frozenset())


def react(emoji: str, *, add: bool = True) -> Decide:
    def decide(message: p.Message, mine: frozenset[str]) -> Revision | None:
        if (emoji in mine) == add:
            return None
        counts = {r.emoji: r.count for r in message.reactions}
        counts[emoji] = counts.get(emoji, 0) + (1 if add else -1)
        reactions = [p.ReactionCount(emoji=e, count=counts[e]) for e in p.REACTION_EMOJIS if counts.get(e, 0) > 0]
        return Revision(message.model_copy(update={"reactions": reactions}), mine | {emoji} if add else mine - {emoji})

    return decide


def counts(message: p.Message) -> dict[str, int]:
    return {r.emoji: r.count for r in message.reactions}


def last_version(store: ChatStore, room_id: str, member: str = "alice") -> int:
    return store.room_of_member(room_id, member).room.last_version


# ---------------------------------------------------------------------------------------------- read markers


def test_a_read_marker_moves_forward_only_and_stops_at_the_last_message(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    send(store, room.id, 5)

    assert store.mark_read(room.id, "bob", 3) == ReadMarker(3, moved=True)
    assert store.mark_read(room.id, "bob", 2) == ReadMarker(3, moved=False)  # never back
    assert store.mark_read(room.id, "bob", 3) == ReadMarker(3, moved=False)
    assert store.mark_read(room.id, "bob", 99) == ReadMarker(5, moved=True)  # not past the last message
    assert store.mark_read(room.id, "bob", 99) == ReadMarker(5, moved=False)
    assert store.read_marks(room.id, ["bob", "alice"]) == {"bob": 5, "alice": 0}


def test_only_a_member_may_mark_a_room_read(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    send(store, room.id, 1)
    store.remove_member(room.id, "bob")

    for room_id, user_id in ((room.id, "mallory"), (room.id, "bob"), ("r_missing", "alice")):
        with pytest.raises(Forbidden):
            store.mark_read(room_id, user_id, 1)


def test_a_users_rooms_carry_their_read_marker(store: ChatStore) -> None:
    first, second = group(store, "alice", "bob"), group(store, "alice")
    send(store, first.id, 4)
    store.mark_read(first.id, "alice", 2)

    listed = {member_room.room.id: member_room for member_room in store.rooms_of("alice")}

    assert {room_id: m.read_seq for room_id, m in listed.items()} == {first.id: 2, second.id: 0}
    assert listed[first.id].room.last_seq == 4
    assert [m.read_seq for m in store.rooms_of("bob")] == [0]


def test_read_states_list_only_the_rooms_one_is_a_member_of_with_their_counters(store: ChatStore) -> None:
    mine, theirs = group(store, "alice", "bob"), group(store, "carol")
    send(store, mine.id, 3)
    store.mark_read(mine.id, "alice", 1)
    store.change_message(mine.id, 2, "alice", edit("changed"))

    states = store.read_states("alice", [mine.id, theirs.id, "r_missing", mine.id])

    assert states == {mine.id: ReadState(mine.id, last_seq=3, last_version=1, read_seq=1)}
    assert store.read_states("alice", []) == {}


def test_read_states_of_more_rooms_than_one_batch_reads(store: ChatStore) -> None:
    rooms = [group(store, "alice") for _ in range(60)]  # 120 keys: two BatchGetItem requests
    send(store, rooms[-1].id, 1)

    states = store.read_states("alice", [room.id for room in rooms])

    assert sorted(states) == sorted(room.id for room in rooms)
    assert states[rooms[-1].id] == ReadState(rooms[-1].id, last_seq=1, last_version=0, read_seq=0)


def test_read_marks_leave_out_those_who_are_not_members(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    send(store, room.id, 2)
    store.mark_read(room.id, "alice", 2)

    assert store.read_marks(room.id, ["alice", "bob", "mallory"]) == {"alice": 2, "bob": 0}


# ------------------------------------------------------------------------------------------ message changes


def test_message_ids_carry_their_seq(store: ChatStore) -> None:
    room = group(store, "alice")

    sent = send(store, room.id, 3)

    assert [seq_of(m.id) for m in sent] == [1, 2, 3]
    assert store.get_messages(room.id, [3, 1, 7]) == {1: sent[0], 3: sent[2]}


def test_an_edit_takes_the_rooms_next_change_number(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    first, _ = send(store, room.id, 2)
    assert (first.version, last_version(store, room.id)) == (0, 0)

    changed = store.change_message(room.id, 1, "alice", edit("hello again"))
    again = store.change_message(room.id, 2, "bob", edit("second"))

    assert changed.changed and changed.message.version == 1 and again.message.version == 2
    assert changed.message == first.model_copy(update={"content": "hello again", "edited_at": EDITED_AT, "version": 1})
    assert store.get_messages(room.id, [1, 2]) == {1: changed.message, 2: again.message}
    assert last_version(store, room.id) == 2
    assert store.rooms_of("bob")[0].room.last_version == 2


def test_a_decision_to_change_nothing_changes_nothing(store: ChatStore) -> None:
    room = group(store, "alice")
    send(store, room.id, 1, content="same")
    store.change_message(room.id, 1, "alice", edit("edited"))

    unchanged = store.change_message(room.id, 1, "alice", edit("edited"))

    assert not unchanged.changed and unchanged.message.version == 1 and unchanged.message.content == "edited"
    assert last_version(store, room.id) == 1
    assert store.changes(room.id, after_version=0, limit=10).version == 1


def test_what_a_decision_raises_is_raised_and_nothing_changes(store: ChatStore) -> None:
    room = group(store, "alice")
    send(store, room.id, 1)

    def refuse(message: p.Message, mine: frozenset[str]) -> Revision | None:
        raise Forbidden("not yours")

    with pytest.raises(Forbidden):
        store.change_message(room.id, 1, "bob", refuse)
    assert last_version(store, room.id) == 0


def test_changing_a_message_that_does_not_exist_is_not_found(store: ChatStore) -> None:
    room = group(store, "alice")
    send(store, room.id, 1)

    for room_id, seq in ((room.id, 2), ("r_missing", 1)):
        with pytest.raises(NotFound):
            store.change_message(room_id, seq, "alice", edit("x"))


def test_changing_the_last_message_changes_the_rooms_preview_and_an_older_one_does_not(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    send(store, room.id, 2)

    edited = store.change_message(room.id, 2, "alice", edit("fixed")).message
    assert store.room_of_member(room.id, "bob").room.last_message == edited
    store.change_message(room.id, 1, "alice", edit("older"))
    assert store.room_of_member(room.id, "bob").room.last_message == edited

    deleted = store.change_message(room.id, 2, "alice", delete).message
    assert deleted.content == "" and deleted.deleted_at == EDITED_AT
    assert store.rooms_of("bob")[0].room.last_message == deleted


def test_reactions_are_counted_on_the_message_and_kept_per_user(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    send(store, room.id, 2)

    store.change_message(room.id, 1, "alice", react("👍"))
    store.change_message(room.id, 1, "bob", react("👍"))
    both = store.change_message(room.id, 1, "bob", react("🔥"))

    assert both.my_reactions == {"👍", "🔥"}
    assert [(r.emoji, r.count) for r in both.message.reactions] == [("👍", 2), ("🔥", 1)]
    assert store.my_reactions(room.id, "bob", [1, 2]) == {1: frozenset({"👍", "🔥"})}
    assert store.my_reactions(room.id, "alice", [1]) == {1: frozenset({"👍"})}

    again = store.change_message(room.id, 1, "alice", react("👍"))
    assert not again.changed and again.my_reactions == {"👍"}

    removed = store.change_message(room.id, 1, "alice", react("👍", add=False))
    assert removed.my_reactions == frozenset() and counts(removed.message) == {"👍": 1, "🔥": 1}
    assert store.my_reactions(room.id, "alice", [1]) == {}
    assert last_version(store, room.id) == 4


def test_the_change_feed_lists_each_message_once_at_its_last_change(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    send(store, room.id, 3)
    store.change_message(room.id, 1, "alice", edit("one"))  # 1
    store.change_message(room.id, 2, "alice", edit("two"))  # 2
    store.change_message(room.id, 1, "bob", react("🎉"))  # 3
    store.change_message(room.id, 3, "alice", delete)  # 4

    feed = store.changes(room.id, after_version=0, limit=10)

    assert [(m.seq, m.version) for m in feed.messages] == [(2, 2), (1, 3), (3, 4)]
    assert (feed.version, feed.has_more) == (4, False)
    current = store.get_messages(room.id, [1, 2, 3])
    assert feed.messages == [current[2], current[1], current[3]]
    assert store.changes(room.id, after_version=4, limit=10) == type(feed)([], 4, False)


def test_the_change_feed_pages_by_change_number(store: ChatStore) -> None:
    room = group(store, "alice")
    send(store, room.id, 3)
    for seq in (1, 2, 1, 3, 2):  # versions 1..5: message 1 last at 3, 2 at 5, 3 at 4
        store.change_message(room.id, seq, "alice", edit(f"v{last_version(store, room.id) + 1}"))

    first = store.changes(room.id, after_version=0, limit=2)  # versions 1, 2: both changed again later
    second = store.changes(room.id, after_version=first.version, limit=2)  # 3, 4
    third = store.changes(room.id, after_version=second.version, limit=2)  # 5

    assert (first.messages, first.version, first.has_more) == ([], 2, True)
    assert ([(m.seq, m.version) for m in second.messages], second.version, second.has_more) == (
        [(1, 3), (3, 4)],
        4,
        True,
    )
    assert ([(m.seq, m.version) for m in third.messages], third.version, third.has_more) == ([(2, 5)], 5, False)


def test_a_change_feed_page_of_large_messages_fits_one_api_gateway_message(store: ChatStore) -> None:
    room = group(store, "alice")
    send(store, room.id, 30)
    big = "€" * (p.MAX_CONTENT_CHARS - 10)  # 12 KB each
    for seq in range(1, 31):
        store.change_message(room.id, seq, "alice", edit(big))

    page = store.changes(room.id, after_version=0, limit=p.PAGE_MAX_LIMIT)

    assert 1 < len(page.messages) < 30 and page.has_more
    assert page.version == page.messages[-1].version == len(page.messages)
    rest = store.changes(room.id, after_version=page.version, limit=p.PAGE_MAX_LIMIT)
    assert rest.messages[0].version == page.version + 1


# ------------------------------------------------------------------------------------------ admins, rename


def test_a_group_is_renamed_and_an_unknown_room_is_refused(store: ChatStore) -> None:
    room = group(store, "alice", "bob")

    renamed = store.rename_room(room.id, "Renamed")

    assert renamed.name == "Renamed" and store.get_room(room.id) == renamed
    assert renamed.member_ids == room.member_ids and renamed.member_count == 2
    with pytest.raises(Forbidden):
        store.rename_room("r_missing", "x")


def _admined(store: ChatStore, admins: tuple[str, ...], *members: str) -> RoomRecord:
    room = RoomRecord(f"r_admins_{'_'.join(admins)}_{len(members)}", "Team", True, CREATED_AT, admin_ids=admins)
    return store.create_room(room, members)


def test_a_room_keeps_its_admins_and_the_last_admin_leaving_hands_over_to_the_first_member(store: ChatStore) -> None:
    room = _admined(store, ("carol",), "carol", "bob", "dave", "alice")
    assert store.get_room(room.id) == room and room.admin_ids == ("carol",)

    assert store.remove_member(room.id, "dave").admin_ids == ("carol",)  # not an admin: no change
    assert store.remove_member(room.id, "carol").admin_ids == ("alice",)  # the first remaining by id
    assert store.remove_member(room.id, "alice").admin_ids == ("bob",)
    empty = store.remove_member(room.id, "bob")
    assert empty.admin_ids == () and empty.member_count == 0


def test_an_admin_leaving_while_another_admin_stays_hands_over_nothing(store: ChatStore) -> None:
    room = _admined(store, ("alice", "bob"), "alice", "bob", "carol")

    assert store.remove_member(room.id, "alice").admin_ids == ("bob",)
    assert store.rooms_of("carol")[0].room.admin_ids == ("bob",)


# ------------------------------------------------------------------------------------------ DynamoDB only


@pytest.mark.slow
def test_concurrent_changes_and_sends_all_land_with_distinct_change_numbers(
    embedded_dynamodb: EmbeddedDynamoDB,
) -> None:
    """On the served DynamoDB (one request at a time, as DynamoDB serializes each item): moto in-process does not
    apply a transaction atomically across threads."""
    table_names = {spec.name: f"changes-{spec.name}" for spec in TABLES}
    embedded_dynamodb.create_tables(table_names)
    users = [f"u{i}" for i in range(6)]
    setup = DynamoChatStore(_configured_client(embedded_dynamodb), table_names)
    room = group(setup, *users)
    send(setup, room.id, 4)
    # boto3's default session is not thread-safe: every client is built here, before the threads start.
    stores = [DynamoChatStore(_configured_client(embedded_dynamodb), table_names) for _ in users]

    def work(index: int) -> None:
        store, user_id = stores[index], users[index]
        for seq in (1, 4):
            store.change_message(room.id, seq, user_id, react("❤️"))
        store.append_message(draft(room.id, sender=user_id))

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        for future in [pool.submit(work, i) for i in range(len(users))]:
            future.result(timeout=120)

    counter = setup.room_of_member(room.id, "u0").room
    assert counter.last_version == 12 and counter.last_seq == 10
    stored = setup.get_messages(room.id, [1, 4])
    assert counts(stored[1]) == counts(stored[4]) == {"❤️": 6}
    assert all(setup.my_reactions(room.id, user_id, [1, 4]) == {1: {"❤️"}, 4: {"❤️"}} for user_id in users)
    feed = setup.changes(room.id, after_version=0, limit=100)
    assert feed.version == 12 and [m.seq for m in feed.messages] == sorted([1, 4], key=lambda s: stored[s].version)


def test_changes_are_stored_as_the_item_layout_says(
    dynamo_store: DynamoChatStore, dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    room = group(dynamo_store, "alice", "bob")
    send(dynamo_store, room.id, 1)
    dynamo_store.change_message(room.id, 1, "bob", react("🔥"))
    dynamo_store.change_message(room.id, 1, "bob", react("👍"))
    dynamo_store.change_message(room.id, 1, "alice", edit("edited"))
    dynamo_store.mark_read(room.id, "bob", 1)

    def get(table: str, key: dict[str, Any]) -> dict[str, Any]:
        return dynamodb_client.get_item(TableName=table_names[table], Key=key)["Item"]  # type: ignore[no-any-return]

    message = get("messages", {"roomId": {"S": room.id}, "seq": {"N": "1"}})
    assert message["version"] == {"N": "3"} and message["editedAt"] == {"S": EDITED_AT}
    assert message["reactions"] == {"M": {"🔥": {"N": "1"}, "👍": {"N": "1"}}}
    assert "deletedAt" not in message and "myReactions" not in message and "replyTo" not in message
    counter = get("room_counters", {"roomId": {"S": room.id}})
    assert counter["lastVersion"] == {"N": "3"} and counter["lastMessage"]["M"]["content"] == {"S": "edited"}
    assert get("reactions", {"roomUser": {"S": f"{room.id}#bob"}, "seq": {"N": "1"}})["emojis"] == {"SS": ["👍", "🔥"]}
    changes = dynamodb_client.query(
        TableName=table_names["message_changes"],
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": room.id}},
    )["Items"]
    assert [(c["version"]["N"], c["seq"]["N"]) for c in changes] == [("1", "1"), ("2", "1"), ("3", "1")]
    assert get("memberships", {"userId": {"S": "bob"}, "roomId": {"S": room.id}})["readSeq"] == {"N": "1"}


def test_a_change_that_loses_the_room_to_a_send_or_another_change_decides_again(
    dynamo_store: DynamoChatStore,
) -> None:
    room = group(dynamo_store, "alice", "bob")
    send(dynamo_store, room.id, 2)
    seen: list[tuple[int, str]] = []

    def edit_while_others_win(message: p.Message, mine: frozenset[str]) -> Revision | None:
        seen.append((message.version, message.content))
        if len(seen) == 1:  # between this read and its commit, bob sends: message 2 is no longer the last
            dynamo_store.append_message(draft(room.id, sender="bob", content="newer"))
        elif len(seen) == 2:  # and then reacts: the room's change number moves
            dynamo_store.change_message(room.id, 2, "bob", react("👀"))
        return edit("edited")(message, mine)

    changed = dynamo_store.change_message(room.id, 2, "alice", edit_while_others_win)

    assert seen == [(0, "hello 1"), (0, "hello 1"), (1, "hello 1")]
    assert changed.message.version == 2 and changed.message.content == "edited" and counts(changed.message) == {"👀": 1}
    assert dynamo_store.room_of_member(room.id, "bob").room.last_message.content == "newer"  # type: ignore[union-attr]


def test_a_change_retries_conflicts_and_refuses_what_no_retry_fixes(
    dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    room = group(DynamoChatStore(dynamodb_client, table_names), "alice")
    send(DynamoChatStore(dynamodb_client, table_names), room.id, 1)
    conflict, broken = ["TransactionConflict", "None", "None"], ["None", "ValidationError", "None"]
    client: Any = ScriptedTransactions(dynamodb_client, [conflict, ["ThrottlingError", "None", "None"], broken])
    store = DynamoChatStore(client, table_names, sleep=lambda seconds: None)

    with pytest.raises(ChatError) as raised:
        store.change_message(room.id, 1, "alice", edit("x"))
    assert raised.value.message == "storage error" and client.calls == 3
    assert store.change_message(room.id, 1, "alice", edit("x")).message.version == 1
    assert store.get_messages(room.id, [1])[1].content == "x"
