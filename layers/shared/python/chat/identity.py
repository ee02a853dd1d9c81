"""Who is on a connection. A module of its own, free of pydantic and the protocol's models: the `$connect`
authorizer needs this and nothing else of `chat.ports`, and imports it at every cold start.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """Who is on a connection: taken from the verified token, never from a frame."""

    user_id: str
    name: str  # the token's display name, "" when it has none (Cognito access tokens)
    token_expires_at: int  # epoch seconds

    def authorizer_context(self) -> dict[str, str | int]:
        """The context the `$connect` authorizer returns; API Gateway hands it to every later route."""
        return {"userId": self.user_id, "userName": self.name, "tokenExpiresAt": self.token_expires_at}

    @classmethod
    def from_authorizer_context(cls, context: dict[str, object]) -> Identity:
        return cls(str(context["userId"]), str(context["userName"]), int(str(context["tokenExpiresAt"])))
