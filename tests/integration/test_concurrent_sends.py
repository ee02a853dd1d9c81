"""Many senders, one room, a served DynamoDB: seq stays gap-free and every clientMsgId is stored exactly once.

The server is the local stack's embedded DynamoDB (moto, one request at a time, like DynamoDB's per-item
serialization). Each sender thread has its own client and store and retries `Unavailable` with the same
clientMsgId, as a client retries after an error with `retryAfterMs`.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

from chat import protocol as p
from chat.dynamo import DynamoChatStore
from chat.errors import Unavailable
from chat.ports import Appended, MessageDraft, RoomRecord
from chat.tables import TABLES
from local.dynamodb import EmbeddedDynamoDB

pytestmark = pytest.mark.slow

SENDERS = 20
MESSAGES_PER_SENDER = 10
RESEND_EVERY = 5  # every fifth message is sent a second time after its ack, as after a lost ack
DEADLINE_SECONDS = 120
ROOM_ID = "r_busy"


@dataclass
class Tally:
    """What the senders saw, shared across threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    backoffs: int = 0
    unavailable: int = 0

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.backoffs += 1
        time.sleep(seconds)


def _configured_client(server: EmbeddedDynamoDB) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3}),
    )


def _draft(sender: str, n: int, client_msg_id: str) -> MessageDraft:
    return MessageDraft(
        id=str(uuid.uuid4()),  # a resend is a new frame: the service gives it a new id and time
        room_id=ROOM_ID,
        sender_id=sender,
        sender_name=sender,
        content=f"{sender} #{n}",
        created_at=f"2027-01-15T08:00:{n:02}.{time.monotonic_ns() % 1000:03}Z",
        client_msg_id=client_msg_id,
        reply_to_id=None,
    )


def _send_until_stored(store: DynamoChatStore, draft: MessageDraft, tally: Tally, deadline: float) -> Appended:
    while True:
        try:
            return store.append_message(draft)
        except Unavailable as exc:
            with tally.lock:
                tally.unavailable += 1
            if time.monotonic() > deadline:
                raise
            time.sleep((exc.retry_after_ms or 100) / 1000)


def test_concurrent_senders_to_one_room_get_gap_free_seqs_and_one_stored_copy_per_client_msg_id(
    embedded_dynamodb: EmbeddedDynamoDB,
) -> None:
    table_names = {spec.name: f"concurrent-{spec.name}" for spec in TABLES}
    embedded_dynamodb.create_tables(table_names)
    senders = [f"user{i:02}" for i in range(SENDERS)]
    DynamoChatStore(_configured_client(embedded_dynamodb), table_names).create_room(
        RoomRecord(ROOM_ID, "Busy", True, "2027-01-15T08:00:00.000Z"), senders
    )
    tally = Tally()
    # boto3's default session is not thread-safe: every client is built here, before the threads start.
    stores = [DynamoChatStore(_configured_client(embedded_dynamodb), table_names, sleep=tally.sleep) for _ in senders]
    started = time.monotonic()
    deadline = started + DEADLINE_SECONDS

    def run_sender(index: int) -> tuple[dict[str, p.Message], int, list[tuple[p.Message, Appended]]]:
        store, sender = stores[index], senders[index]
        acked: dict[str, p.Message] = {}
        created = 0
        resends: list[tuple[p.Message, Appended]] = []
        for n in range(MESSAGES_PER_SENDER):
            client_msg_id = str(uuid.uuid4())
            appended = _send_until_stored(store, _draft(sender, n, client_msg_id), tally, deadline)
            acked[client_msg_id] = appended.message
            created += appended.created
            if n % RESEND_EVERY == 0:
                again = _send_until_stored(store, _draft(sender, n, client_msg_id), tally, deadline)
                resends.append((appended.message, again))
        return acked, created, resends

    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="sender") as pool:
        futures = [pool.submit(run_sender, i) for i in range(SENDERS)]
        results = [future.result(timeout=DEADLINE_SECONDS + 30) for future in futures]
    elapsed = time.monotonic() - started

    acked = {cmid: message for sender_acks, _, _ in results for cmid, message in sender_acks.items()}
    total = SENDERS * MESSAGES_PER_SENDER
    assert len(acked) == total
    assert sum(created for _, created, _ in results) == total  # no send was stored twice, none reported stored twice
    resends = [pair for _, _, sender_resends in results for pair in sender_resends]
    assert resends and all(not again.created and again.message == first for first, again in resends)

    reader = stores[0]
    history: list[p.Message] = []
    page = reader.history(ROOM_ID, before_seq=None, after_seq=0, limit=p.HISTORY_MAX_LIMIT)
    history.extend(page.messages)
    while page.has_more:
        page = reader.history(ROOM_ID, before_seq=None, after_seq=history[-1].seq, limit=p.HISTORY_MAX_LIMIT)
        history.extend(page.messages)

    assert [m.seq for m in history] == list(range(1, total + 1))  # gap-free, no duplicate, from 1
    assert sorted(m.client_msg_id for m in history) == sorted(acked)  # one copy per clientMsgId
    assert all(acked[m.client_msg_id] == m for m in history)  # what was acked is what is stored
    room = reader.room_of_member(ROOM_ID, "user00").room
    assert room is not None and room.last_seq == total and room.last_message == history[-1]
    print(
        f"\n{total} messages acked and stored by {SENDERS} senders in {elapsed:.1f} s; "
        f"{tally.backoffs} backoffs, {tally.unavailable} Unavailable retried by the senders"
    )


def test_concurrent_frames_of_one_user_never_exceed_the_flood_budget(embedded_dynamodb: EmbeddedDynamoDB) -> None:
    table_names = {spec.name: f"flood-{spec.name}" for spec in TABLES}
    embedded_dynamodb.create_tables(table_names)
    stores = [DynamoChatStore(_configured_client(embedded_dynamodb), table_names) for _ in range(SENDERS)]
    now = 1_800_000_000.0  # every frame at the same instant: only the compare-and-set keeps the count

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        outcomes = list(pool.map(lambda store: [store.count_frame("alice", now, 7, 10) for _ in range(3)], stores))

    admitted = sum(outcome is None for frames in outcomes for outcome in frames)
    assert admitted == 7
