"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, against the real local stack (its own
process and port per test module, serving the built web/dist).

Without Chromium, Playwright or Node (to build the client) the tests skip, saying what is missing; with
`CHAT_REQUIRE_BROWSER=1` (as `.ci/run` sets it) they fail instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from infra.web_build import NodeMissing, build_web
from tests.local.chat_client import StackProcess, start_stack_process

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

    from tests.browser.chat_page import ChatPage, PageWatch

CHROMIUM = Path(os.environ.get("CHAT_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("CHAT_REQUIRE_BROWSER") == "1"
PLAYWRIGHT_INSTALLED = importlib.util.find_spec("playwright") is not None
PLAYWRIGHT_MISSING = "Playwright for Python is not installed (requirements/dev.txt: `make setup`)"
CHROMIUM_MISSING = f"no Chromium at {CHROMIUM}: `apt-get install chromium` (Debian's; .ci/run installs it)"
if not PLAYWRIGHT_INSTALLED:
    # Their imports would fail; test_browser_can_run.py says why instead (and fails with CHAT_REQUIRE_BROWSER=1).
    collect_ignore_glob = ["test_[!b]*.py"]


def unavailable(reason: str) -> NoReturn:
    if REQUIRED:
        pytest.fail(f"{reason} (CHAT_REQUIRE_BROWSER=1: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The client as `make web` builds it (usually already built: then only its stamps are checked). A build
    that fails is a failure; only a missing Node skips."""
    try:
        return build_web()
    except NodeMissing as missing:
        unavailable(str(missing))


@pytest.fixture(scope="module")
def browser(web_dist: Path) -> Iterator[Browser]:
    if not PLAYWRIGHT_INSTALLED:
        unavailable(PLAYWRIGHT_MISSING)
    if not CHROMIUM.is_file():
        unavailable(CHROMIUM_MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's build, not Playwright's download (which cannot be fetched here); no sandbox as root in CI.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def stack(web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The real stack (real handlers, embedded DynamoDB) on a free port, for this module's tests."""
    process = start_stack_process(tmp_path_factory.mktemp("stack") / "stack.log")
    try:
        yield process
    finally:
        code = process.stop()
        assert code == 0, process.log()


class Contexts:
    """Browser contexts (one per simulated person or device) opened by a test, closed after it; any console
    error, uncaught exception, dialog or Content-Security-Policy violation in any of their pages fails the test."""

    def __init__(self, browser: Browser, stack: StackProcess) -> None:
        self.browser, self.stack = browser, stack
        self.watches: list[PageWatch] = []
        self._contexts: list[BrowserContext] = []

    def open(self, **options: object) -> ChatPage:
        from tests.browser.chat_page import ChatPage, PageWatch

        context = self.browser.new_context(**options)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)  # actions; expect() waits its own 5 s
        self._contexts.append(context)
        watch = PageWatch(context)
        self.watches.append(watch)
        page = context.new_page()
        page.goto(self.stack.url)
        return ChatPage(page, watch)

    def close(self) -> None:
        for context in self._contexts:
            with contextlib.suppress(Exception):  # already closed by the test (a tab going away)
                context.close()


@pytest.fixture
def contexts(browser: Browser, stack: StackProcess) -> Iterator[Contexts]:
    opened = Contexts(browser, stack)
    try:
        yield opened
    finally:
        opened.close()
    problems = [problem for watch in opened.watches for problem in watch.problems]
    assert not problems, "the page reported:\n" + "\n".join(problems)
