"""Domain errors, each bound to the protocol error code a client sees.

    ChatError                 internal
    ├── BadRequest            bad_request
    ├── TooLarge              too_large
    ├── Unauthorized          unauthorized   (token expired or invalid: reconnect with a fresh one)
    │   └── TokenRejected     (raised by the verifier; `status` 401, or 403 for a valid but disallowed token)
    ├── Forbidden             forbidden      (not a member, or not allowed)
    ├── NotFound              not_found
    ├── RateLimited           rate_limited   (carries retry_after_ms)
    ├── Rejected              rejected       (the moderation hook refused the content)
    └── Unavailable           unavailable    (storage contention or throttling that outlasted our retries;
                                              carries retry_after_ms: retrying with the same clientMsgId is safe)
        └── EnqueueFailed                        (the fan-out queue did not take every job: chat.sqs_queue)

This is the one place that ties errors to codes: `chat.frames.error_frame` turns any exception into a frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the authorizer imports this module and needs no pydantic models at cold start
    from chat.protocol import ErrorCode


class ChatError(Exception):
    code: ErrorCode = "internal"

    def __init__(self, message: str, *, retry_after_ms: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_ms = retry_after_ms


class BadRequest(ChatError):
    code = "bad_request"


class TooLarge(ChatError):
    code = "too_large"


class Unauthorized(ChatError):
    code = "unauthorized"


class TokenRejected(Unauthorized):
    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


class Forbidden(ChatError):
    code = "forbidden"


class NotFound(ChatError):
    code = "not_found"


class RateLimited(ChatError):
    code = "rate_limited"


class Rejected(ChatError):
    code = "rejected"


class Unavailable(ChatError):
    code = "unavailable"


def not_a_member(room_id: str) -> Forbidden:
    """The one answer for a room the caller is not in, whether or not it exists: a direct room's id is derived
    from its pair of users, so telling "no such room" from "not yours" would tell anyone who talks to whom."""
    return Forbidden(f"you are not a member of room {room_id}")


class EnqueueFailed(Unavailable):
    """The fan-out queue did not take every job (after our bounded resends): the caller must not report success,
    so that nothing handed to the queue is silently lost."""
