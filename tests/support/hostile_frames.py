"""Hostile client frames, generated deterministically from a seed: a valid frame of every action, mutated the
ways clients and attackers get frames wrong. The frame fuzz (unit) and the handler test (integration) share them.

Every (action, mutation) pair comes up in turn, so a count of a few multiples of their product covers them all;
the seed picks the details (which field, which odd value).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chat import protocol as p
from chat.frames import MAX_NESTING_DEPTH


@dataclass(frozen=True)
class Raw:
    """JSON text written as is: what json.dumps would not write (NaN, 1e999, deep nesting, broken JSON)."""

    text: str


@dataclass
class Obj:
    """A JSON object as its pairs, in order, so that a key can appear twice."""

    pairs: list[tuple[str, Any]]


@dataclass(frozen=True)
class Targets:
    """Ids the valid frames name: rooms and users that exist make the frames reach the store."""

    room_ids: tuple[str, ...] = ("r1",)
    user_ids: tuple[str, ...] = ("u1",)


def dump(value: Any) -> str:
    """JSON text of `value`; lone surrogates come out as `\\ud800` escapes, as a client would send them."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Obj):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in value.pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)


def nested(depth: int, shape: str) -> Raw:
    if shape == "lists":
        return Raw("[" * depth + "]" * depth)
    if shape == "objects":
        return Raw('{"a":' * depth + "1" + "}" * depth)
    return Raw('[{"a":' * (depth // 2) + "0" + "}]" * (depth // 2))


LONE_SURROGATES = ["\ud800", "\udfff", "a\udc00b", "\udc00\ud800", "\ud83d"]
ODD_STRINGS = [
    *LONE_SURROGATES,
    "\ud83d\ude00",  # a valid pair: one emoji
    "\x00",
    "a\x1fb",
    "\x7f",
    "\u202eevil",
    "\u200b",
    "\ufeff",
    "\uffff",
    "\U0010ffff",
    "e\u0301",
    "\u0130",  # lowercases to two code points
    "ß",
    " ",
    "\t\n",
    "",
    "$default",
    "$connect",
    "../../etc/passwd",
    '"',
    "\\",
    "null",
    "ping",
    "' OR '1'='1",
    "<script>alert(1)</script>",
]
NUMBERS = [
    -1,
    0,
    1,
    100,
    101,
    2**31,
    2**53 + 1,
    2**63,
    10**40,
    -(10**40),
    12345678901234567890123456789012345678901,
    1.0,
    0.5,
    -0.0,
    1e308,
    Raw("1e999"),
    Raw("-1e999"),
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1" + "0" * 5000),
    Raw("1E2"),
    Raw("-0"),
]
WRONG_TYPES = [None, True, False, 0, -1, 1.5, "", " ", "true", "false", "1", [], ["x"], Obj([]), Obj([("a", 1)])]
LENGTHS = [63, 64, 65, 99, 100, 101, 127, 128, 129, 3999, 4000, 4001, 8000, 16000]
LONG_CHARS = ["x", "é", "\U0001f600", "\x00", " ", "\\"]
DEPTHS = [2, *range(MAX_NESTING_DEPTH - 2, MAX_NESTING_DEPTH + 2), 100, 1000, 10000]  # a field is 1 level down


def _templates(rng: random.Random, targets: Targets, n: int) -> dict[str, list[tuple[str, Any]]]:
    room, user = rng.choice(targets.room_ids), rng.choice(targets.user_ids)
    client_msg_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return {
        "sendMessage": [("roomId", room), ("content", f"hello {n}"), ("clientMsgId", client_msg_id)],
        "typing": [("roomId", room), ("isTyping", rng.choice([True, False]))],
        "history": [("roomId", room), rng.choice([("beforeSeq", 5), ("afterSeq", 0)]), ("limit", 10)],
        "createRoom": [("name", f"room {n}"), ("memberIds", [user])],
        "openDirect": [("userId", user)],
        "addMembers": [("roomId", room), ("memberIds", [user])],
        "leaveRoom": [("roomId", room)],
        "listRooms": [],
        "listUsers": [("query", rng.choice(["", "a", "Al"]))],
        "presence": [("roomId", room), ("limit", rng.choice([1, 100]))],
        "updateProfile": [("name", f"name {n}"), ("avatarUrl", rng.choice(["", "https://example.test/a.png"]))],
        "markRead": [("roomId", room), ("seq", rng.choice([0, 1, 2**53 - 1]))],
        "editMessage": [("roomId", room), ("messageId", f"m{n}-1"), ("content", f"edited {n}")],
        "deleteMessage": [("roomId", room), ("messageId", f"m{n}-1")],
        "addReaction": [("roomId", room), ("messageId", f"m{n}-1"), ("emoji", rng.choice(p.REACTION_EMOJIS))],
        "removeReaction": [("roomId", room), ("messageId", f"m{n}-1"), ("emoji", rng.choice(p.REACTION_EMOJIS))],
        "getMessage": [("roomId", room), ("messageId", f"m{n}-1")],
        "changes": [("roomId", room), ("afterVersion", rng.choice([0, 3])), ("limit", 10)],
        "sync": [("rooms", Obj([(room, 0)])), ("versions", Obj([(room, 0)]))],
        "removeMember": [("roomId", room), ("userId", user)],
        "renameRoom": [("roomId", room), ("name", f"renamed {n}")],
        "registerPush": [
            (
                "subscription",
                Obj([("endpoint", f"https://push.test/{n}"), ("keys", Obj([("p256dh", "BPk3"), ("auth", "q7")]))]),
            )
        ],
        "unregisterPush": [("endpoint", f"https://push.test/{n}")],
        "muteRoom": [("roomId", room), ("muted", rng.choice([True, False]))],
        "updateSettings": [("showPreviews", rng.choice([True, False]))],
        "getSettings": [],
        "ping": [],
    }


Pairs = list[tuple[str, Any]]
Mutation = Callable[[random.Random, Pairs], "Pairs | Raw"]


def _replace(rng: random.Random, pairs: Pairs, value: Any) -> Pairs:
    index = rng.randrange(len(pairs))
    return [*pairs[:index], (pairs[index][0], value), *pairs[index + 1 :]]


def _drop(dropped: tuple[str, Any], pairs: Pairs) -> Pairs:
    return [pair for pair in pairs if pair is not dropped]


def _long_string(rng: random.Random) -> str:
    return rng.choice(LONG_CHARS) * rng.choice(LENGTHS)


MUTATIONS: dict[str, Mutation] = {
    "none": lambda rng, pairs: pairs,
    "drop a field": lambda rng, pairs: _drop(rng.choice(pairs), pairs),
    "add a field": lambda rng, pairs: [*pairs, (rng.choice([*ODD_STRINGS, "senderId"]), rng.choice(WRONG_TYPES))],
    "wrong type": lambda rng, pairs: _replace(rng, pairs, rng.choice(WRONG_TYPES)),
    "odd string": lambda rng, pairs: _replace(rng, pairs, rng.choice(ODD_STRINGS)),
    "lone surrogate": lambda rng, pairs: _replace(rng, pairs, rng.choice(["x", ""]) + rng.choice(LONE_SURROGATES)),
    "long string": lambda rng, pairs: _replace(rng, pairs, _long_string(rng)),
    "odd number": lambda rng, pairs: _replace(rng, pairs, rng.choice(NUMBERS)),
    "deep nesting": lambda rng, pairs: _replace(
        rng, pairs, nested(rng.choice(DEPTHS), rng.choice(["lists", "objects", "mixed"]))
    ),
    "duplicate key": lambda rng, pairs: [*pairs, (rng.choice(pairs)[0], rng.choice([*WRONG_TYPES, "ping"]))],
    "not an object": lambda rng, pairs: rng.choice(
        [Raw(dump([v for _, v in pairs])), Raw(dump(dump(Obj(pairs)))), Raw("null"), Raw("true"), Raw("42")]
    ),
    "not json": lambda rng, pairs: Raw(_broken(rng, dump(Obj(pairs)))),
    "empty": lambda rng, pairs: rng.choice([Raw(""), Raw(" "), Raw("\n"), Raw("{}"), Raw("[]"), Raw('""')]),
    "near the size limit": lambda rng, pairs: [
        *pairs,
        ("pad", "x" * (p.MAX_FRAME_BYTES - len(dump(Obj(pairs))) - 10 + rng.randrange(-2, 3))),
    ],
    "several": lambda rng, pairs: _several(rng, pairs),
}


def _broken(rng: random.Random, text: str) -> str:
    cut = rng.randrange(1, len(text))
    return rng.choice(
        [
            text[:cut],
            text + rng.choice(["x", "}", ",", " {}"]),
            text.replace('"', "'"),
            text[:-1] + ",}",
            text[:-1] + ',"c": "a\x01b"}',  # a raw control character inside a string
            "// comment\n" + text,
            "\ufeff" + text,
            text.replace("true", "True").replace("null", "None") + " ",
            text[:cut] + "\ud800" + text[cut:],  # a raw lone surrogate, outside or inside a string
        ]
    )


def _several(rng: random.Random, pairs: Pairs) -> Pairs | Raw:
    field_level = ["drop a field", "add a field", "wrong type", "odd string", "lone surrogate", "odd number"]
    result: Pairs | Raw = pairs
    for name in rng.sample(field_level, 3):
        if isinstance(result, Raw) or not result:
            break
        result = MUTATIONS[name](rng, result)
    return result


def hostile_frames(seed: int, count: int, targets: Targets = Targets()) -> list[tuple[str, str, str]]:
    """`count` frames as (action, mutation, body), the same for the same arguments."""
    rng = random.Random(seed)
    frames = []
    for n in range(count):
        action = p.ACTIONS[n % len(p.ACTIONS)]
        mutation = list(MUTATIONS)[n // len(p.ACTIONS) % len(MUTATIONS)]
        pairs: Pairs = [("action", action), ("requestId", f"q{n}"), *_templates(rng, targets, n)[action]]
        mutated = MUTATIONS[mutation](rng, pairs)
        frames.append((action, mutation, mutated.text if isinstance(mutated, Raw) else dump(Obj(mutated))))
    return frames
