"""The ChatStore contract, run against DynamoDB (moto in-process); the last section: DynamoDB-only paths.

Tests taking `store` are the contract (see conftest.STORE_FACTORIES); those taking `dynamo_store` or
`dynamodb_client` prove how the DynamoDB adapter meets it: retries, fallbacks, error mapping, stored items.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chat import protocol as p
from chat.dynamo import DynamoChatStore
from chat.errors import ChatError, Forbidden, Unavailable
from chat.ports import ChatStore, Identity, LiveConnection, MessageDraft, PresenceChange, RoomConnection, RoomRecord
from chat.settings import Settings
from chat.tables import TABLES

T0 = 1_800_000_000.0
CREATED_AT = "2027-01-15T08:00:00.000Z"
LIFETIME = 7200

_ids = itertools.count(1)


def identity(user_id: str, name: str | None = None) -> Identity:
    return Identity(user_id, name or user_id.capitalize(), token_expires_at=int(T0) + 3600)


def connect(
    store: ChatStore, user_id: str, connection_id: str, *, at: float = T0, lifetime: int = LIFETIME
) -> PresenceChange:
    return store.add_connection(LiveConnection(connection_id, int(at) + lifetime), identity(user_id), CREATED_AT, at)


def group(store: ChatStore, *members: str, room_id: str | None = None) -> RoomRecord:
    return store.create_room(RoomRecord(room_id or f"r_{next(_ids)}", "Team", True, CREATED_AT), members)


def direct(store: ChatStore, room_id: str, created_at: str = CREATED_AT) -> RoomRecord:
    return store.create_room(RoomRecord(room_id, None, False, created_at), {"alice", "bob"})


def members(store: ChatStore, room_id: str) -> set[str]:
    return set(store.member_ids(room_id, after=None, limit=1000))


def draft(
    room_id: str, sender: str = "alice", content: str = "hello", client_msg_id: str | None = None
) -> MessageDraft:
    return MessageDraft(
        id=f"m_{next(_ids)}",
        room_id=room_id,
        sender_id=sender,
        sender_name=sender.capitalize(),
        content=content,
        created_at=CREATED_AT,
        client_msg_id=client_msg_id or str(uuid.uuid4()),
        reply_to_id=None,
    )


def send(store: ChatStore, room_id: str, count: int, content: str = "hello") -> list[p.Message]:
    return [store.append_message(draft(room_id, content=f"{content} {i}")).message for i in range(count)]


def seqs(messages: list[p.Message]) -> list[int]:
    return [m.seq for m in messages]


# ------------------------------------------------------------------------------------ connections, presence


def test_first_connection_brings_a_user_online_and_a_second_one_changes_nothing(store: ChatStore) -> None:
    first = connect(store, "alice", "c1")
    second = connect(store, "alice", "c2", at=T0 + 5)

    assert first.changed and first.user.is_online(T0)
    assert not second.changed
    assert {c.connection_id for c in second.user.connections} == {"c1", "c2"}
    stored = store.get_users(["alice"])["alice"]
    assert stored.name == "Alice" and len(stored.live_connections(T0 + 5)) == 2


def test_closing_one_of_two_connections_keeps_the_user_online_and_closing_both_takes_them_offline(
    store: ChatStore,
) -> None:
    connect(store, "alice", "c1")
    connect(store, "alice", "c2")

    one = store.remove_connection("c1", T0 + 10, "2027-01-15T08:00:10.000Z")
    both = store.remove_connection("c2", T0 + 20, "2027-01-15T08:00:20.000Z")

    assert one is not None and not one.changed and one.user.is_online(T0 + 10)
    assert both is not None and both.changed and not both.user.is_online(T0 + 20)
    assert both.user.last_seen == "2027-01-15T08:00:20.000Z"
    assert store.get_users(["alice"])["alice"].last_seen == "2027-01-15T08:00:20.000Z"


def test_closing_an_unknown_connection_reports_nothing(store: ChatStore) -> None:
    assert store.remove_connection("never-connected", T0, CREATED_AT) is None


def test_closing_the_same_connection_twice_reports_it_once(store: ChatStore) -> None:
    connect(store, "alice", "c1")

    assert store.remove_connection("c1", T0 + 1, CREATED_AT) is not None
    assert store.remove_connection("c1", T0 + 2, CREATED_AT) is None


def test_expired_connections_do_not_count_as_online_and_are_dropped_on_the_next_connect(
    store: ChatStore,
) -> None:
    connect(store, "alice", "old", lifetime=10)  # its $disconnect never came

    assert not store.get_users(["alice"])["alice"].is_online(T0 + 20)
    again = connect(store, "alice", "new", at=T0 + 20)

    assert again.changed
    assert {c.connection_id for c in again.user.connections} == {"new"}
    assert {c.connection_id for c in store.get_users(["alice"])["alice"].connections} == {"new"}


def test_a_disconnect_that_leaves_only_expired_connections_takes_the_user_offline(store: ChatStore) -> None:
    connect(store, "alice", "short", lifetime=100)
    connect(store, "alice", "long", at=T0 + 50)

    change = store.remove_connection("long", T0 + 200, CREATED_AT)

    assert change is not None and change.changed and not change.user.is_online(T0 + 200)


def test_forgotten_connections_are_gone_from_the_user_and_from_the_connections(store: ChatStore) -> None:
    connect(store, "alice", "c1")
    c2 = connect(store, "alice", "c2").user
    gone = next(c for c in c2.connections if c.connection_id == "c1")

    store.forget_connections(None, [RoomConnection("alice", gone)])

    alice = store.get_users(["alice"])["alice"]
    assert {c.connection_id for c in alice.connections} == {"c2"}
    assert store.remove_connection("c1", T0 + 1, CREATED_AT) is None  # the connection item went too


def test_get_users_returns_the_known_ones_beyond_one_batch(store: ChatStore) -> None:
    ids = [f"user{i:03}" for i in range(130)]
    for i, user_id in enumerate(ids):
        connect(store, user_id, f"c{i}")

    users = store.get_users([*ids, "nobody", ids[0]])

    assert sorted(users) == ids
    assert users["user042"].name == "User042"


def test_find_users_matches_a_name_prefix_in_any_case_in_name_order(store: ChatStore) -> None:
    for user_id, name in [("u1", "bob"), ("u2", "Alice"), ("u3", "alfred"), ("u4", "ALBERT"), ("u5", "Zed")]:
        store.add_connection(LiveConnection(f"c-{user_id}", int(T0) + LIFETIME), identity(user_id, name), "x", T0)

    assert [u.name for u in store.find_users("AL", 10)] == ["ALBERT", "alfred", "Alice"]
    assert [u.name for u in store.find_users("al", 2)] == ["ALBERT", "alfred"]
    assert [u.name for u in store.find_users("", 10)] == ["ALBERT", "alfred", "Alice", "bob", "Zed"]
    assert store.find_users("q", 10) == []


# ---------------------------------------------------------------------------------------------- rooms


def test_a_created_room_is_stored_and_listed_for_each_member(store: ChatStore) -> None:
    room = group(store, "alice", "bob")

    assert store.get_room(room.id) == room
    assert room.last_seq == 0 and room.last_message is None
    assert [r.room.id for r in store.rooms_of("alice")] == [room.id]
    assert [r.room.id for r in store.rooms_of("bob")] == [room.id]
    assert store.rooms_of("carol") == []


def test_an_unknown_room_is_none(store: ChatStore) -> None:
    assert store.get_room("r_missing") is None


def test_opening_a_direct_room_twice_returns_the_first_one(store: ChatStore) -> None:
    first = direct(store, "d_alice_bob")

    assert first.member_count == 2 and first.member_ids == ("alice", "bob")
    assert direct(store, "d_alice_bob", "2027-02-01T00:00:00.000Z") == first
    assert store.get_room("d_alice_bob") == first
    assert [r.room.id for r in store.rooms_of("bob")] == ["d_alice_bob"]


def test_a_room_with_more_members_than_one_transaction_holds_is_listed_for_all(store: ChatStore) -> None:
    everyone = {"creator", *(f"m{i:03}" for i in range(p.MAX_MEMBERS_PER_FRAME))}

    room = group(store, *everyone)

    assert store.get_room(room.id) == room
    assert room.member_count == len(everyone) and room.member_ids == tuple(sorted(everyone)[:100])
    assert members(store, room.id) == everyone
    assert all([r.room.id for r in store.rooms_of(member)] == [room.id] for member in everyone)


def test_a_member_adds_users_to_a_group_room(store: ChatStore) -> None:
    room = group(store, "alice", "bob")

    updated = store.add_members(room.id, "bob", ["carol", "dave"])

    assert updated.member_ids == ("alice", "bob", "carol", "dave") and updated.member_count == 4
    assert members(store, room.id) == {"alice", "bob", "carol", "dave"}
    assert store.get_room(room.id) == updated
    assert [r.room.id for r in store.rooms_of("carol")] == [room.id]


def test_a_full_frame_of_new_members_is_added(store: ChatStore) -> None:
    room = group(store, "alice")
    newcomers = [f"n{i:03}" for i in range(p.MAX_MEMBERS_PER_FRAME)]

    updated = store.add_members(room.id, "alice", newcomers)

    assert members(store, room.id) == {"alice", *newcomers} and updated.member_count == 101
    assert updated.member_ids == tuple(sorted({"alice", *newcomers})[:100])
    assert all([r.room.id for r in store.rooms_of(n)] == [room.id] for n in newcomers)


def test_adding_members_to_an_unknown_room_is_forbidden(store: ChatStore) -> None:
    with pytest.raises(Forbidden):
        store.add_members("r_missing", "alice", ["bob"])
    assert store.rooms_of("bob") == []


def test_a_non_member_cannot_add_members(store: ChatStore) -> None:
    room = group(store, "alice", "bob")

    with pytest.raises(Forbidden):
        store.add_members(room.id, "mallory", ["mallory", "eve"])

    assert store.get_room(room.id) == room
    assert store.rooms_of("eve") == []


def test_members_cannot_be_added_to_a_direct_room(store: ChatStore) -> None:
    room = direct(store, "d_a_b")

    with pytest.raises(Forbidden):
        store.add_members(room.id, "alice", ["carol"])

    assert store.get_room(room.id) == room
    assert store.rooms_of("carol") == []


def test_leaving_takes_the_member_out_and_the_room_off_their_list(store: ChatStore) -> None:
    room = group(store, "alice", "bob")

    updated = store.remove_member(room.id, "bob")

    assert updated.member_ids == ("alice",) and updated.member_count == 1
    assert store.rooms_of("bob") == []
    assert [r.room.id for r in store.rooms_of("alice")] == [room.id]


def test_the_last_member_leaving_leaves_an_empty_room(store: ChatStore) -> None:
    room = group(store, "alice")

    empty = store.remove_member(room.id, "alice")
    assert empty.member_ids == () and empty.member_count == 0
    assert store.rooms_of("alice") == []


def test_leaving_a_room_one_is_not_in_or_an_unknown_room_is_forbidden_alike(store: ChatStore) -> None:
    room = group(store, "alice", "bob")

    with pytest.raises(Forbidden) as not_in:
        store.remove_member(room.id, "carol")
    with pytest.raises(Forbidden) as unknown:
        store.remove_member("r_missing", "alice")
    assert not_in.value.message.replace(room.id, "?") == unknown.value.message.replace("r_missing", "?")
    assert store.get_room(room.id) == room


# ---------------------------------------------------------------------------------------------- messages


def test_messages_get_gap_free_seqs_from_one_and_become_the_rooms_last_message(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    reply = replace(draft(room.id), reply_to_id="m_first")

    sent = [*send(store, room.id, 2), store.append_message(reply).message]

    assert seqs(sent) == [1, 2, 3]
    assert sent[2].reply_to_id == "m_first" and sent[0].reply_to_id is None
    stored = store.room_of_member(room.id, "bob").room
    assert stored.last_seq == 3 and stored.last_message == sent[2]
    assert [r.room.last_message for r in store.rooms_of("bob")] == [sent[2]]
    assert store.history(room.id, before_seq=None, after_seq=None, limit=10).messages == sent


def test_the_room_keeps_a_preview_of_a_long_last_message_and_history_keeps_it_whole(store: ChatStore) -> None:
    room = group(store, "alice")
    long = store.append_message(draft(room.id, content="x" * 3000)).message

    preview = store.room_of_member(room.id, "alice").room.last_message
    assert preview is not None and preview.content == "x" * p.LAST_MESSAGE_PREVIEW_CHARS + "…"
    assert store.history(room.id, before_seq=None, after_seq=None, limit=1).messages == [long]


def test_a_retried_send_returns_the_original_message_and_stores_one_copy(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    first = store.append_message(draft(room.id, content="once", client_msg_id="5b0e6f0e-3c1c-4a51-9c53-6f1d2f0a9b11"))
    send(store, room.id, 2)

    retry = draft(room.id, content="once, resent", client_msg_id="5b0e6f0e-3c1c-4a51-9c53-6f1d2f0a9b11")
    again = store.append_message(retry, last_seq_hint=0)

    assert first.created and not again.created
    assert again.message == first.message  # same id, seq, createdAt and content
    history = store.history(room.id, before_seq=None, after_seq=None, limit=10).messages
    assert seqs(history) == [1, 2, 3]
    assert [m.client_msg_id for m in history].count(retry.client_msg_id) == 1


def test_a_stale_last_seq_hint_still_gets_the_next_seq(store: ChatStore) -> None:
    room = group(store, "alice")
    send(store, room.id, 3)

    appended = store.append_message(draft(room.id), last_seq_hint=0)

    assert appended.created and appended.message.seq == 4


def test_two_senders_with_the_same_client_msg_id_each_get_their_own_message_stored(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    client_msg_id = str(uuid.uuid4())

    alices = store.append_message(draft(room.id, sender="alice", content="from alice", client_msg_id=client_msg_id))
    bobs = store.append_message(draft(room.id, sender="bob", content="from bob", client_msg_id=client_msg_id))

    assert alices.created and bobs.created
    assert [m.content for m in store.history(room.id, before_seq=None, after_seq=None, limit=10).messages] == [
        "from alice",
        "from bob",
    ]


@pytest.mark.parametrize("hint", [None, 0])
def test_sending_to_an_unknown_room_is_forbidden(store: ChatStore, hint: int | None) -> None:
    with pytest.raises(Forbidden):
        store.append_message(draft("r_missing"), last_seq_hint=hint)


def test_a_member_who_left_no_longer_gets_the_member_view_of_the_room(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    store.remove_member(room.id, "alice")

    with pytest.raises(Forbidden):
        store.room_of_member(room.id, "alice")
    assert store.room_of_member(room.id, "bob").room.member_count == 1


def test_history_pages_backwards_from_the_latest(store: ChatStore) -> None:
    room = group(store, "alice")
    send(store, room.id, 10)

    latest = store.history(room.id, before_seq=None, after_seq=None, limit=3)
    older = store.history(room.id, before_seq=8, after_seq=None, limit=3)
    oldest = store.history(room.id, before_seq=3, after_seq=None, limit=5)

    assert (seqs(latest.messages), latest.has_more) == ([8, 9, 10], True)
    assert (seqs(older.messages), older.has_more) == ([5, 6, 7], True)
    assert (seqs(oldest.messages), oldest.has_more) == ([1, 2], False)


def test_history_pages_forwards_after_a_seq(store: ChatStore) -> None:
    room = group(store, "alice")
    send(store, room.id, 10)

    next_two = store.history(room.id, before_seq=None, after_seq=7, limit=2)
    rest = store.history(room.id, before_seq=None, after_seq=8, limit=5)
    exact = store.history(room.id, before_seq=None, after_seq=0, limit=10)

    assert (seqs(next_two.messages), next_two.has_more) == ([8, 9], True)
    assert (seqs(rest.messages), rest.has_more) == ([9, 10], False)
    assert (seqs(exact.messages), exact.has_more) == (list(range(1, 11)), False)


def test_history_of_a_room_without_messages_is_empty(store: ChatStore) -> None:
    room = group(store, "alice")

    assert store.history(room.id, before_seq=None, after_seq=None, limit=50) == store.history(
        room.id, before_seq=None, after_seq=0, limit=50
    )
    page = store.history(room.id, before_seq=None, after_seq=None, limit=50)
    assert (page.messages, page.has_more) == ([], False)


def _page_bytes(room_id: str, messages: list[p.Message]) -> int:
    return len(p.encode(p.HistoryPage(room_id=room_id, messages=messages, has_more=True)))


def test_a_latest_page_of_large_messages_fits_one_api_gateway_message_and_keeps_the_newest(
    store: ChatStore,
) -> None:
    room = group(store, "alice")
    # 4000 three-byte characters: 12 KB each, so a full page of 100 would be 1.2 MB.
    send(store, room.id, 30, content="€" * (p.MAX_CONTENT_CHARS - 10))

    page = store.history(room.id, before_seq=None, after_seq=None, limit=p.HISTORY_MAX_LIMIT)

    assert 1 < len(page.messages) < 30 and page.has_more
    assert seqs(page.messages) == list(range(31 - len(page.messages), 31))
    assert _page_bytes(room.id, page.messages) < p.MAX_MESSAGE_BYTES


def test_an_after_page_of_large_messages_fits_one_api_gateway_message_and_keeps_the_oldest(
    store: ChatStore,
) -> None:
    room = group(store, "alice")
    send(store, room.id, 30, content="€" * (p.MAX_CONTENT_CHARS - 10))

    page = store.history(room.id, before_seq=None, after_seq=5, limit=p.HISTORY_MAX_LIMIT)

    assert 1 < len(page.messages) < 25 and page.has_more
    assert seqs(page.messages) == list(range(6, 6 + len(page.messages)))
    assert _page_bytes(room.id, page.messages) < p.MAX_MESSAGE_BYTES


# ---------------------------------------------------------------------------------------------- flood control


def test_a_rested_user_may_send_the_budget_at_once_then_waits_exactly_the_time_it_says(store: ChatStore) -> None:
    admitted = [store.count_frame("alice", T0, 3, 10) for _ in range(3)]
    refused = store.count_frame("alice", T0, 3, 10)
    other_user = store.count_frame("bob", T0, 3, 10)

    assert admitted == [None, None, None] and other_user is None
    assert refused == 3332  # one frame refills every 3333 ms; the budget is full until then
    assert store.count_frame("alice", T0 + 3.331, 3, 10) == 1
    assert store.count_frame("alice", T0 + 3.332, 3, 10) is None
    assert store.count_frame("alice", T0 + 3.332, 3, 10) is not None


def test_refused_frames_do_not_use_up_the_budget(store: ChatStore) -> None:
    for _ in range(3):
        store.count_frame("alice", T0, 3, 10)
    for _ in range(50):
        assert store.count_frame("alice", T0 + 1, 3, 10) is not None

    assert [store.count_frame("alice", T0 + 10, 3, 10) for _ in range(4)] == [None, None, None, 3332]


# ---------------------------------------------------------------------------------------------- DynamoDB only


class ScriptedTransactions:
    """The real client, except that `transact_write_items` first raises what `failures` says, in order."""

    def __init__(self, client: Any, failures: list[list[str]], *, strip_items: bool = False) -> None:
        self._client = client
        self.failures = failures
        self.strip_items = strip_items
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.failures:
            codes = self.failures.pop(0)
            response: Any = {
                "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                "CancellationReasons": [{"Code": code} for code in codes],
            }
            raise ClientError(response, "TransactWriteItems")
        try:
            return self._client.transact_write_items(**kwargs)
        except ClientError as exc:
            if self.strip_items:  # DynamoDB without ReturnValuesOnConditionCheckFailure support
                reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons", [])  # type: ignore[assignment]
                for reason in reasons:
                    reason.pop("Item", None)
            raise


class Sleeps:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


CONFLICT = ["None", "None", "TransactionConflict"]
THROTTLED = ["ThrottlingError", "None", "None"]


def test_a_send_retries_transaction_conflicts_and_throttling_with_growing_pauses(
    dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    room = group(DynamoChatStore(dynamodb_client, table_names), "alice")
    client: Any = ScriptedTransactions(dynamodb_client, [CONFLICT, THROTTLED, CONFLICT])
    sleeps = Sleeps()
    store = DynamoChatStore(client, table_names, sleep=sleeps, jitter=lambda: 1.0)

    appended = store.append_message(draft(room.id), last_seq_hint=0)

    assert appended.created and appended.message.seq == 1
    assert client.calls == 4  # 3 cancelled, 1 committed
    assert sleeps.pauses == [0.05, 0.1, 0.2]


def test_a_send_gives_up_with_retry_after_when_contention_outlasts_its_attempts(
    dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    room = group(DynamoChatStore(dynamodb_client, table_names), "alice")
    client: Any = ScriptedTransactions(dynamodb_client, [CONFLICT] * 8)
    sleeps = Sleeps()
    store = DynamoChatStore(client, table_names, sleep=sleeps, jitter=lambda: 0.5, max_send_attempts=8)

    with pytest.raises(Unavailable) as raised:
        store.append_message(draft(room.id), last_seq_hint=0)

    assert client.calls == 8 and len(sleeps.pauses) == 7 and max(sleeps.pauses) == 0.25
    assert raised.value.retry_after_ms == 750 and raised.value.code == "unavailable"
    assert store.history(room.id, before_seq=None, after_seq=None, limit=10).messages == []
    retried = store.append_message(draft(room.id, client_msg_id=str(uuid.uuid4())))  # once contention is over
    assert retried.message.seq == 1


def test_duplicates_and_lost_races_are_resolved_by_reading_when_no_item_comes_back(
    dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    client: Any = ScriptedTransactions(dynamodb_client, [], strip_items=True)
    store = DynamoChatStore(client, table_names)
    room = group(store, "alice")
    first = store.append_message(draft(room.id, client_msg_id="0d3c9a4e-1111-4f7a-9a51-2a9e7b3c8d01"))
    send(store, room.id, 2)

    duplicate = store.append_message(
        draft(room.id, client_msg_id="0d3c9a4e-1111-4f7a-9a51-2a9e7b3c8d01"), last_seq_hint=0
    )
    raced = store.append_message(draft(room.id), last_seq_hint=1)

    assert not duplicate.created and duplicate.message == first.message
    assert raced.created and raced.message.seq == 4


def test_a_contended_send_keeps_trying_for_its_time_budget_not_a_fixed_number_of_attempts(
    dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    room = group(DynamoChatStore(dynamodb_client, table_names), "alice")
    client: Any = ScriptedTransactions(dynamodb_client, [CONFLICT] * 30)
    elapsed = [0.0]

    def sleep(seconds: float) -> None:
        elapsed[0] += seconds

    store = DynamoChatStore(
        client, table_names, sleep=sleep, jitter=lambda: 0.5, send_budget_seconds=10.0, monotonic=lambda: elapsed[0]
    )

    appended = store.append_message(draft(room.id), last_seq_hint=0)  # 30 losses sleep ~7 s: inside the budget

    assert appended.created and client.calls == 31
    hopeless: Any = ScriptedTransactions(dynamodb_client, [CONFLICT] * 1000)
    elapsed[0] = 0.0
    store = DynamoChatStore(
        hopeless, table_names, sleep=sleep, jitter=lambda: 0.5, send_budget_seconds=10.0, monotonic=lambda: elapsed[0]
    )
    with pytest.raises(Unavailable):
        store.append_message(draft(room.id), last_seq_hint=1)
    assert 10.0 <= elapsed[0] < 10.5


def test_each_send_stores_one_message_item_and_one_idempotency_item(
    dynamo_store: DynamoChatStore, dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    room = group(dynamo_store, "alice")
    client_msg_id = str(uuid.uuid4())
    for hint in (None, 0, 1):
        dynamo_store.append_message(draft(room.id, client_msg_id=client_msg_id), last_seq_hint=hint)

    def items(table: str) -> list[dict[str, Any]]:
        return dynamodb_client.query(  # type: ignore[no-any-return]
            TableName=table_names[table],
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": room.id}},
        )["Items"]

    assert [item["seq"] for item in items("messages")] == [{"N": "1"}]
    assert items("idempotency") == [
        {
            "roomId": {"S": room.id},
            "senderMsgId": {"S": f"alice#{client_msg_id}"},
            "seq": {"N": "1"},
            "messageId": items("messages")[0]["id"],
        }
    ]


def test_connections_and_presence_items_have_the_documented_shape(
    dynamo_store: DynamoChatStore, dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    connect(dynamo_store, "alice", "c1")

    connection = dynamodb_client.get_item(TableName=table_names["connections"], Key={"connectionId": {"S": "c1"}})[
        "Item"
    ]
    user = dynamodb_client.get_item(TableName=table_names["users"], Key={"userId": {"S": "alice"}})["Item"]

    expires_at = int(T0) + LIFETIME
    assert connection["expiresAt"] == {"N": str(expires_at)}
    assert connection["ttl"] == {"N": str(expires_at + 3600)}
    assert user["connections"] == {"SS": [f"{expires_at}:c1"]}
    assert user["nameKey"] == {"S": "alice"} and user["directory"] == {"S": "users"}


def test_forgetting_the_last_live_connection_records_when_the_user_was_last_seen(
    dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    store = DynamoChatStore(dynamodb_client, table_names, clock=lambda: T0 + 60)
    gone = connect(store, "alice", "c1").user.live_connections(T0)[0]
    connect(store, "bob", "b1")
    connect(store, "bob", "b2")
    bob_gone = next(c for c in store.get_users(["bob"])["bob"].connections if c.connection_id == "b1")

    store.forget_connections(None, [RoomConnection("alice", gone), RoomConnection("bob", bob_gone)])
    store.forget_connections(None, [RoomConnection("alice", gone)])  # found gone again: nothing changes

    users = store.get_users(["alice", "bob"])
    assert users["alice"].last_seen == "2027-01-15T08:01:00.000Z" and not users["alice"].is_online(T0 + 60)
    assert users["bob"].last_seen is None and users["bob"].is_online(T0 + 60)


def test_throttling_that_outlasts_botocore_retries_is_unavailable_and_other_errors_leak_nothing(
    dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    class Failing:
        def __init__(self, code: str) -> None:
            self.code = code

        def get_item(self, **kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "details"}}, "GetItem")

    throttled = DynamoChatStore(Failing("ProvisionedThroughputExceededException"), table_names)  # type: ignore[arg-type]
    broken = DynamoChatStore(Failing("ValidationException"), table_names)  # type: ignore[arg-type]

    with pytest.raises(Unavailable) as unavailable:
        throttled.get_room("r1")
    with pytest.raises(ChatError) as internal:
        broken.get_room("r1")

    assert unavailable.value.retry_after_ms and unavailable.value.retry_after_ms > 0
    assert type(internal.value) is ChatError and "details" not in internal.value.message
    assert isinstance(internal.value.__cause__, ClientError)


def test_table_names_come_from_the_settings(dynamodb_client: Any, table_names: dict[str, str]) -> None:
    settings = Settings.from_environ(
        {
            **{spec.env_var: table_names[spec.name] for spec in TABLES},
            "CONNECTIONS_ENDPOINT_URL": "https://example.invalid/dev",
            "JWT_ISSUER": "https://issuer.invalid",
            "JWT_AUDIENCE": "chat",
            "JWKS_URL": "https://issuer.invalid/jwks.json",
        }
    )
    store = DynamoChatStore(dynamodb_client, settings)

    room = group(store, "alice")

    assert store.get_room(room.id) == room


class CountingClient:
    """The real client, counting UpdateItem calls."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.updates = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **kwargs: Any) -> Any:
        self.updates += 1
        return self._client.update_item(**kwargs)


def test_flood_control_costs_one_write_at_rest_two_mid_burst_and_one_to_refuse(
    dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    client = CountingClient(dynamodb_client)
    store = DynamoChatStore(client, table_names)

    def writes(now: float) -> tuple[int | None, int]:
        before = client.updates
        outcome = store.count_frame("alice", now, 2, 10)
        return outcome, client.updates - before

    assert writes(T0) == (None, 1)  # rested
    assert writes(T0) == (None, 2)  # mid-burst: the rested condition fails, the ADD succeeds
    assert writes(T0) == (5000, 1)  # full: refused from what the failed condition returned
    assert writes(T0 + 60) == (None, 1)  # rested again


# ------------------------------------------------------------------------------------ live-connection index


def live(store: ChatStore, room_id: str) -> dict[str, str]:
    """Connection id -> user id of the room's index."""
    return {entry.connection_id: entry.user_id for entry in store.room_connections(room_id).connections}


def test_a_connection_enters_the_index_of_each_of_its_users_rooms_and_leaves_it_on_close(store: ChatStore) -> None:
    first, second, other = group(store, "alice", "bob"), group(store, "alice"), group(store, "bob")
    connection = connect(store, "alice", "a1").user.live_connections(T0)[0]

    indexed = store.index_connection("alice", connection)

    assert sorted(indexed) == sorted([first.id, second.id])
    assert live(store, first.id) == {"a1": "alice"} and live(store, second.id) == {"a1": "alice"}
    assert live(store, other.id) == {}
    assert sorted(store.unindex_connection("alice", "a1")) == sorted([first.id, second.id])
    assert live(store, first.id) == {} and live(store, second.id) == {}


def test_joining_enters_the_newcomers_open_connections_and_leaving_takes_them_out(store: ChatStore) -> None:
    connect(store, "carol", "c1")
    connect(store, "carol", "c2")
    room = group(store, "alice")

    store.add_members(room.id, "alice", ["carol"])
    assert live(store, room.id) == {"c1": "carol", "c2": "carol"}

    store.remove_member(room.id, "carol")
    assert live(store, room.id) == {}


def test_a_room_created_with_online_members_indexes_their_connections(store: ChatStore) -> None:
    connect(store, "bob", "b1")

    room = group(store, "alice", "bob")

    assert live(store, room.id) == {"b1": "bob"}


def test_the_index_pages_by_connection_id_and_skips_connections_past_their_lifetime(store: ChatStore) -> None:
    room = group(store, *(f"u{i}" for i in range(5)))
    for i in range(5):
        at = 1_000_000_000.0 if i == 2 else T0  # u2's connection ended in 2001
        change = connect(store, f"u{i}", f"c{i}", at=at)
        store.index_connection(f"u{i}", next(iter(change.user.connections)))

    pages, after = [], None
    while True:
        page = store.room_connections(room.id, after=after, limit=2)
        pages.append([entry.connection_id for entry in page.connections])
        if page.next_after is None:
            break
        after = page.next_after

    assert [cid for page_ids in pages for cid in page_ids] == ["c0", "c1", "c3", "c4"]
    assert all(len(page_ids) <= 2 for page_ids in pages)


def test_forgetting_a_gone_connection_takes_it_out_of_the_rooms_index(store: ChatStore) -> None:
    room = group(store, "alice", "bob")
    connection = connect(store, "bob", "b1").user.live_connections(T0)[0]
    store.index_connection("bob", connection)

    store.forget_connections(room.id, [RoomConnection("bob", connection)])

    assert live(store, room.id) == {}


def test_member_ids_page_in_order_and_a_leaver_is_replaced_among_the_hundred_shown(store: ChatStore) -> None:
    everyone = [f"m{i:03}" for i in range(120)]
    room = group(store, *everyone)

    assert store.member_ids(room.id, after=None, limit=3) == ["m000", "m001", "m002"]
    assert store.member_ids(room.id, after="m117", limit=5) == ["m118", "m119"]
    after_leave = store.remove_member(room.id, "m005")
    assert after_leave.member_count == 119 and "m005" not in after_leave.member_ids
    assert after_leave.member_ids == tuple(m for m in everyone if m != "m005")[:100]


def test_the_member_view_holds_the_counter_and_the_profile_in_one_read(store: ChatStore) -> None:
    connect(store, "alice", "a1")
    room = group(store, "alice")
    sent = send(store, room.id, 2)

    view = store.room_of_member(room.id, "alice")

    assert view.room.last_seq == 2 and view.room.last_message == sent[-1]
    assert view.profile is not None and view.profile.name == "Alice"
    with pytest.raises(Forbidden):
        store.room_of_member("r_missing", "alice")


def test_a_big_room_takes_one_typing_frame_per_interval(store: ChatStore) -> None:
    assert store.claim_room_typing("r_big", T0, 3.0)
    assert not store.claim_room_typing("r_big", T0 + 1, 3.0)
    assert store.claim_room_typing("r_other", T0 + 1, 3.0)
    assert store.claim_room_typing("r_big", T0 + 3, 3.0)


BIG_ROOM = 300


def test_a_room_of_hundreds_of_members_keeps_every_item_a_send_touches_small(
    dynamo_store: DynamoChatStore, dynamodb_client: Any, table_names: dict[str, str]
) -> None:
    everyone = [f"m{i:05}" for i in range(BIG_ROOM)]
    room = dynamo_store.create_room(RoomRecord("r_everyone", "Everyone", True, CREATED_AT), everyone)
    connect(dynamo_store, "m00299", "last")
    dynamo_store.index_connection("m00299", next(iter(dynamo_store.get_users(["m00299"])["m00299"].connections)))

    sent = dynamo_store.append_message(draft(room.id, sender="m00000", content="x" * 4000)).message
    view = dynamo_store.room_of_member(room.id, "m00299")

    def item_bytes(table: str, key: dict[str, Any]) -> int:
        item = dynamodb_client.get_item(TableName=table_names[table], Key=key)["Item"]
        return len(json.dumps(item))

    assert view.room.member_count == BIG_ROOM and len(view.room.member_ids) == 100 and view.room.last_seq == sent.seq
    assert item_bytes("rooms", {"roomId": {"S": room.id}}) < 4096  # the first 100 ids, never 10,000
    assert item_bytes("room_counters", {"roomId": {"S": room.id}}) < 1024  # a preview, not the 4,000 characters
    assert [e.connection_id for e in dynamo_store.room_connections(room.id).connections] == ["last"]
    assert dynamo_store.member_ids(room.id, after="m00297", limit=5) == ["m00298", "m00299"]
    assert dynamo_store.remove_member(room.id, "m00000").member_count == BIG_ROOM - 1


def test_only_a_member_passes_the_membership_check(store: ChatStore) -> None:
    room = group(store, "alice")

    store.require_member(room.id, "alice")
    for room_id, user_id in ((room.id, "bob"), ("r_missing", "alice")):
        with pytest.raises(Forbidden):
            store.require_member(room_id, user_id)


def test_removing_only_the_avatar_changes_the_profile(store: ChatStore) -> None:
    connect(store, "alice", "c1")
    store.update_profile("alice", name=None, avatar_url="https://img.test/a.png")

    user = store.update_profile("alice", name=None, avatar_url="")

    assert user.avatar_url is None and store.get_users(["alice"])["alice"].avatar_url is None
