"""The development identity provider: Cognito-shaped RS256 JWTs for any name, and the JWKS that verifies them.

    POST /auth/token   {"name": "Alice"}        -> {"accessToken", "idToken", "refreshToken", "expiresIn",
                                                    "user": {"id", "name"}}
    POST /auth/refresh {"refreshToken": "..."}  -> the same shape
    GET  /.well-known/jwks.json                 -> {"keys": [the public key]}

No password: whoever types a name is that user (same name, case-insensitive, same user id). The key pair is made at
start, so tokens from an earlier run are refused (401) and the client asks for new ones.

The tokens are shaped like Cognito's, so that the local stack runs the code path of AWS: the access token has
`sub`, `client_id` (no `aud`), `username` (= `sub`, as Cognito's is a generated UUID when users sign in by email)
and no name; the display name reaches the chat as on AWS, through Cognito's post-confirmation trigger (the
`sign_up` function), which runs the first time a name signs in during this run. The ID token carries the name.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from chat.routes import SIGN_UP_FUNCTION
from local.functions import FunctionRunner

log = logging.getLogger("local.identity")

NAME_MAX_CHARS = 50
# Namespace of the user ids: uuid5 of the lowercased name, so the same name is the same user on every run.
USER_NAMESPACE = uuid.UUID("5f0a3c1e-8d2b-4c55-9a8e-1b7d2e6f4a90")
ALGORITHM = "RS256"
# The scopes of the deployed app client (infra/auth.py), as Cognito lists them in an access token.
SCOPE = "openid profile email"
USER_POOL_ID = "us-east-1_local"


class InvalidRequest(ValueError):
    """The request is not one the provider can answer (400); `error` is an OAuth-style error code."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


class SignUpFailed(RuntimeError):
    """The post-confirmation trigger failed: Cognito fails the sign-up too (500)."""


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int
    user_id: str
    name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "accessToken": self.access_token,
            "idToken": self.id_token,
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


def post_confirmation_event(user_id: str, name: str, client_id: str) -> dict[str, Any]:
    """The event Cognito sends its post-confirmation trigger when a user confirms their sign-up."""
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": USER_POOL_ID,
        "userName": user_id,
        "callerContext": {"awsSdkVersion": "local", "clientId": client_id},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {
            "userAttributes": {
                "sub": user_id,
                "name": name,
                "email_verified": "false",
                "cognito:user_status": "CONFIRMED",
            }
        },
        "response": {},
    }


class DevIdentityProvider:
    def __init__(
        self,
        issuer: str,
        audience: str,
        runner: FunctionRunner,
        *,
        access_token_seconds: int = 3600,
        refresh_token_seconds: int = 24 * 3600,
        private_key: rsa.RSAPrivateKey | None = None,
        sign_up_function: str = SIGN_UP_FUNCTION,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.access_token_seconds = access_token_seconds
        self.refresh_token_seconds = refresh_token_seconds
        self._runner = runner
        self._sign_up_function = sign_up_function
        self._signed_up: set[str] = set()  # user ids whose sign-up trigger ran in this run
        self._sign_up_lock = asyncio.Lock()  # one sign-up at a time: two tabs signing in one name run it once
        self._private_key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._private_key.public_key()))
        # RFC 7638-style thumbprint as the key id.
        thumbprint = json.dumps({k: public_jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
        self.kid = hashlib.sha256(thumbprint.encode()).hexdigest()[:16]
        self._jwk = {**public_jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    async def sign_in(self, name: object, now: float | None = None) -> IssuedTokens:
        """Tokens for `name`; its first sign-in in this run signs the user up (the post-confirmation trigger)."""
        display_name = valid_name(name)
        user_id = user_id_for(display_name)
        await self._sign_up_once(user_id, display_name)
        now = time.time() if now is None else now
        return self._tokens(user_id, display_name, auth_time=int(now), now=now)

    def refresh(self, refresh_token: object, now: float | None = None) -> IssuedTokens:
        if not isinstance(refresh_token, str) or not refresh_token:
            raise InvalidRequest("invalid_request", "refreshToken must be a non-empty string")
        try:
            claims = jwt.decode(
                refresh_token,
                key=self._private_key.public_key(),
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={"require": ["exp", "iss", "sub", "name", "token_use", "client_id", "auth_time"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidRequest("invalid_grant", f"refresh token refused ({type(exc).__name__})") from None
        if claims["token_use"] != "refresh" or claims["client_id"] != self.audience:
            raise InvalidRequest("invalid_grant", "not a refresh token of this client")
        now = time.time() if now is None else now
        # Cognito keeps the time of the sign-in (`auth_time`) across refreshes.
        return self._tokens(str(claims["sub"]), str(claims["name"]), auth_time=int(claims["auth_time"]), now=now)

    async def _sign_up_once(self, user_id: str, name: str) -> None:
        async with self._sign_up_lock:
            if user_id in self._signed_up:
                return
            event = post_confirmation_event(user_id, name, self.audience)
            invocation = await self._runner.invoke(self._sign_up_function, event)
            if invocation.failed:
                log.error("the sign-up trigger (%s) failed", self._sign_up_function, exc_info=invocation.error)
                raise SignUpFailed(f"sign-up failed: the post-confirmation trigger ({self._sign_up_function}) failed")
            self._signed_up.add(user_id)

    def _tokens(self, user_id: str, name: str, *, auth_time: int, now: float) -> IssuedTokens:
        issued_at = int(now)
        access = {
            "sub": user_id,
            "iss": self.issuer,
            "client_id": self.audience,
            "token_use": "access",
            "scope": SCOPE,
            "auth_time": auth_time,
            "iat": issued_at,
            "exp": issued_at + self.access_token_seconds,
            "jti": str(uuid.uuid4()),
            "username": user_id,
        }
        identity = {
            "sub": user_id,
            "iss": self.issuer,
            "aud": self.audience,
            "token_use": "id",
            "name": name,
            "cognito:username": user_id,
            "auth_time": auth_time,
            "iat": issued_at,
            "exp": issued_at + self.access_token_seconds,
        }
        # Cognito's refresh tokens are opaque; this one is a JWT only the provider reads (it keeps the name).
        refresh = {
            "sub": user_id,
            "iss": self.issuer,
            "client_id": self.audience,
            "token_use": "refresh",
            "name": name,
            "auth_time": auth_time,
            "iat": issued_at,
            "exp": issued_at + self.refresh_token_seconds,
            "jti": secrets.token_hex(8),
        }
        return IssuedTokens(
            access_token=self._sign(access),
            id_token=self._sign(identity),
            refresh_token=self._sign(refresh),
            expires_in=self.access_token_seconds,
            user_id=user_id,
            name=name,
        )

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/auth/token", self._token)
        app.router.add_post("/auth/refresh", self._refresh)
        app.router.add_get("/.well-known/jwks.json", self._jwks)

    async def _token(self, request: web.Request) -> web.Response:
        return await _answer(request, lambda body: self.sign_in(body.get("name")))

    async def _refresh(self, request: web.Request) -> web.Response:
        async def refreshed(body: dict[str, Any]) -> IssuedTokens:
            return self.refresh(body.get("refreshToken"))

        return await _answer(request, refreshed)

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks(), headers={"Cache-Control": "no-store"})


async def _answer(request: web.Request, grant: Callable[[dict[str, Any]], Awaitable[IssuedTokens]]) -> web.Response:
    try:
        body = json.loads(await request.read() or b"null")
        if not isinstance(body, dict):
            raise InvalidRequest("invalid_request", "the body must be a JSON object")
        tokens = await grant(body)
    except ValueError as exc:  # bad JSON, bad UTF-8, or InvalidRequest
        error, message = (
            (exc.error, exc.message) if isinstance(exc, InvalidRequest) else ("invalid_request", "bad JSON")
        )
        return web.json_response({"error": error, "message": message}, status=400)
    except SignUpFailed as exc:
        return web.json_response({"error": "server_error", "message": str(exc)}, status=500)
    return web.json_response(tokens.to_json(), headers={"Cache-Control": "no-store"})
