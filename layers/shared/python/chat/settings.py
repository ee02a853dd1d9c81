"""Settings: one pydantic model of environment variables, validated once per cold start (the authorizer reads
its few with `chat.token_settings` instead, which this model shares its rules with).

The CDK stack, the local stack and the tests set exactly these variables (`Settings.environment_variables()`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from chat.token_settings import DEFAULT_ALGORITHMS, TOKEN_VARIABLES, SettingsError, check_asymmetric, split_commas

CommaList = Annotated[tuple[str, ...], Field(min_length=1)]

__all__ = ["TOKEN_VARIABLES", "Settings", "SettingsError", "load_settings"]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=True)

    # Tables (names from chat.tables.TABLES: f"{spec.name}_table" <- spec.env_var)
    connections_table: str = Field(alias="CONNECTIONS_TABLE")
    users_table: str = Field(alias="USERS_TABLE")
    rooms_table: str = Field(alias="ROOMS_TABLE")
    room_counters_table: str = Field(alias="ROOM_COUNTERS_TABLE")
    members_table: str = Field(alias="MEMBERS_TABLE")
    memberships_table: str = Field(alias="MEMBERSHIPS_TABLE")
    room_connections_table: str = Field(alias="ROOM_CONNECTIONS_TABLE")
    messages_table: str = Field(alias="MESSAGES_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    message_changes_table: str = Field(alias="MESSAGE_CHANGES_TABLE")
    reactions_table: str = Field(alias="REACTIONS_TABLE")
    push_subscriptions_table: str = Field(alias="PUSH_SUBSCRIPTIONS_TABLE")
    rate_limits_table: str = Field(alias="RATE_LIMITS_TABLE")

    # The API Gateway Management API of this WebSocket stage: https://{api}.execute-api.{region}.amazonaws.com/{stage}
    connections_endpoint_url: str = Field(alias="CONNECTIONS_ENDPOINT_URL")
    # Only for the local stack and tests (moto); unset on AWS.
    dynamodb_endpoint_url: str | None = Field(default=None, alias="DYNAMODB_ENDPOINT_URL")
    sqs_endpoint_url: str | None = Field(default=None, alias="SQS_ENDPOINT_URL")

    # The fan-out queue (chat.sqs_queue) that big rooms' pushes go through; unset: every push is inline.
    fanout_queue_url: str | None = Field(default=None, alias="FANOUT_QUEUE_URL")

    # Web Push's VAPID key is derived from a secret (chat.webpush): on AWS the stack's Secrets Manager secret, read
    # by ARN when first needed; locally the secret itself (SecretStr: never logged). Neither: no notifications, and
    # `settings` gives no push key.
    vapid_secret_arn: str | None = Field(default=None, alias="VAPID_SECRET_ARN")
    vapid_secret: SecretStr | None = Field(default=None, alias="VAPID_SECRET")
    # Who runs this deployment, for push services' operators (the VAPID `sub` claim).
    vapid_subject: str = Field(default="mailto:chat-operators@example.invalid", alias="VAPID_SUBJECT")
    # The local stack only: "{prefix}={replacement}", push endpoints under `prefix` go to its stand-in push service.
    push_endpoint_rewrite: str | None = Field(default=None, alias="PUSH_ENDPOINT_REWRITE")

    # Token verification (TOKEN_VARIABLES): None where unset.
    jwt_issuer: str | None = Field(default=None, alias="JWT_ISSUER")
    jwt_audiences: CommaList | None = Field(default=None, alias="JWT_AUDIENCE")
    jwks_url: str | None = Field(default=None, alias="JWKS_URL")
    jwt_algorithms: CommaList = Field(default=DEFAULT_ALGORITHMS, alias="JWT_ALGORITHMS")

    # Flood control (chat.flood): a burst of at most `rate_limit_frames`, refilled over `rate_limit_window_seconds`.
    rate_limit_frames: int = Field(default=30, ge=1, alias="RATE_LIMIT_FRAMES")
    rate_limit_window_seconds: int = Field(default=10, ge=1, le=3600, alias="RATE_LIMIT_WINDOW_SECONDS")

    moderation_mode: Literal["mask", "reject", "off"] = Field(default="mask", alias="MODERATION_MODE")
    # Comma-separated words replacing the built-in list; unset keeps the built-in list.
    moderation_words: tuple[str, ...] | None = Field(default=None, alias="MODERATION_WORDS")

    fanout_concurrency: int = Field(default=32, ge=1, le=256, alias="FANOUT_CONCURRENCY")
    # API Gateway closes every WebSocket connection after 2 hours.
    connection_lifetime_seconds: int = Field(default=7200, ge=60, alias="CONNECTION_LIFETIME_SECONDS")

    @field_validator("jwt_audiences", "jwt_algorithms", "moderation_words", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        return split_commas(value) if isinstance(value, str) else value

    @field_validator("jwt_algorithms")
    @classmethod
    def _asymmetric_only(cls, algorithms: tuple[str, ...]) -> tuple[str, ...]:
        return check_asymmetric(algorithms)

    def table_name(self, logical_name: str) -> str:
        return str(getattr(self, f"{logical_name}_table"))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        try:
            return cls.model_validate(dict(environ))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
            )
            raise SettingsError(f"invalid chat settings: {problems}") from exc

    @classmethod
    def environment_variables(cls) -> dict[str, bool]:
        """Every variable the model reads, mapped to whether every function requires it (TOKEN_VARIABLES are
        optional here and required by the authorizer)."""
        return {str(f.alias): f.is_required() for f in cls.model_fields.values()}


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    return Settings.from_environ(os.environ)
