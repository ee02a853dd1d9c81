"""The development identity provider signs real RS256 tokens that the production verifier accepts; the web client
and its settings are served next to it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import jwt
import pytest

from chat.auth import TokenVerifier
from chat.errors import TokenRejected
from local.identity import NAME_MAX_CHARS
from tests.local.chat_client import get, post_json
from tests.local.conftest import fake_stack
from tests.local.fake_functions import FakeFunctions

pytestmark = pytest.mark.timeout(60)


def run(scenario: Coroutine[Any, Any, None], timeout: float = 30) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout))


async def jwks(base_url: str) -> dict[str, Any]:
    import json

    status, _, text = await get(f"{base_url}/.well-known/jwks.json")
    assert status == 200
    return dict(json.loads(text))


def verifier(base_url: str, keys: dict[str, Any]) -> TokenVerifier:
    return TokenVerifier(
        issuer=base_url, audiences=["chat-local"], jwks_url="unused", algorithms=["RS256"], fetch=lambda _: keys
    )


def test_a_token_for_a_name_is_an_rs256_jwt_the_production_verifier_accepts(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, access_token_seconds=120) as stack:
            status, tokens = await post_json(f"{stack.url}/auth/token", {"name": "  Alice  "})
            assert status == 200
            assert tokens["user"]["name"] == "Alice" and tokens["expiresIn"] == 120
            header = jwt.get_unverified_header(tokens["accessToken"])
            assert header["alg"] == "RS256" and header["kid"]
            keys = await jwks(stack.url)
            identity = verifier(stack.url, keys).verify(tokens["accessToken"])
            assert (identity.user_id, identity.name) == (tokens["user"]["id"], "Alice")
            claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
            assert claims["iss"] == stack.url and claims["aud"] == "chat-local"
            assert claims["exp"] - claims["iat"] == 120
            # A refresh token cannot open a connection.
            with pytest.raises(TokenRejected) as refused:
                verifier(stack.url, keys).verify(tokens["refreshToken"])
            assert refused.value.status == 403

    run(scenario())


def test_the_same_name_is_the_same_user_whatever_its_case(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            _, first = await post_json(f"{stack.url}/auth/token", {"name": "Alice"})
            _, again = await post_json(f"{stack.url}/auth/token", {"name": "alice"})
            _, other = await post_json(f"{stack.url}/auth/token", {"name": "Bob"})
            assert first["user"]["id"] == again["user"]["id"] != other["user"]["id"]
            assert again["user"]["name"] == "alice"

    run(scenario())


def test_a_refresh_token_buys_new_tokens_for_the_same_user(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            _, tokens = await post_json(f"{stack.url}/auth/token", {"name": "Alice"})
            status, renewed = await post_json(f"{stack.url}/auth/refresh", {"refreshToken": tokens["refreshToken"]})
            assert status == 200
            assert renewed["user"] == tokens["user"]
            verifier(stack.url, await jwks(stack.url)).verify(renewed["accessToken"])
            status, error = await post_json(f"{stack.url}/auth/refresh", {"refreshToken": tokens["accessToken"]})
            assert (status, error["error"]) == (400, "invalid_grant")

    run(scenario())


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/token", {"name": ""}),
        ("/auth/token", {"name": "   "}),
        ("/auth/token", {"name": "x" * (NAME_MAX_CHARS + 1)}),
        ("/auth/token", {"name": "tab\there"}),
        ("/auth/token", {"name": 42}),
        ("/auth/token", {}),
        ("/auth/token", ["Alice"]),
        ("/auth/refresh", {"refreshToken": "not.a.jwt"}),
        ("/auth/refresh", {}),
    ],
)
def test_bad_input_to_the_identity_provider_is_a_400_json_error(fakes: FakeFunctions, path: str, body: Any) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            status, error = await post_json(f"{stack.url}{path}", body)
            assert status == 400
            assert error["error"] in ("invalid_request", "invalid_grant") and error["message"]

    run(scenario())


def test_a_body_that_is_not_json_is_a_400_json_error(fakes: FakeFunctions) -> None:
    import aiohttp

    async def scenario() -> None:
        async with (
            fake_stack(fakes) as stack,
            aiohttp.ClientSession() as session,
            session.post(f"{stack.url}/auth/token", data=b"\xff{") as response,
        ):
            assert response.status == 400
            assert (await response.json())["error"] == "invalid_request"

    run(scenario())


def test_the_web_client_and_its_settings_are_served(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        import json

        async with fake_stack(fakes) as stack:
            status, content_type, page = await get(f"{stack.url}/")
            assert (status, content_type) == (200, "text/html") and "<html" in page.lower()
            status, _, text = await get(f"{stack.url}/config.json")
            assert status == 200
            assert json.loads(text) == {
                "websocketUrl": stack.websocket_url,
                "auth": {"mode": "dev", "tokenUrl": "/auth/token", "refreshUrl": "/auth/refresh"},
            }
            assert (await get(f"{stack.url}/no-such-file.js"))[0] == 404
            assert (await get(f"{stack.url}/../pyproject.toml"))[0] == 404

    run(scenario())
