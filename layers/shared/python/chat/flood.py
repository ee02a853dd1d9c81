"""Flood control as one timestamp per user: GCRA, a token bucket of `limit` frames refilled over `window`.

A user may send `limit` frames at once, then one every `window / limit`: there is never a burst of more than
`limit` frames (a fixed-window counter lets 2 x limit through across a window boundary). The state is the
theoretical arrival time (TAT) of the next frame; a frame fits when it moves the TAT at most one window ahead of
now. Refused frames change nothing, and `retry_after_ms` is exactly when the next one fits.

Stores keep the TAT per user and update it with a compare-and-set (DynamoDB: a conditional UpdateItem).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    next_tat_ms: int | None  # the TAT to store when the frame fits
    retry_after_ms: int | None  # when it does not: how long until one frame fits


@dataclass(frozen=True)
class FrameBudget:
    limit: int
    window_seconds: int

    @property
    def window_ms(self) -> int:
        return self.window_seconds * 1000

    @property
    def interval_ms(self) -> int:
        # Rounded down, so that `limit` frames at once always fit in one window.
        return max(1, self.window_ms // self.limit)

    def admit(self, tat_ms: int | None, now_ms: int) -> Admission:
        """Whether a frame at `now_ms` fits a user whose stored TAT is `tat_ms` (None: rested or new)."""
        next_tat_ms = max(tat_ms or 0, now_ms) + self.interval_ms
        overshoot_ms = next_tat_ms - (now_ms + self.window_ms)
        if overshoot_ms > 0:
            return Admission(None, overshoot_ms)
        return Admission(next_tat_ms, None)

    def expires_at(self, tat_ms: int) -> int:
        """Epoch seconds after which the user is fully rested and the stored TAT means nothing."""
        return math.ceil(tat_ms / 1000)
