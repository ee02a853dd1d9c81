"""Work per action of issue 10 (read markers, edits, deletes, reactions, replies, getMessage, the change feed,
sync, room roles): DynamoDB requests and billed units, posts and Lambda invocations, from the real handlers on
moto, metered as `bench/message_cost.py` meters a send (`bench/capacity.py`).

A 10-member room with every member online (a read receipt and every change reach 9 other connections), and a user
in 40 rooms reconnecting after 5 of them had news: one `sync` frame against the 40 `history` frames it replaces.

    .venv/bin/python bench/feature_cost.py [--quick]   # writes bench/results/feature_cost.json
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

from harness import Stack, machine, new_meter, quiet, write_results
from message_cost import Measure

ROOM_MEMBERS = 10
SYNC_ROOMS = 40
SYNC_ROOMS_WITH_NEWS = 5


def actions_in_a_room(stack: Stack, times: int) -> list[dict[str, Any]]:
    ids = stack.user_ids(ROOM_MEMBERS)
    sessions = [stack.connect(user_id) for user_id in ids]
    sender, reader = sessions[0], sessions[1]
    room = stack.create_room(ids[0], ids)
    gateway = stack.gateway
    measure = Measure(stack)
    sent = [gateway.message(sender, room, f"message {n}, of ordinary length")["message"] for n in range(40)]
    parent = sent[-1]
    state = {"seq": 0, "n": 0}

    def send() -> None:
        assert gateway.message(sender, room, "a message of ordinary length, about sixty bytes")["type"] == "ack"

    def reply() -> None:
        reply = gateway.message(sender, room, "an answer of ordinary length", replyToId=parent["id"])
        assert reply["type"] == "ack", reply

    def mark_read() -> None:
        state["seq"] += 1
        assert gateway.send(reader, "markRead", roomId=room, seq=state["seq"])["type"] == "read"

    def edit() -> None:
        state["n"] += 1
        content = f"message 39, edited {state['n']} times"
        assert (
            gateway.send(sender, "editMessage", roomId=room, messageId=parent["id"], content=content)["type"]
            == "messageUpdated"
        )

    def react() -> None:
        assert (
            gateway.send(reader, "addReaction", roomId=room, messageId=parent["id"], emoji="👍")["type"] == "reaction"
        )
        assert (
            gateway.send(reader, "removeReaction", roomId=room, messageId=parent["id"], emoji="👍")["type"]
            == "reaction"
        )

    deletable = iter(sent[:20])

    def delete() -> None:
        message = next(deletable)
        assert gateway.send(sender, "deleteMessage", roomId=room, messageId=message["id"])["type"] == "messageUpdated"

    def get_message() -> None:
        assert gateway.send(reader, "getMessage", roomId=room, messageId=parent["id"])["type"] == "messageFound"

    def history() -> None:
        assert gateway.send(reader, "history", roomId=room)["type"] == "history"

    def changes() -> None:
        assert gateway.send(reader, "changes", roomId=room, afterVersion=0)["type"] == "changes"

    rows = [
        measure.run("sendMessage", times, send),
        measure.run("sendMessage with replyToId", times, reply),
        measure.run("markRead", times, mark_read),
        measure.run("editMessage", times, edit),
        measure.run("addReaction + removeReaction", times, react),
        measure.run("deleteMessage", times, delete),
        measure.run("getMessage", times, get_message),
        measure.run("history (50, with replies and reactions)", times, history),
        measure.run("changes (from 0)", times, changes),
    ]
    for row in rows:
        row["setting"] = f"{ROOM_MEMBERS} members, all online"
    return rows


def reconnect(stack: Stack, times: int) -> list[dict[str, Any]]:
    ids = [f"sync-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    owner, member = (stack.connect(user_id) for user_id in ids)
    rooms = [stack.create_room(ids[0], ids) for _ in range(SYNC_ROOMS)]
    gateway = stack.gateway
    for room in rooms:
        gateway.message(owner, room, "before the reconnect")
    for room in rooms[:SYNC_ROOMS_WITH_NEWS]:
        for n in range(3):
            gateway.message(owner, room, f"news {n}")
    known = {room: 1 for room in rooms}
    measure = Measure(stack)

    def sync() -> None:
        page = gateway.send(member, "sync", rooms=known, versions={room: 0 for room in rooms})
        assert page["type"] == "sync" and len(page["rooms"]) == SYNC_ROOMS_WITH_NEWS, page

    def histories() -> None:
        for room in rooms:
            assert gateway.send(member, "history", roomId=room, afterSeq=1)["type"] == "history"

    def list_rooms() -> None:
        assert len(gateway.send(member, "listRooms")["rooms"]) == SYNC_ROOMS

    rows = [
        measure.run("sync (1 frame)", times, sync),
        measure.run(f"history afterSeq x {SYNC_ROOMS} frames", times, histories),
        measure.run("listRooms (with unread counts)", times, list_rooms),
    ]
    for row in rows:
        row["setting"] = f"{SYNC_ROOMS} rooms, {SYNC_ROOMS_WITH_NEWS} with news"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    times = 2 if args.quick else 5
    started = time.monotonic()
    stack = Stack(new_meter())
    try:
        with quiet():
            rows = actions_in_a_room(stack, times) + reconnect(stack, times)
    finally:
        stack.close()
    for row in rows:
        print(
            f"{row['operation']:<42} req {sum(row['requests'].values()):>6.1f} RCU {row['rcu']:>6.1f} "
            f"WCU {row['wcu']:>5.1f} posts {row['posts']:>4.1f} ({row['setting']})",
            flush=True,
        )
    write_results(
        "feature_cost",
        {"machine": machine(), "quick": args.quick, "seconds": time.monotonic() - started, "rows": rows},
    )


if __name__ == "__main__":
    main()
