"""5,040 hostile frames (7!, from a fixed seed) through what every handler does with a body before the service:
`read_frame`, then `error_frame` and `encode` for the refused ones."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import get_args

from chat import protocol as p
from chat.errors import ChatError
from chat.frames import NOT_UNICODE, TOO_DEEP, error_frame, read_frame
from tests.support.hostile_frames import MUTATIONS, hostile_frames

SEED = 5040
COUNT = 5040
CLIENT_CODES = set(get_args(p.ErrorCode)) - {"internal"}  # internal is for failures of ours, never of the frame


@cache
def frames() -> list[tuple[str, str, str]]:
    return hostile_frames(SEED, COUNT)


def outcome_of(body: str) -> str | ChatError:
    """What the client is sent for `body`, checked: a valid frame's action (it must read back as itself), or the
    error (its frame must be sendable, with a client error code and the hints echoed)."""
    hints, outcome = read_frame(body)
    if isinstance(outcome, ChatError):
        reply = p.encode(error_frame(outcome, hints))
        wire = json.loads(reply)
        assert len(reply) < p.MAX_MESSAGE_BYTES
        assert wire["type"] == "error" and wire["code"] in CLIENT_CODES and wire["message"]
        echoed = {k: wire.get(k) for k in ("action", "requestId", "clientMsgId")}
        assert echoed == {"action": hints.action, "requestId": hints.request_id, "clientMsgId": hints.client_msg_id}
        return outcome
    assert read_frame(outcome.model_dump_json(by_alias=True))[1] == outcome
    return outcome.action


def test_every_hostile_frame_gets_a_valid_frame_or_a_sendable_client_error() -> None:
    outcomes: Counter[str] = Counter()
    failures = []
    for action, mutation, body in frames():
        try:
            outcome = outcome_of(body)
        except Exception as exc:  # every failure is collected, then shown together
            failures.append(f"{action} / {mutation}: {exc!r} for {body[:200]!r}")
            continue
        outcomes[outcome if isinstance(outcome, str) else outcome.code] += 1
        if isinstance(outcome, ChatError):
            outcomes[NOT_UNICODE] += outcome.message.startswith(NOT_UNICODE)
            outcomes[TOO_DEEP] += outcome.message.startswith(TOO_DEEP)
    assert not failures, f"{len(failures)} of {COUNT} frames failed:\n" + "\n".join(failures[:20])
    # Still a fuzz worth the name: valid frames of every action, both client errors, many of the nasty frames.
    assert set(p.ACTIONS) <= set(outcomes) and {"bad_request", "too_large"} <= set(outcomes)
    assert outcomes[NOT_UNICODE] > 100 and outcomes[TOO_DEEP] > 100


def test_the_fuzz_mutates_every_action_every_way_and_the_same_way_on_every_run() -> None:
    assert {(action, mutation) for action, mutation, _ in frames()} == {(a, m) for a in p.ACTIONS for m in MUTATIONS}
    assert hostile_frames(SEED, 100) == frames()[:100]
