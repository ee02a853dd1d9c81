"""What a deployer may choose, read from CDK context (`-c key=value` or cdk.json)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from constructs import Node

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class ExternalIssuer:
    """An OIDC provider that signs the users' access tokens instead of the stack's Cognito user pool."""

    issuer: str
    audiences: tuple[str, ...]
    jwks_url: str
    client_id: str  # the web client's id at the provider, for the sign-in redirect
    # Origins other than the issuer's that the browser calls during sign-in (a token endpoint on another host),
    # for the web client's Content-Security-Policy: synth cannot read them from the discovery document offline.
    sign_in_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatConfig:
    retain_history: bool = True
    log_level: str = "INFO"
    external_issuer: ExternalIssuer | None = None
    # Cognito's managed login lives at https://{prefix}.auth.{region}.amazoncognito.com; unique per region.
    auth_domain_prefix: str | None = None
    # Off by default: reserving concurrency fails the deployment on an account with a low concurrency quota.
    reserve_concurrency: bool = False
    # Other origins the web client runs on (the Vite dev server, a host of web/dist), without a trailing slash:
    # `<origin>/` becomes a callback and logout URL of the Cognito app client.
    dev_origins: tuple[str, ...] = ()

    @classmethod
    def from_context(cls, node: Node) -> ChatConfig:
        log_level = str(node.try_get_context("logLevel") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ValueError(f"context logLevel must be one of {LOG_LEVELS}, not {log_level!r}")
        external_issuer = _external_issuer(node)
        dev_origins = _dev_origins(node.try_get_context("devOrigins"))
        if dev_origins and external_issuer:
            raise ValueError(
                "context devOrigins registers origins on the stack's Cognito app client: with an external issuer, "
                "register their redirect URIs at the provider instead"
            )
        return cls(
            retain_history=_flag(node.try_get_context("retainHistory"), default=True),
            log_level=log_level,
            external_issuer=external_issuer,
            auth_domain_prefix=node.try_get_context("authDomainPrefix"),
            reserve_concurrency=_flag(node.try_get_context("reservedConcurrency"), default=False),
            dev_origins=dev_origins,
        )


def _flag(value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    # `-c retainHistory=false` arrives as a string.
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"expected true or false, not {value!r}")
    return text == "true"


def _external_issuer(node: Node) -> ExternalIssuer | None:
    issuer = node.try_get_context("issuer")
    audience = node.try_get_context("audience")
    if not issuer and not audience:
        return None
    if not issuer or not audience:
        raise ValueError("context issuer and audience go together: give both, or neither for Cognito")
    # Exactly as given: tokens are checked against it character for character, and Auth0's ends with a slash.
    issuer = str(issuer)
    if not issuer.startswith("https://"):
        raise ValueError(f"context issuer must be an https URL, not {issuer!r}")
    audiences = tuple(a.strip() for a in str(audience).split(",") if a.strip())
    return ExternalIssuer(
        issuer=issuer,
        audiences=audiences,
        # Most providers publish their keys here; others (Okta, Google) need `-c jwksUrl=…`.
        jwks_url=str(node.try_get_context("jwksUrl") or f"{issuer.rstrip('/')}/.well-known/jwks.json"),
        client_id=str(node.try_get_context("clientId") or audiences[0]),
        sign_in_origins=_origins(node.try_get_context("signInOrigins")),
    )


def _origins(value: Any) -> tuple[str, ...]:
    """`-c signInOrigins=https://a.example,https://b.example`: https origins only (no path), as CSP names them."""
    origins = tuple(o.strip() for o in str(value or "").split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme != "https" or not parts.netloc or parts.path or parts.query or parts.fragment:
            raise ValueError(f"context signInOrigins takes https origins (https://host[:port]), not {origin!r}")
    return origins


# Cognito takes http redirect URLs for `http://localhost` only ("for testing purposes"), not for 127.0.0.1.
_LOOPBACK_HOSTS = ("localhost",)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _dev_origins(value: Any) -> tuple[str, ...]:
    """`-c devOrigins=http://localhost:5173,https://chat.example.com`: origins the web client also runs on.

    Each is `http://localhost:<port>` or `https://host[:port]`, without a path (a
    trailing `/` is allowed), and comes back as the browser spells an origin: lower case, no default port.
    """
    origins: list[str] = []
    for text in (o.strip() for o in str(value or "").split(",")):
        if not text:
            continue
        refusal = (
            f"context devOrigins takes origins: http://localhost:<port> (Cognito allows http for localhost only) "
            f"or https://host[:port], comma-separated; not {text!r}"
        )
        parts = urlsplit(text)
        try:
            port = parts.port
        except ValueError:
            raise ValueError(refusal) from None
        host = parts.hostname or ""
        if (
            parts.scheme not in _DEFAULT_PORTS
            or not host
            or (parts.scheme == "http" and host not in _LOOPBACK_HOSTS)
            or parts.username is not None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError(refusal)
        origin = f"{parts.scheme}://{host}" + ("" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}")
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)
