"""The browser tests need Playwright for Python and Debian's Chromium: without them this test says what to
install (a skip on a developer's machine, a failure in CI, which sets CHAT_REQUIRE_BROWSER=1)."""

from __future__ import annotations

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, PLAYWRIGHT_INSTALLED, PLAYWRIGHT_MISSING, unavailable


def test_playwright_and_chromium_are_there_for_the_browser_tests() -> None:
    if not PLAYWRIGHT_INSTALLED:
        unavailable(PLAYWRIGHT_MISSING)
    if not CHROMIUM.is_file():
        unavailable(CHROMIUM_MISSING)
