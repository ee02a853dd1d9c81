"""The Lambda handlers end to end: API-Gateway-shaped events in, real boto3 calls on moto's DynamoDB, frames
posted through the real Management API client to a recording `@connections` endpoint."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chat.observability import logger
from chat.protocol import MAX_CONTENT_CHARS, MAX_FRAME_BYTES
from chat.service import direct_room_id
from local.dynamodb import EmbeddedDynamoDB, create_tables
from tests.integration.handler_harness import (
    TABLE_NAMES,
    Gateway,
    chat_environment,
    reset_caches,
    use_environment,
)
from tests.support.connections_api import ConnectionsApi


@pytest.fixture
def connections_api() -> Iterator[ConnectionsApi]:
    api = ConnectionsApi().start()
    yield api
    api.stop()


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {}


@pytest.fixture
def gateway(
    monkeypatch: pytest.MonkeyPatch, connections_api: ConnectionsApi, env_overrides: dict[str, str]
) -> Iterator[Gateway]:
    use_environment(monkeypatch, chat_environment(connections_api.url, **env_overrides))
    operations: list[str] = []
    with mock_aws():  # moto starts a fresh default boto3 session: record on that one
        events = boto3._get_default_session().events
        events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name))
        create_tables(boto3.client("dynamodb"), TABLE_NAMES)
        yield Gateway(connections_api)
    reset_caches()
    # Cost per message must not grow with the users outside a room.
    assert "Scan" not in operations and operations


def stored_messages(room_id: str) -> list[dict[str, object]]:
    items = boto3.client("dynamodb").query(
        TableName=TABLE_NAMES["messages"],
        KeyConditionExpression="roomId = :r",
        ExpressionAttributeValues={":r": {"S": room_id}},
        ConsistentRead=True,
    )["Items"]
    return [{"seq": int(i["seq"]["N"]), "content": i["content"]["S"]} for i in items]


def test_two_users_chat_in_a_group_room(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    alice_phone = gateway.connect("Alice")
    room = gateway.group(alice, bob)

    ack = gateway.message(alice, room["id"], "hello bob", requestId="q1")
    reply = gateway.message(bob, room["id"], "hi alice")

    assert ack["type"] == "ack" and ack["requestId"] == "q1"
    assert ack["message"]["seq"] == 1 and ack["message"]["senderId"] == "alice"
    assert ack["message"]["senderName"] == "Alice" and ack["message"]["replyToId"] is None
    assert reply["message"]["seq"] == 2
    assert [f["message"]["content"] for f in gateway.api.received(bob.connection_id, "message")] == ["hello bob"]
    assert [f["message"]["content"] for f in gateway.api.received(alice.connection_id, "message")] == ["hi alice"]
    assert [f["message"]["content"] for f in gateway.api.received(alice_phone.connection_id, "message")] == [
        "hello bob",
        "hi alice",
    ]
    assert stored_messages(room["id"]) == [
        {"seq": 1, "content": "hello bob"},
        {"seq": 2, "content": "hi alice"},
    ]


def test_a_direct_room_is_the_same_whoever_opens_it_and_the_other_user_is_told(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")

    opened = gateway.send(alice, "openDirect", userId="bob")
    reopened = gateway.send(bob, "openDirect", userId="alice")

    assert opened["room"] == reopened["room"]
    assert opened["room"]["isGroup"] is False and opened["room"]["memberIds"] == ["alice", "bob"]
    assert [f["room"]["id"] for f in gateway.api.received(bob.connection_id, "room")] == [opened["room"]["id"]]
    gateway.message(bob, opened["room"]["id"], "psst")
    assert gateway.api.received(alice.connection_id, "message")[0]["message"]["content"] == "psst"


def test_a_retried_send_gets_the_same_ack_and_stores_one_copy(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob)
    client_msg_id = str(uuid.uuid4())

    first = gateway.message(alice, room["id"], "only once", clientMsgId=client_msg_id)
    retry = gateway.message(alice, room["id"], "only once", clientMsgId=client_msg_id)

    assert retry == first
    assert stored_messages(room["id"]) == [{"seq": 1, "content": "only once"}]
    assert len(gateway.api.received(bob.connection_id, "message")) == 1


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("sendMessage", {"content": "let me in", "clientMsgId": "0b7c3a2e-1111-4c4c-9d9d-123456789abc"}),
        ("typing", {"isTyping": True}),
        ("history", {}),
        ("presence", {}),
        ("addMembers", {"memberIds": ["eve"]}),
        ("leaveRoom", {}),
        ("markRead", {"seq": 1}),
        ("editMessage", {"messageId": "x-1", "content": "mine now"}),
        ("deleteMessage", {"messageId": "x-1"}),
        ("addReaction", {"messageId": "x-1", "emoji": "👍"}),
        ("getMessage", {"messageId": "x-1"}),
        ("changes", {}),
        ("removeMember", {"userId": "alice"}),
        ("renameRoom", {"name": "mine now"}),
    ],
)
def test_non_members_are_forbidden_every_room_action_and_nothing_changes(
    gateway: Gateway, action: str, fields: dict[str, object]
) -> None:
    alice, eve = gateway.connect("Alice"), gateway.connect("Eve")
    room = gateway.group(alice)
    gateway.message(alice, room["id"], "secret")

    reply = gateway.send(eve, action, roomId=room["id"], requestId="r9", **fields)

    assert reply["type"] == "error" and reply["code"] == "forbidden"
    assert reply["action"] == action and reply["requestId"] == "r9"
    assert stored_messages(room["id"]) == [{"seq": 1, "content": "secret"}]
    assert gateway.send(alice, "presence", roomId=room["id"])["users"][0]["userId"] == "alice"
    assert len(gateway.send(alice, "presence", roomId=room["id"])["users"]) == 1
    assert gateway.api.received(alice.connection_id, "typing") == []


def test_read_markers_edits_deletes_and_reactions_through_the_handlers(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    bob_phone = gateway.connect("Bob")
    room = gateway.group(alice, bob)
    first = gateway.message(alice, room["id"], "helo")["message"]
    second = gateway.message(alice, room["id"], "oops")["message"]

    read = gateway.send(bob, "markRead", roomId=room["id"], seq=1)
    edited = gateway.send(alice, "editMessage", roomId=room["id"], messageId=first["id"], content="hello")
    refused = gateway.send(bob, "editMessage", roomId=room["id"], messageId=first["id"], content="mine")
    reacted = gateway.send(bob, "addReaction", roomId=room["id"], messageId=first["id"], emoji="🎉")
    deleted = gateway.send(alice, "deleteMessage", roomId=room["id"], messageId=second["id"])

    assert read["seq"] == 1 and gateway.api.received(bob_phone.connection_id, "read")[0]["seq"] == 1
    assert edited["message"]["content"] == "hello" and edited["message"]["seq"] == 1
    assert refused["code"] == "forbidden"
    assert reacted["reactions"] == [{"emoji": "🎉", "count": 1}]
    assert deleted["message"]["deletedAt"] and deleted["message"]["content"] == ""
    assert stored_messages(room["id"]) == [{"seq": 1, "content": "hello"}, {"seq": 2, "content": ""}]
    assert [f["message"]["content"] for f in gateway.api.received(bob.connection_id, "messageUpdated")] == ["hello", ""]
    page = gateway.send(bob, "history", roomId=room["id"])["messages"]
    assert [(m["myReactions"], m["version"]) for m in page] == [(["🎉"], 2), ([], 3)]
    rooms = gateway.send(bob, "listRooms")["rooms"]
    assert (rooms[0]["unreadCount"], rooms[0]["lastVersion"], rooms[0]["lastMessage"]["content"]) == (1, 3, "")
    feed = gateway.send(bob, "changes", roomId=room["id"], afterVersion=0)
    assert [m["seq"] for m in feed["messages"]] == [1, 2] and feed["version"] == 3


def test_sync_and_room_roles_through_the_handlers(gateway: Gateway) -> None:
    alice, bob, carol = gateway.connect("Alice"), gateway.connect("Bob"), gateway.connect("Carol")
    room = gateway.group(alice, bob, carol)
    quiet = gateway.group(alice, bob, name="quiet")
    gateway.message(alice, room["id"], "news")

    page = gateway.send(bob, "sync", rooms={room["id"]: 0, quiet["id"]: 0})
    renamed = gateway.send(alice, "renameRoom", roomId=room["id"], name="Launch")
    not_admin = gateway.send(bob, "removeMember", roomId=room["id"], userId=carol.user_id)
    removed = gateway.send(alice, "removeMember", roomId=room["id"], userId=carol.user_id)

    assert [news["roomId"] for news in page["rooms"]] == [room["id"]] and page["left"] == []
    assert [m["content"] for m in page["rooms"][0]["messages"]] == ["news"]
    assert renamed["room"]["name"] == "Launch" and room["adminIds"] == [alice.user_id]
    assert gateway.api.received(bob.connection_id, "room")[-1]["room"]["name"] == "Launch"
    assert not_admin["code"] == "forbidden"
    assert removed["room"]["memberCount"] == 2
    assert gateway.api.received(carol.connection_id, "removed") == [
        {"type": "removed", "roomId": room["id"], "byUserId": alice.user_id}
    ]
    assert gateway.send(carol, "history", roomId=room["id"])["code"] == "forbidden"
    assert gateway.send(carol, "sync", rooms={room["id"]: 0})["left"] == [room["id"]]


def test_an_unknown_room_and_someone_elses_direct_room_get_the_same_answer(gateway: Gateway) -> None:
    alice, bob, eve = gateway.connect("Alice"), gateway.connect("Bob"), gateway.connect("Eve")
    direct = gateway.send(alice, "openDirect", userId=bob.user_id)["room"]["id"]
    unknown = direct_room_id(alice.user_id, "nobody")

    answers = [gateway.send(eve, "history", roomId=room_id) for room_id in (direct, unknown)]

    assert answers[0]["code"] == answers[1]["code"] == "forbidden"
    assert answers[0]["message"].replace(direct, "?") == answers[1]["message"].replace(unknown, "?")


def test_history_pages_both_directions_for_catch_up(gateway: Gateway) -> None:
    alice = gateway.connect("Alice")
    room = gateway.group(alice)
    for i in range(1, 6):
        gateway.message(alice, room["id"], f"m{i}")

    latest = gateway.send(alice, "history", roomId=room["id"], limit=2)
    older = gateway.send(alice, "history", roomId=room["id"], beforeSeq=4, limit=2)
    oldest = gateway.send(alice, "history", roomId=room["id"], beforeSeq=2, limit=2)
    catch_up = gateway.send(alice, "history", roomId=room["id"], afterSeq=2)

    assert ([m["seq"] for m in latest["messages"]], latest["hasMore"]) == ([4, 5], True)
    assert ([m["seq"] for m in older["messages"]], older["hasMore"]) == ([2, 3], True)
    assert ([m["seq"] for m in oldest["messages"]], oldest["hasMore"]) == ([1], False)
    assert ([m["seq"] for m in catch_up["messages"]], catch_up["hasMore"]) == ([3, 4, 5], False)


def test_presence_with_two_connections_of_one_user(gateway: Gateway) -> None:
    alice, bob_laptop = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob_laptop)
    bob_phone = gateway.connect("Bob")

    gateway.disconnect(bob_laptop)
    still_online = gateway.send(alice, "presence", roomId=room["id"])
    gateway.disconnect(bob_phone)
    offline = gateway.send(alice, "presence", roomId=room["id"])

    assert {u["userId"]: u["online"] for u in still_online["users"]} == {"alice": True, "bob": True}
    bob = next(u for u in offline["users"] if u["userId"] == "bob")
    assert bob["online"] is False and bob["lastSeen"].endswith("Z")
    pushes = gateway.api.received(alice.connection_id, "presence")
    assert [(p["userId"], p["online"]) for p in pushes] == [("bob", False)]
    gateway.connect("Bob")
    assert gateway.api.received(alice.connection_id, "presence")[-1]["online"] is True


def test_a_gone_connection_is_removed_and_never_posted_to_again(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chat.pushes.CONNECT_WINDOW_SECONDS", 0)  # Bob's connection is past its $connect
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob)
    gateway.api.gone.add(bob.connection_id)

    gateway.message(alice, room["id"], "anyone?")
    gateway.message(alice, room["id"], "hello?")

    assert gateway.api.posts[bob.connection_id] == 2  # the room push before it was gone, then the first message
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE_NAMES["connections"], Key={"connectionId": {"S": bob.connection_id}}
    )
    assert "Item" not in item
    presence = gateway.send(alice, "presence", roomId=room["id"])
    assert {u["userId"]: u["online"] for u in presence["users"]}["bob"] is False


def test_throttled_posts_are_retried_until_delivered(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob)
    gateway.api.throttle[bob.connection_id] = 2

    gateway.message(alice, room["id"], "eventually")

    assert [f["message"]["content"] for f in gateway.api.received(bob.connection_id, "message")] == ["eventually"]


def test_typing_is_pushed_to_other_members_and_never_stored(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob)

    reply = gateway.send_raw(alice, json.dumps({"action": "typing", "roomId": room["id"], "isTyping": True}))

    assert reply is None
    assert gateway.api.received(bob.connection_id, "typing") == [
        {"type": "typing", "roomId": room["id"], "userId": "alice", "userName": "Alice", "isTyping": True}
    ]
    assert stored_messages(room["id"]) == []


def test_rooms_users_and_ping(gateway: Gateway) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob, name="Launch")
    gateway.message(bob, room["id"], "ready")
    carol = gateway.connect("Carol")
    added = gateway.send(alice, "addMembers", roomId=room["id"], memberIds=["carol"])
    left = gateway.send(bob, "leaveRoom", roomId=room["id"])

    rooms = gateway.send(carol, "listRooms")["rooms"]
    users = gateway.send(alice, "listUsers", query="b")["users"]

    assert added["room"]["memberIds"] == ["alice", "bob", "carol"]
    assert left["room"]["memberIds"] == ["alice", "carol"]
    assert [(r["name"], r["lastSeq"], r["lastMessage"]["content"]) for r in rooms] == [("Launch", 1, "ready")]
    assert [(u["name"], u["online"]) for u in users] == [("Bob", True)]
    assert gateway.send(alice, "ping", requestId="p") == {"type": "pong", "requestId": "p"}


def test_adding_an_unknown_user_is_not_found(gateway: Gateway) -> None:
    alice = gateway.connect("Alice")
    room = gateway.group(alice)
    assert gateway.send(alice, "addMembers", roomId=room["id"], memberIds=["ghost"])["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("this is not json", "bad_request"),
        ('{"action": "teleport"}', "bad_request"),
        ('{"action": "sendMessage", "roomId": "ROOM"}', "bad_request"),
        (
            '{"action": "sendMessage", "roomId": "ROOM", "clientMsgId": "CMID", "content": "'
            + "x" * (MAX_CONTENT_CHARS + 1)
            + '"}',
            "too_large",
        ),
        ('{"action": "sendMessage", "pad": "' + "x" * MAX_FRAME_BYTES + '"}', "too_large"),
    ],
    ids=["not-json", "unknown-action", "missing-fields", "content-too-long", "frame-too-large"],
)
def test_bad_frames_get_an_error_and_change_nothing(gateway: Gateway, body: str, code: str) -> None:
    alice, bob = gateway.connect("Alice"), gateway.connect("Bob")
    room = gateway.group(alice, bob)
    body = body.replace("ROOM", room["id"]).replace("CMID", str(uuid.uuid4()))

    reply = gateway.send_raw(alice, body)

    assert reply is not None and reply["type"] == "error" and reply["code"] == code
    assert stored_messages(room["id"]) == []
    assert gateway.api.received(bob.connection_id, "message") == []


def test_a_frame_after_the_token_expired_is_unauthorized(gateway: Gateway) -> None:
    alice = gateway.connect("Alice", token_lifetime=-1)
    reply = gateway.send(alice, "listRooms", requestId="x")
    assert (reply["code"], reply["requestId"]) == ("unauthorized", "x")


# An hour-long window, so that the test never straddles two windows.
@pytest.mark.parametrize("env_overrides", [{"RATE_LIMIT_FRAMES": "3", "RATE_LIMIT_WINDOW_SECONDS": "3600"}])
def test_a_flood_is_rate_limited_and_the_excess_is_not_stored(gateway: Gateway) -> None:
    alice = gateway.connect("Alice")
    room = gateway.group(alice)  # frame 1
    replies = [gateway.message(alice, room["id"], f"m{i}") for i in range(4)]

    assert [r["type"] for r in replies] == ["ack", "ack", "error", "error"]
    assert replies[2]["code"] == "rate_limited" and 0 < replies[2]["retryAfterMs"] <= 3_600_000
    assert [m["content"] for m in stored_messages(room["id"])] == ["m0", "m1"]
    assert gateway.send(alice, "ping")["type"] == "pong"


@pytest.mark.parametrize(
    ("env_overrides", "outcome"),
    [
        ({"MODERATION_MODE": "mask"}, "well **** happens"),
        ({"MODERATION_MODE": "off"}, "well shit happens"),
        ({"MODERATION_MODE": "reject"}, "rejected"),
        ({"MODERATION_MODE": "reject", "MODERATION_WORDS": "darn,heck"}, "well shit happens"),
    ],
)
def test_each_moderation_mode(gateway: Gateway, outcome: str) -> None:
    alice = gateway.connect("Alice")
    room = gateway.group(alice)

    reply = gateway.message(alice, room["id"], "well shit happens")

    if outcome == "rejected":
        assert reply["code"] == "rejected" and stored_messages(room["id"]) == []
    else:
        assert reply["message"]["content"] == outcome


def test_storage_failures_are_internal_errors_that_leak_nothing(gateway: Gateway) -> None:
    alice = gateway.connect("Alice")
    room = gateway.group(alice)
    boto3.client("dynamodb").delete_table(TableName=TABLE_NAMES["messages"])

    reply = gateway.message(alice, room["id"], "into the void")

    assert reply["code"] == "internal"
    assert TABLE_NAMES["messages"] not in reply["message"] and "ResourceNotFound" not in reply["message"]


def test_no_log_line_carries_a_message_body(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    log = io.StringIO()
    handler = logger.registered_handler
    previous_stream = handler.setStream(log)
    try:
        alice = gateway.connect("Alice")
        room = gateway.group(alice)
        gateway.message(alice, room["id"], "the-secret-plan")
        gateway.message(alice, room["id"], "x" * (MAX_CONTENT_CHARS + 1) + "the-oversized-secret")
    finally:
        handler.setStream(previous_stream)

    written = log.getvalue() + capsys.readouterr().out
    assert "the-secret-plan" not in written and "the-oversized-secret" not in written
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [(line["message"], line.get("code")) for line in lines[-2:]] == [
        ("frame handled", None),
        ("frame refused", "too_large"),
    ]
    assert all(line["userId"] == "alice" for line in lines)


MESSAGES_PER_SENDER = 10


def test_twenty_members_sending_ten_messages_at_once_are_all_acked_with_gap_free_seqs(
    monkeypatch: pytest.MonkeyPatch, connections_api: ConnectionsApi
) -> None:
    with EmbeddedDynamoDB() as dynamodb:
        dynamodb.create_tables(TABLE_NAMES)
        use_environment(monkeypatch, chat_environment(connections_api.url, DYNAMODB_ENDPOINT_URL=dynamodb.endpoint_url))
        gateway = Gateway(connections_api)
        senders = [gateway.connect(f"User{i}") for i in range(20)]
        room = gateway.group(senders[0], *senders[1:])

        start = threading.Barrier(20)
        retries: list[str] = []

        def send_acked(sender_index: int, n: int) -> dict[str, Any]:
            client_msg_id = str(uuid.uuid4())
            for _ in range(3):  # only `unavailable` (the contention budget ran out) may be retried, as a client would
                reply = gateway.message(
                    senders[sender_index], room["id"], f"{sender_index}-{n}", clientMsgId=client_msg_id
                )
                if reply.get("code") != "unavailable":
                    break
                retries.append(client_msg_id)
            return reply

        def send_all(sender_index: int) -> list[dict[str, Any]]:
            start.wait()
            return [send_acked(sender_index, n) for n in range(10)]

        with ThreadPoolExecutor(max_workers=20) as pool:
            replies = [reply for sent in pool.map(send_all, range(20)) for reply in sent]
        # Contention between members is ordinary: never an `internal` error, every message acked.
        assert [r for r in replies if r["type"] != "ack"] == []
        print(f"\n200 messages from 20 members at once: {len(retries)} retried after `unavailable`")
        acked = [reply["message"]["seq"] for reply in replies]
        reset_caches()

        stored = dynamodb.client().query(
            TableName=TABLE_NAMES["messages"],
            KeyConditionExpression="roomId = :r",
            ExpressionAttributeValues={":r": {"S": room["id"]}},
        )["Items"]

    total = 20 * MESSAGES_PER_SENDER
    assert len(acked) == total
    assert sorted(acked) == list(range(1, total + 1))
    assert sorted(int(i["seq"]["N"]) for i in stored) == list(range(1, total + 1))
