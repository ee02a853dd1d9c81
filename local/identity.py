"""The development identity provider: real RS256 JWTs for any name, and the JWKS that verifies them.

    POST /auth/token   {"name": "Alice"}        -> {"accessToken", "refreshToken", "expiresIn", "user": {"id", "name"}}
    POST /auth/refresh {"refreshToken": "..."}  -> the same shape
    GET  /.well-known/jwks.json                 -> {"keys": [the public key]}

No password: whoever types a name is that user (same name, case-insensitive, same user id). The key pair is made at
start, so tokens from an earlier run are refused (401) and the client asks for new ones. The authorizer verifies
these tokens with the same code as Cognito's: only the issuer and JWKS URLs differ.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

NAME_MAX_CHARS = 50
# Namespace of the user ids: uuid5 of the lowercased name, so the same name is the same user on every run.
USER_NAMESPACE = uuid.UUID("5f0a3c1e-8d2b-4c55-9a8e-1b7d2e6f4a90")
ALGORITHM = "RS256"


class InvalidRequest(ValueError):
    """The request is not one the provider can answer (400); `error` is an OAuth-style error code."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str
    name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "expiresIn": self.expires_in,
            "user": {"id": self.user_id, "name": self.name},
        }


def user_id_for(name: str) -> str:
    return str(uuid.uuid5(USER_NAMESPACE, name.casefold()))


def valid_name(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequest("invalid_request", "name must be a string")
    name = value.strip()
    if not 1 <= len(name) <= NAME_MAX_CHARS:
        raise InvalidRequest("invalid_request", f"name must be 1 to {NAME_MAX_CHARS} characters")
    if not name.isprintable():
        raise InvalidRequest("invalid_request", "name must not contain control characters")
    return name


class DevIdentityProvider:
    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        access_token_seconds: int = 3600,
        refresh_token_seconds: int = 24 * 3600,
        private_key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.access_token_seconds = access_token_seconds
        self.refresh_token_seconds = refresh_token_seconds
        self._private_key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._private_key.public_key()))
        # RFC 7638-style thumbprint as the key id.
        thumbprint = json.dumps({k: public_jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
        self.kid = hashlib.sha256(thumbprint.encode()).hexdigest()[:16]
        self._jwk = {**public_jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    def issue(self, name: object, now: float | None = None) -> IssuedTokens:
        display_name = valid_name(name)
        return self._tokens(user_id_for(display_name), display_name, time.time() if now is None else now)

    def refresh(self, refresh_token: object, now: float | None = None) -> IssuedTokens:
        if not isinstance(refresh_token, str) or not refresh_token:
            raise InvalidRequest("invalid_request", "refreshToken must be a non-empty string")
        try:
            claims = jwt.decode(
                refresh_token,
                key=self._private_key.public_key(),
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "iss", "aud", "sub", "name", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidRequest("invalid_grant", f"refresh token refused ({type(exc).__name__})") from None
        if claims["token_use"] != "refresh":
            raise InvalidRequest("invalid_grant", "not a refresh token")
        return self._tokens(str(claims["sub"]), str(claims["name"]), time.time() if now is None else now)

    def _tokens(self, user_id: str, name: str, now: float) -> IssuedTokens:
        issued_at = int(now)
        return IssuedTokens(
            access_token=self._sign(user_id, name, "access", issued_at, self.access_token_seconds),
            refresh_token=self._sign(user_id, name, "refresh", issued_at, self.refresh_token_seconds),
            expires_in=self.access_token_seconds,
            user_id=user_id,
            name=name,
        )

    def _sign(self, user_id: str, name: str, token_use: str, issued_at: int, lifetime: int) -> str:
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "name": name,
            "token_use": token_use,
            "iat": issued_at,
            "exp": issued_at + lifetime,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/auth/token", self._token)
        app.router.add_post("/auth/refresh", self._refresh)
        app.router.add_get("/.well-known/jwks.json", self._jwks)

    async def _token(self, request: web.Request) -> web.Response:
        return await _answer(request, lambda body: self.issue(body.get("name")))

    async def _refresh(self, request: web.Request) -> web.Response:
        return await _answer(request, lambda body: self.refresh(body.get("refreshToken")))

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks(), headers={"Cache-Control": "no-store"})


async def _answer(request: web.Request, grant: Callable[[dict[str, Any]], IssuedTokens]) -> web.Response:
    try:
        body = json.loads(await request.read() or b"null")
        if not isinstance(body, dict):
            raise InvalidRequest("invalid_request", "the body must be a JSON object")
        tokens = grant(body)
    except ValueError as exc:  # bad JSON, bad UTF-8, or InvalidRequest
        error, message = (
            (exc.error, exc.message) if isinstance(exc, InvalidRequest) else ("invalid_request", "bad JSON")
        )
        return web.json_response({"error": error, "message": message}, status=400)
    return web.json_response(tokens.to_json(), headers={"Cache-Control": "no-store"})
