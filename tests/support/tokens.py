"""A test identity provider: signs real JWTs and publishes its JWKS, as Cognito or any OIDC issuer would.

    issuer = TestIssuer()
    token = issuer.token(sub="u-alice", name="Alice")        # valid RS256 access token, 1 hour
    issuer.token(sub="u-bob", exp=0, aud=None, client_id="x")  # any claim overridden; None removes it
    issuer.jwks()                                            # {"keys": [RSA "rsa-1", EC P-256 "ec-1"]}
    with serve_jwks(issuer.jwks()) as server: ...            # at server.url over HTTP on 127.0.0.1

`issuer.issuer` and `issuer.audience` are what the verifier's settings must name (JWT_ISSUER, JWT_AUDIENCE).
The other methods mint the tokens a verifier must refuse (or, for `es256_token` and `cognito_access_token`,
accept). Key pairs are generated once per test session and shared by every `TestIssuer`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KEY_IDS = {"RS256": "rsa-1", "ES256": "ec-1"}


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _private_key(algorithm: str) -> PrivateKey:
    return ec_key() if algorithm.startswith("ES") else rsa_key()


def public_jwk(key: PrivateKey, kid: str, algorithm: str) -> dict[str, Any]:
    """The public half of `key` as a JWK, the way issuers publish it."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


class TestIssuer:
    """Mints tokens for one issuer and audience; every claim of `token` can be overridden or removed."""

    __test__ = False  # not a pytest test class

    def __init__(self, issuer: str = "https://issuer.chat.test", audience: str = "chat-web") -> None:
        self.issuer = issuer
        self.audience = audience

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                public_jwk(rsa_key(), KEY_IDS["RS256"], "RS256"),
                public_jwk(ec_key(), KEY_IDS["ES256"], "ES256"),
            ]
        }

    def claims(self, sub: str | None = "user-1", name: str | None = "Alice", **claims: Any) -> dict[str, Any]:
        """The claims of a valid token (iat now, exp in an hour) updated with `claims`; None removes one."""
        now = int(time.time())
        defaults = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "name": name,
            "iat": now,
            "exp": now + 3600,
        }
        return {k: v for k, v in {**defaults, **claims}.items() if v is not None}

    def token(
        self,
        sub: str | None = "user-1",
        name: str | None = "Alice",
        *,
        algorithm: str = "RS256",
        headers: dict[str, Any] | None = None,
        key: PrivateKey | None = None,
        **claims: Any,
    ) -> str:
        """A signed token with `claims` over the defaults of `claims()`.

        `headers` add to or override {"kid", "typ"} (None removes one); `key` replaces the signing key.
        """
        header = {"kid": KEY_IDS.get(algorithm, "rsa-1"), "typ": "JWT", **(headers or {})}
        # PyJWS, not jwt.encode: a test issuer must also sign claims that PyJWT refuses to encode.
        return jwt.api_jws.encode(
            json.dumps(self.claims(sub, name, **claims)).encode(),
            key or _private_key(algorithm),
            algorithm=algorithm,
            headers={k: v for k, v in header.items() if v is not None},
        )

    # Tokens a verifier must accept.
    def es256_token(self, **claims: Any) -> str:
        return self.token(algorithm="ES256", **claims)

    def cognito_access_token(self, **claims: Any) -> str:
        """Shaped like a Cognito access token: no `aud`, the app client in `client_id`, `token_use` access."""
        defaults = {"aud": None, "client_id": self.audience, "token_use": "access", "name": None}
        return self.token(**{**defaults, "username": "alice", **claims})

    # Tokens a verifier must refuse with 401.
    def expired_token(self) -> str:
        now = int(time.time())
        return self.token(iat=now - 7200, exp=now - 3600)

    def wrong_issuer_token(self) -> str:
        return self.token(iss="https://attacker.test")

    def wrong_audience_token(self) -> str:
        return self.token(aud="another-app")

    def unknown_kid_token(self, kid: str = "no-such-key") -> str:
        return self.token(headers={"kid": kid})

    def tampered_token(self) -> str:
        """A valid token whose claims were changed after signing (sub and name of another user)."""
        header, _, signature = self.token().split(".")
        forged = _unsigned({}, self.claims(sub="user-2", name="Mallory")).split(".")[1]
        return f"{header}.{forged}.{signature}"

    def alg_none_token(self) -> str:
        """Unsigned (`alg` none), the oldest trick in the book."""
        return _unsigned({"alg": "none", "typ": "JWT", "kid": KEY_IDS["RS256"]}, self.claims()) + "."

    def hs256_with_public_key_token(self) -> str:
        """HMAC-signed with the issuer's public RSA key (PEM) as the secret: algorithm confusion."""
        secret = (
            rsa_key()
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": KEY_IDS["RS256"]}, self.claims())
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"


@contextmanager
def serve_jwks(jwks: dict[str, Any]) -> Iterator[JwksServer]:
    """Serve `jwks` at `server.url` from a thread on 127.0.0.1 (free port); `server.requests` counts GETs."""
    server = JwksServer(jwks)
    thread = threading.Thread(target=server.http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.http.shutdown()
        server.http.server_close()
        thread.join()


class JwksServer:
    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/.well-known/jwks.json"
