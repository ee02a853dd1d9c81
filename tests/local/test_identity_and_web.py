"""The development identity provider signs real RS256 tokens that the production verifier accepts; the web client
and its settings are served next to it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import jwt
import pytest

from chat.auth import TokenVerifier
from chat.errors import TokenRejected
from infra.web_headers import security_headers
from local.console import FRAMES_LOGGER
from local.identity import NAME_MAX_CHARS
from tests.local.chat_client import get, post_json
from tests.local.conftest import fake_stack
from tests.local.fake_functions import FakeFunctions

pytestmark = pytest.mark.timeout(60)

# What Cognito's tokens carry (that matters to the chat): no name and no `aud` in the access token.
COGNITO_ACCESS_TOKEN_CLAIMS = {
    "sub",
    "iss",
    "client_id",
    "token_use",
    "scope",
    "auth_time",
    "iat",
    "exp",
    "jti",
    "username",
}
COGNITO_ID_TOKEN_CLAIMS = {"sub", "iss", "aud", "token_use", "name", "cognito:username", "iat", "exp", "auth_time"}


def run(scenario: Coroutine[Any, Any, None], timeout: float = 30) -> None:
    asyncio.run(asyncio.wait_for(scenario, timeout))


async def jwks(base_url: str) -> dict[str, Any]:
    status, _, text = await get(f"{base_url}/.well-known/jwks.json")
    assert status == 200
    return dict(json.loads(text))


def verifier(base_url: str, keys: dict[str, Any]) -> TokenVerifier:
    return TokenVerifier(
        issuer=base_url, audiences=["chat-local"], jwks_url="unused", algorithms=["RS256"], fetch=lambda _: keys
    )


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_the_access_token_is_shaped_like_cognitos_and_the_production_verifier_accepts_it(
    fakes: FakeFunctions,
) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, access_token_seconds=120) as stack:
            status, tokens = await post_json(f"{stack.url}/auth/token", {"name": "  Alice  "})
            assert status == 200
            assert tokens["user"]["name"] == "Alice" and tokens["expiresIn"] == 120
            header = jwt.get_unverified_header(tokens["accessToken"])
            assert header["alg"] == "RS256" and header["kid"]
            claims = claims_of(tokens["accessToken"])
            assert set(claims) == COGNITO_ACCESS_TOKEN_CLAIMS
            assert claims["sub"] == claims["username"] == tokens["user"]["id"]
            assert (claims["iss"], claims["client_id"], claims["token_use"]) == (stack.url, "chat-local", "access")
            assert claims["exp"] - claims["iat"] == 120 and claims["auth_time"] == claims["iat"]
            identity = verifier(stack.url, await jwks(stack.url)).verify(tokens["accessToken"])
            assert identity.user_id == tokens["user"]["id"]

    run(scenario())


def test_the_id_token_carries_the_name_for_the_client(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            _, tokens = await post_json(f"{stack.url}/auth/token", {"name": "Alice"})
            claims = claims_of(tokens["idToken"])
            assert set(claims) == {
                "sub",
                "iss",
                "aud",
                "token_use",
                "name",
                "cognito:username",
                "iat",
                "exp",
                "auth_time",
            }
            assert claims["sub"] == claims["cognito:username"] == tokens["user"]["id"]
            assert (claims["aud"], claims["token_use"], claims["name"]) == ("chat-local", "id", "Alice")
            verifier(stack.url, await jwks(stack.url)).verify(tokens["idToken"])

    run(scenario())


def test_a_refresh_token_cannot_open_a_connection(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            _, tokens = await post_json(f"{stack.url}/auth/token", {"name": "Alice"})
            with pytest.raises(TokenRejected) as refused:
                verifier(stack.url, await jwks(stack.url)).verify(tokens["refreshToken"])
            assert refused.value.status == 403

    run(scenario())


def test_the_first_sign_in_of_a_name_runs_the_sign_up_trigger_once_with_a_cognito_event(
    fakes: FakeFunctions,
) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            _, alice = await post_json(f"{stack.url}/auth/token", {"name": "Alice"})
            await post_json(f"{stack.url}/auth/token", {"name": "alice"})
            await post_json(f"{stack.url}/auth/refresh", {"refreshToken": alice["refreshToken"]})
            _, bob = await post_json(f"{stack.url}/auth/token", {"name": "Bob"})
        events = fakes.events_of("sign_up")
        assert [e["request"]["userAttributes"]["name"] for e in events] == ["Alice", "Bob"]
        assert events[0] == {
            "version": "1",
            "region": "us-east-1",
            "userPoolId": "us-east-1_local",
            "userName": alice["user"]["id"],
            "callerContext": {"awsSdkVersion": "local", "clientId": "chat-local"},
            "triggerSource": "PostConfirmation_ConfirmSignUp",
            "request": {
                "userAttributes": {
                    "sub": alice["user"]["id"],
                    "name": "Alice",
                    "email_verified": "false",
                    "cognito:user_status": "CONFIRMED",
                }
            },
            "response": {},
        }
        assert events[1]["userName"] == bob["user"]["id"]

    run(scenario())


def test_two_sign_ins_of_a_new_name_at_once_run_the_trigger_once(fakes: FakeFunctions) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            answers = await asyncio.gather(*(post_json(f"{stack.url}/auth/token", {"name": "Alice"}) for _ in range(5)))
            assert [status for status, _ in answers] == [200] * 5
        assert len(fakes.events_of("sign_up")) == 1

    run(scenario())


def test_a_failing_sign_up_trigger_fails_the_sign_in_with_500_and_the_next_one_tries_again(
    fakes: FakeFunctions,
) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            for _ in range(2):
                status, error = await post_json(f"{stack.url}/auth/token", {"name": "Unlucky"})
                assert status == 500 and "accessToken" not in error
                assert error["error"] == "server_error" and "sign_up" in error["message"]
        assert len(fakes.events_of("sign_up")) == 2

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
            assert claims_of(renewed["idToken"])["name"] == "Alice"
            # The time of the sign-in stays, as with Cognito.
            assert claims_of(renewed["accessToken"])["auth_time"] == claims_of(tokens["accessToken"])["auth_time"]
            verifier(stack.url, await jwks(stack.url)).verify(renewed["accessToken"])
            for not_a_refresh_token in (tokens["accessToken"], tokens["idToken"]):
                status, error = await post_json(f"{stack.url}/auth/refresh", {"refreshToken": not_a_refresh_token})
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


def built_client(root: Path) -> Path:
    """A `web/dist` as vite lays it out: the shell, and assets named after their content."""
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(APP_SHELL)
    (dist / "assets" / "index-3f2a9c.js").write_text("console.log('chat')")
    (dist / "robots.txt").write_text("User-agent: *")
    (dist / "sw.js").write_text(SERVICE_WORKER)
    (dist / "manifest.webmanifest").write_text(MANIFEST)
    (dist / ".hidden").write_text("not for the web")
    (root / "secret.txt").write_text("outside dist")
    return dist


SERVICE_WORKER = 'const PRECACHE = ["/index.html"];'
MANIFEST = '{"name": "Chat", "start_url": "/"}'
APP_SHELL = '<!doctype html><html><head><script type="module" src="/assets/index-3f2a9c.js"></script></head></html>'
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url, headers=headers or {}) as response:
        return response.status, dict(response.headers), await response.text()


def test_the_built_client_is_served_at_the_root_and_revalidated_on_every_load(
    fakes: FakeFunctions, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, web_dist=built_client(tmp_path)) as stack:
            for path in ("/", "/index.html"):
                status, headers, page = await fetch(f"{stack.url}{path}", HTML)
                assert (status, page) == (200, APP_SHELL)
                assert headers["Content-Type"].startswith("text/html")
                assert headers["Cache-Control"] == "no-cache"
            status, headers, _ = await fetch(f"{stack.url}/robots.txt")
            assert (status, headers["Cache-Control"]) == (200, "no-cache"), "only hashed names are kept long"

    run(scenario())


def test_the_service_worker_and_the_manifest_are_revalidated_on_every_load_and_allowed_by_the_policy(
    fakes: FakeFunctions, tmp_path: Path
) -> None:
    """A cached sw.js would keep an old app after a deploy: it is revalidated like index.html (as on CloudFront)."""

    async def scenario() -> None:
        async with fake_stack(fakes, web_dist=built_client(tmp_path)) as stack:
            status, headers, text = await fetch(f"{stack.url}/sw.js")
            assert (status, text, headers["Cache-Control"]) == (200, SERVICE_WORKER, "no-cache")
            assert headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
            assert "worker-src 'self';" in headers["Content-Security-Policy"]
            status, headers, text = await fetch(f"{stack.url}/manifest.webmanifest")
            assert (status, text, headers["Cache-Control"]) == (200, MANIFEST, "no-cache")
            assert "manifest-src 'self';" in headers["Content-Security-Policy"]

    run(scenario())


def test_hashed_assets_are_cached_for_a_year_as_immutable(fakes: FakeFunctions, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, web_dist=built_client(tmp_path)) as stack:
            status, headers, text = await fetch(f"{stack.url}/assets/index-3f2a9c.js")
            assert (status, text) == (200, "console.log('chat')")
            assert headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
            assert headers["Cache-Control"] == "public, max-age=31536000, immutable"

    run(scenario())


def test_a_page_the_app_routes_gets_the_shell_but_a_missing_file_is_a_404(fakes: FakeFunctions, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, web_dist=built_client(tmp_path)) as stack:
            status, headers, page = await fetch(f"{stack.url}/rooms/abc", HTML)
            assert (status, page, headers["Cache-Control"]) == (200, APP_SHELL, "no-cache")
            # A missing script must not come back as HTML (the browser would report a MIME type error instead).
            assert (await fetch(f"{stack.url}/assets/index-old.js", HTML))[0] == 404
            assert (await fetch(f"{stack.url}/rooms/abc", {"Accept": "application/json"}))[0] == 404
            assert (await fetch(f"{stack.url}/no-such-file.js"))[0] == 404

    run(scenario())


@pytest.mark.parametrize("path", ["/.hidden", "/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"])
def test_hidden_files_and_files_outside_the_build_are_not_served(
    fakes: FakeFunctions, tmp_path: Path, path: str
) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, web_dist=built_client(tmp_path)) as stack:
            status, _, text = await fetch(f"{stack.url}{path}")
            assert status == 404 and "outside dist" not in text and "not for the web" not in text

    run(scenario())


def test_the_settings_name_the_local_websocket_and_the_dev_sign_in(fakes: FakeFunctions, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, web_dist=built_client(tmp_path)) as stack:
            status, headers, text = await fetch(f"{stack.url}/config.json")
            assert status == 200 and headers["Cache-Control"] == "no-cache"
            assert json.loads(text) == {
                "websocketUrl": stack.websocket_url,
                "auth": {"mode": "dev", "tokenUrl": "/auth/token", "refreshUrl": "/auth/refresh"},
            }

    run(scenario())


@pytest.mark.parametrize("path", ["/", "/assets/index-3f2a9c.js", "/config.json", "/rooms/abc", "/missing.js"])
def test_every_answer_carries_cloudfronts_security_headers_with_the_local_websocket_allowed(
    fakes: FakeFunctions, tmp_path: Path, path: str
) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, web_dist=built_client(tmp_path)) as stack:
            _, headers, _ = await fetch(f"{stack.url}{path}", HTML)
            websocket_origin = f"ws://127.0.0.1:{stack.port}"
            for name, value in security_headers([websocket_origin]).items():
                assert headers[name] == value, name
            assert f"connect-src 'self' {websocket_origin};" in headers["Content-Security-Policy"]
            assert "script-src 'self';" in headers["Content-Security-Policy"]

    run(scenario())


def test_without_a_build_every_page_says_how_to_build_the_client(fakes: FakeFunctions, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with fake_stack(fakes, web_dist=tmp_path / "dist") as stack:
            for path in ("/", "/rooms/abc"):
                status, headers, page = await fetch(f"{stack.url}{path}", HTML)
                assert status == 200 and headers["Content-Type"].startswith("text/html")
                assert "not built" in page and "make web" in page
                assert "Content-Security-Policy" in headers
            assert (await fetch(f"{stack.url}/assets/index.js"))[0] == 404
            assert (await fetch(f"{stack.url}/config.json"))[0] == 200

    run(scenario())


def test_the_console_logs_each_http_request_with_the_status_sent(
    fakes: FakeFunctions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=FRAMES_LOGGER)

    async def scenario() -> None:
        async with fake_stack(fakes) as stack:
            for path, status in (("/", 200), ("/no-such-file.js", 404), ("/config.json", 200)):
                assert (await get(f"{stack.url}{path}"))[0] == status
            assert (await post_json(f"{stack.url}/auth/token", {"name": ""}))[0] == 400

    run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.name == FRAMES_LOGGER]
    statuses = [(line.split()[2], line.split()[3]) for line in lines if line.startswith("http")]
    assert statuses == [
        ("/", "status=200"),
        ("/no-such-file.js", "status=404"),
        ("/config.json", "status=200"),
        ("/auth/token", "status=400"),
    ]
