"""The web client's own checks, run by pytest beside the Python tests (`make test` runs them in parallel):
the generated protocol types are fresh, the TypeScript type-checks, and the client's unit tests (vitest) pass."""

from __future__ import annotations

import subprocess

import pytest

from infra.web_build import INITIAL_JS_BUDGET_BYTES, WebProject, build_web, initial_javascript_gzipped

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def web() -> WebProject:
    """Its packages installed (and web/dist built: the same stamps as `make web`, so usually nothing to do)."""
    project = WebProject()
    build_web(project)
    return project


def npm_run(web: WebProject, script: str) -> None:
    done = subprocess.run(
        ["npm", "run", "--silent", script], cwd=web.root, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, f"npm run {script} failed:\n{done.stdout}\n{done.stderr}"


def test_the_protocol_types_are_what_the_servers_schema_generates(web: WebProject) -> None:
    npm_run(web, "protocol:check")


def test_the_web_client_type_checks(web: WebProject) -> None:
    npm_run(web, "typecheck")


def test_the_web_clients_unit_tests_pass(web: WebProject) -> None:
    npm_run(web, "test")


def test_the_initial_javascript_stays_within_its_budget(web: WebProject) -> None:
    size = initial_javascript_gzipped(web.dist)
    assert 20_000 < size <= INITIAL_JS_BUDGET_BYTES, f"{size} bytes gzipped"  # React alone is about 60 KB


def test_the_oidc_library_is_not_in_the_initial_javascript(web: WebProject) -> None:
    page = (web.dist / "index.html").read_text()
    lazy = [path.name for path in (web.dist / "assets").glob("oidc-client-ts-*.js")]
    assert lazy, "oidc-client-ts is its own chunk, loaded in Cognito or OIDC mode only"
    assert not any(name in page for name in lazy)
