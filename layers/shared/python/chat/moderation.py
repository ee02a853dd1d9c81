"""The moderation hook, run on every message before it is stored.

Modes: `mask` replaces each listed word with asterisks, `reject` refuses the message (`rejected`), `off` does
nothing. Words match whole words, case-insensitively, so "class" is never caught by "ass". A production
deployment can swap in another `Moderator` (for example one calling Amazon Comprehend toxicity detection).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from chat.errors import Rejected

ModerationMode = Literal["mask", "reject", "off"]

DEFAULT_WORDS: tuple[str, ...] = (
    "asshole",
    "bastard",
    "bitch",
    "bullshit",
    "cunt",
    "dickhead",
    "fuck",
    "fucker",
    "fucking",
    "motherfucker",
    "shit",
    "slut",
    "whore",
)


class Moderator:
    def __init__(self, mode: ModerationMode, words: Iterable[str] = DEFAULT_WORDS) -> None:
        self.mode = mode
        alternatives = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
        self._pattern = (
            re.compile(r"\b(?:" + "|".join(map(re.escape, alternatives)) + r")\b", re.IGNORECASE)
            if alternatives
            else None
        )

    def review(self, content: str) -> str:
        """The content to store: unchanged, masked, or refused with `Rejected`."""
        if self.mode == "off" or self._pattern is None or not self._pattern.search(content):
            return content
        if self.mode == "reject":
            raise Rejected("the message was refused by moderation")
        return self._pattern.sub(lambda match: "*" * len(match.group()), content)
