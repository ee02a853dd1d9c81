"""Access-token verification for `$connect`: a JWT signed by the issuer's keys, published as a JWKS.

A token is accepted when all of these hold, else `TokenRejected` is raised:

- it is a JWS whose header `alg` is in the configured allow-list (asymmetric only: `none` and `HS*` never
  pass) and whose `kid` names a key of the issuer's JWKS whose type (`kty`, and `alg` when the JWK states one)
  fits that `alg`, so a public key can never be used as an HMAC secret;
- the signature verifies with that key;
- `iss` equals the configured issuer;
- `exp` is present and not past, `nbf` and `iat` (when present) are not in the future, each with
  `LEEWAY_SECONDS` (30 s) of tolerance for clock skew between the issuer and Lambda;
- audience: `aud` (a string or a list) names a configured audience; a token without `aud` (a Cognito access
  token) passes when its `client_id` is a configured audience.

Status: 401 for every token that is missing, malformed, forged, expired or meant for someone else (the client
should get a fresh token); 403 for a token that verifies but may not open a chat connection: a `token_use`
other than `access` or `id` (a Cognito refresh or custom token), or no usable `sub` (no user to speak for).

The JWKS is fetched on first use and kept by the verifier, so warm invocations reuse it. A `kid` that is not
in the cached set triggers a refetch (key rotation) at most once per `REFETCH_INTERVAL_SECONDS`: a flood of
tokens with made-up `kid`s costs the issuer one request a minute. A failed fetch keeps the keys fetched
before; with no keys at all, verification raises `Unavailable` (the authorizer fails, API Gateway answers
500) until the next fetch may be tried: an outage of the issuer is not the client's fault.

No message raised here contains the token or a claim value.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import jwt

from chat.errors import TokenRejected, Unavailable
from chat.identity import Identity
from chat.token_settings import TOKEN_VARIABLES, SettingsError

LEEWAY_SECONDS = 30
REFETCH_INTERVAL_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 3.0
MAX_JWKS_BYTES = 1 << 20
ALLOWED_TOKEN_USES = frozenset({"access", "id"})
# Which JWK key type each asymmetric algorithm family signs with; the curve of an EC key is checked by PyJWT.
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
# Where a token may hold a display name. Cognito's access tokens hold none: their `username` is a generated id
# when users sign in by email, so a `username` equal to `sub` or shaped like a UUID is no name. The chat's own
# profile (set at sign-up, or by `updateProfile`) is what users see; a token's name only seeds it.
NAME_CLAIMS = ("name", "preferred_username", "nickname", "cognito:username", "username")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)

JwksFetcher = Callable[[str], Mapping[str, Any]]


class TokenConfig(Protocol):
    """`chat.token_settings.TokenSettings` (the authorizer's, no pydantic) or `chat.settings.Settings`."""

    @property
    def jwt_issuer(self) -> str | None: ...
    @property
    def jwt_audiences(self) -> tuple[str, ...] | None: ...
    @property
    def jwks_url(self) -> str | None: ...
    @property
    def jwt_algorithms(self) -> tuple[str, ...]: ...


def fetch_jwks(url: str) -> Mapping[str, Any]:
    """GET the JWKS document at `url` (http or https only), with a short timeout."""
    if not url.startswith(("https://", "http://")):
        raise Unavailable("the JWKS URL must be http(s)")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            document = json.loads(response.read(MAX_JWKS_BYTES))
    except (OSError, ValueError) as exc:
        raise Unavailable("the issuer's JWKS could not be fetched") from exc
    if not isinstance(document, dict):
        raise Unavailable("the issuer's JWKS is not a JSON object")
    return document


class TokenVerifier:
    """Verifies access tokens against one issuer; build once per cold start and reuse (it caches the JWKS)."""

    def __init__(
        self,
        *,
        issuer: str,
        audiences: Iterable[str],
        jwks_url: str,
        algorithms: Sequence[str],
        fetch: JwksFetcher = fetch_jwks,
    ) -> None:
        unsupported = [a for a in algorithms if a[:2] not in KEY_TYPES]
        if unsupported:
            raise ValueError(f"only asymmetric algorithms can verify tokens, not {unsupported}")
        self._issuer = issuer
        self._audiences = frozenset(audiences)
        self._jwks_url = jwks_url
        self._algorithms = tuple(algorithms)
        self._fetch = fetch
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: TokenConfig, fetch: JwksFetcher = fetch_jwks) -> TokenVerifier:
        """`SettingsError` naming the token variables (optional for the other functions) that are unset."""
        issuer, audiences, jwks_url = settings.jwt_issuer, settings.jwt_audiences, settings.jwks_url
        if not issuer or not audiences or not jwks_url:
            unset = [
                name for name, value in zip(TOKEN_VARIABLES, (issuer, audiences, jwks_url), strict=True) if not value
            ]
            raise SettingsError(f"token verification needs {', '.join(unset)}")
        return cls(
            issuer=issuer,
            audiences=audiences,
            jwks_url=jwks_url,
            algorithms=settings.jwt_algorithms,
            fetch=fetch,
        )

    def verify(self, token: str | None, now: float | None = None) -> Identity:
        """The identity a valid token speaks for; `now` (epoch seconds) defaults to the current time."""
        if not token:
            raise TokenRejected("missing token")
        now = time.time() if now is None else now
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"malformed token ({type(exc).__name__})") from None
        algorithm = header.get("alg")
        if algorithm not in self._algorithms:
            raise TokenRejected("token algorithm not allowed")
        key = self._signing_key(header.get("kid"), now)
        if key.get("kty") != KEY_TYPES[algorithm[:2]] or key.get("alg", algorithm) != algorithm:
            raise TokenRejected("token algorithm does not match the signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=jwt.PyJWK(key, algorithm),
                algorithms=[algorithm],
                issuer=self._issuer,
                # Times are checked below against `now`; audience below too (Cognito access tokens have none).
                options={
                    "require": ["exp", "iss"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_sub": False,
                },
            )
        except jwt.PyJWTError as exc:
            # The exception's class says what failed (InvalidSignatureError, InvalidIssuerError, ...).
            raise TokenRejected(f"invalid token ({type(exc).__name__})") from None
        self._check_times(claims, now)
        self._check_audience(claims)
        self._check_token_use(claims)
        return self._identity(claims)

    def _signing_key(self, kid: object, now: float) -> dict[str, Any]:
        if not isinstance(kid, str):
            raise TokenRejected("token has no key id")
        with self._lock:
            if kid not in self._keys and (
                self._fetched_at is None or now - self._fetched_at >= REFETCH_INTERVAL_SECONDS
            ):
                self._fetched_at = now  # set before fetching: failed fetches are rate-limited too
                self._keys = _signing_keys(self._fetch(self._jwks_url))
            key = self._keys.get(kid)
        if key is None:
            # No keys at all: the last fetch failed or found nothing, the issuer's fault and not the client's.
            if not self._keys:
                raise Unavailable("the issuer's signing keys are not available")
            raise TokenRejected("token signed with an unknown key")
        return key

    @staticmethod
    def _check_times(claims: Mapping[str, Any], now: float) -> None:
        expires_at = _numeric_date(claims, "exp")
        if expires_at is None or expires_at <= now - LEEWAY_SECONDS:
            raise TokenRejected("token expired")
        for claim in ("nbf", "iat"):
            moment = _numeric_date(claims, claim)
            if moment is not None and moment > now + LEEWAY_SECONDS:
                raise TokenRejected(f"token not valid yet ({claim})")

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        audience = claims.get("aud")
        if audience is None:
            client_id = claims.get("client_id")
            if not isinstance(client_id, str) or client_id not in self._audiences:
                raise TokenRejected("token is not meant for this service (client_id)")
        else:
            audiences = [audience] if isinstance(audience, str) else audience
            if not isinstance(audiences, list) or not self._audiences.intersection(
                a for a in audiences if isinstance(a, str)
            ):
                raise TokenRejected("token is not meant for this service (aud)")

    @staticmethod
    def _check_token_use(claims: Mapping[str, Any]) -> None:
        token_use = claims.get("token_use")
        if token_use is not None and (not isinstance(token_use, str) or token_use not in ALLOWED_TOKEN_USES):
            raise TokenRejected("token type may not open a connection", status=403)

    @staticmethod
    def _identity(claims: Mapping[str, Any]) -> Identity:
        user_id = claims.get("sub")
        if not isinstance(user_id, str) or not user_id.strip():
            raise TokenRejected("token names no user", status=403)
        name = next(
            (
                v.strip()
                for c in NAME_CLAIMS
                if isinstance(v := claims.get(c), str) and v.strip() and v != user_id and not _UUID.match(v)
            ),
            "",
        )
        return Identity(user_id=user_id, name=name, token_expires_at=int(claims["exp"]))


def _signing_keys(jwks: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The JWKS's signature keys by `kid` (keys for encryption, or without a `kid`, cannot verify tokens)."""
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise Unavailable("the issuer's JWKS has no key list")
    return {
        key["kid"]: key
        for key in keys
        if isinstance(key, dict) and isinstance(key.get("kid"), str) and key.get("use", "sig") == "sig"
    }


def _numeric_date(claims: Mapping[str, Any], claim: str) -> float | None:
    value = claims.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenRejected(f"token claim {claim} is not a number")
    return float(value)
