"""Deployer choices read from CDK context (`infra.config`), without synthesizing the stack."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.config import ChatConfig


def _config(**context: Any) -> ChatConfig:
    return ChatConfig.from_context(App(context=context).node)


@pytest.mark.parametrize(
    ("issuer", "jwks_url"),
    [
        # Auth0's issuer ends with a slash, and so does the `iss` of every token it signs.
        ("https://tenant.auth0.com/", "https://tenant.auth0.com/.well-known/jwks.json"),
        ("https://login.example.com/realms/chat", "https://login.example.com/realms/chat/.well-known/jwks.json"),
    ],
)
def test_an_external_issuer_is_kept_exactly_as_given_with_its_keys_next_to_it(issuer: str, jwks_url: str) -> None:
    external = _config(issuer=issuer, audience="chat").external_issuer

    assert external is not None
    assert external.issuer == issuer
    assert external.jwks_url == jwks_url


def test_a_given_jwks_url_replaces_the_default_one() -> None:
    config = _config(issuer="https://x.okta.com/oauth2/default", audience="api", jwksUrl="https://x.okta.com/v1/keys")
    external = config.external_issuer

    assert external is not None and external.jwks_url == "https://x.okta.com/v1/keys"


def test_sign_in_origins_beyond_the_issuers_are_https_origins() -> None:
    external = _config(
        issuer="https://accounts.google.com", audience="chat", signInOrigins="https://oauth2.googleapis.com, "
    ).external_issuer
    assert external is not None and external.sign_in_origins == ("https://oauth2.googleapis.com",)
    for bad in ("http://tokens.example", "https://tokens.example/oauth2/token", "tokens.example"):
        with pytest.raises(ValueError, match="signInOrigins"):
            _config(issuer="https://login.example", audience="chat", signInOrigins=bad)


def test_dev_origins_are_none_by_default_and_come_back_as_browsers_spell_origins() -> None:
    assert _config().dev_origins == ()
    config = _config(devOrigins=" http://localhost:5173/, http://LOCALHOST:8080,https://Chat.Example.com:443, ")
    assert config.dev_origins == ("http://localhost:5173", "http://localhost:8080", "https://chat.example.com")
    assert _config(devOrigins="http://localhost:5173,http://localhost:5173/").dev_origins == ("http://localhost:5173",)


@pytest.mark.parametrize(
    "origin",
    [
        "http://chat.example.com",  # Cognito takes http for localhost only
        "http://127.0.0.1:5173",  # not even for the loopback address
        "http://192.168.1.20:5173",
        "ftp://localhost:21",
        "localhost:5173",
        "http://localhost:5173/callback",
        "https://chat.example.com/app/",
        "https://chat.example.com/?x=1",
        "https://user@chat.example.com",
        "http://localhost:99999",
        "https://",
    ],
)
def test_dev_origins_refuse_what_is_not_an_origin_cognito_takes(origin: str) -> None:
    with pytest.raises(ValueError, match="context devOrigins takes origins"):
        _config(devOrigins=f"http://localhost:5173,{origin}")


def test_dev_origins_are_for_the_stacks_cognito_client_not_an_external_issuer() -> None:
    with pytest.raises(ValueError, match="register their redirect URIs at the provider"):
        _config(issuer="https://login.example", audience="chat", devOrigins="http://localhost:5173")
