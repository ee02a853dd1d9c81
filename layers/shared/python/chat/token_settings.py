"""The authorizer's settings, read without pydantic: its cold start builds no model (`chat.settings` is the
pydantic model every other function validates; it reads these variables with the same rules, from here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Read by the authorizer only (`chat.auth.TokenVerifier.from_settings` requires them): no other function gets
# them, and Cognito's sign-up trigger, which the user pool names, could not name the pool back.
TOKEN_VARIABLES = ("JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URL")
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"})
DEFAULT_ALGORITHMS = ("RS256", "ES256")


class SettingsError(RuntimeError):
    """A required environment variable is missing or invalid (raised at cold start)."""


def split_commas(value: str) -> tuple[str, ...]:
    """`"a, b,,c"` -> `("a", "b", "c")`."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def check_asymmetric(algorithms: tuple[str, ...]) -> tuple[str, ...]:
    if not set(algorithms) <= ASYMMETRIC_ALGORITHMS:
        raise ValueError(f"only asymmetric algorithms are allowed: {sorted(ASYMMETRIC_ALGORITHMS)}")
    return algorithms


@dataclass(frozen=True)
class TokenSettings:
    """What `TokenVerifier.from_settings` reads, as `chat.settings.Settings` holds it too (None where unset)."""

    jwt_issuer: str | None
    jwt_audiences: tuple[str, ...] | None
    jwks_url: str | None
    jwt_algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TokenSettings:
        """`SettingsError` for an empty or symmetric JWT_ALGORITHMS or an empty JWT_AUDIENCE list."""
        audiences = split_commas(environ["JWT_AUDIENCE"]) if "JWT_AUDIENCE" in environ else None
        if audiences == ():
            raise SettingsError("invalid chat settings: JWT_AUDIENCE: names no audience")
        algorithms = split_commas(environ.get("JWT_ALGORITHMS", ",".join(DEFAULT_ALGORITHMS)))
        try:
            if not algorithms:
                raise ValueError("names no algorithm")
            check_asymmetric(algorithms)
        except ValueError as exc:
            raise SettingsError(f"invalid chat settings: JWT_ALGORITHMS: {exc}") from None
        return cls(
            jwt_issuer=environ.get("JWT_ISSUER"),
            jwt_audiences=audiences,
            jwks_url=environ.get("JWKS_URL"),
            jwt_algorithms=algorithms,
        )
