"""What must never happen in the page: HTML in a message rendered as HTML, an accessibility violation that
axe-core rates serious or critical; and screenshots of the main screen in both themes, desktop and phone, kept
in test-artifacts/screenshots/ for people to look at."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from infra.web_build import WebProject
from local.paths import REPO_ROOT
from tests.browser.chat_page import ChatPage, PageWatch
from tests.browser.conftest import Contexts
from tests.browser.people import Person, sign_in_together
from tests.local.chat_client import StackProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
AXE = WebProject().node_modules / "axe-core" / "axe.min.js"
HOSTILE = "<img src=x onerror=alert(1)>"


def chatting(contexts: Contexts, **options: Any) -> tuple[Person, Person]:
    alice, bob = sign_in_together(contexts, "Alice", "Bob", **options)
    alice.page.open_direct(bob.name)
    alice.page.send("Lunch at noon?")
    bob.page.open_room(alice.name)
    # Bob answers what he has seen: until then Alice's message may still be on its way, and would be stored after.
    expect(bob.page.message("Lunch at noon?")).to_have_count(1)
    bob.page.send("Sure, see you there")
    alice.page.expect_messages_once_in_order("Lunch at noon?", "Sure, see you there")
    return alice, bob


def test_html_in_a_message_is_shown_as_text_and_never_runs(contexts: Contexts) -> None:
    alice, bob = chatting(contexts)
    alice.page.send(HOSTILE)
    for person in (alice, bob):
        expect(person.page.message(HOSTILE)).to_have_count(1)
        expect(person.page.log.locator("img[src='x']")).to_have_count(0)
        expect(person.page.rooms.locator("img[src='x']")).to_have_count(0)
    # A dialog from alert(1) would be reported by the page watch and fail the test.


def serious_violations(page: ChatPage) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings. Injected through the DevTools protocol, as an extension would:
    a script element would be refused by the page's own script-src 'self'."""
    session = page.page.context.new_cdp_session(page.page)
    session.send("Runtime.evaluate", {"expression": AXE.read_text()})
    session.detach()
    return list(
        page.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}))"""
        )
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation_on_the_sign_in_and_main_screens(
    contexts: Contexts, theme: str
) -> None:
    signing_in = contexts.open(color_scheme=theme)
    expect(signing_in.page.get_by_role("textbox", name="Your name")).to_be_visible()
    found = {"sign-in": serious_violations(signing_in)}
    alice, _ = chatting(contexts, color_scheme=theme)
    found["main"] = serious_violations(alice.page)
    alice.page.button("New group").click()
    expect(alice.page.page.get_by_role("dialog")).to_be_visible()
    found["new group dialog"] = serious_violations(alice.page)
    assert found == {"sign-in": [], "main": [], "new group dialog": []}, json.dumps(found, indent=1)


def test_screenshots_of_the_main_screen_in_both_themes_on_desktop_and_phone(contexts: Contexts) -> None:
    alice, bob = chatting(contexts)
    alice.page.send(HOSTILE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, dict[str, Any]] = {
        "desktop": {"viewport": {"width": 1280, "height": 800}},
        "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    }
    switch_to = {"light": "Dark theme", "dark": "Light theme"}
    for theme in ("light", "dark"):
        for size, options in sizes.items():
            # Alice again, on another device: the same name is the same user.
            device = contexts.open(color_scheme=theme, **options)
            device.sign_in(alice.name)
            expect(device.button(switch_to[theme])).to_be_visible()
            device.open_room(bob.name)
            device.expect_messages_once_in_order("Lunch at noon?", "Sure, see you there", HOSTILE)
            device.page.screenshot(path=SCREENSHOTS / f"main-{theme}-{size}.png")
            device.page.context.close()
    # The switch goes the other way and says so.
    alice.page.button("Dark theme").click()
    expect(alice.page.button("Light theme")).to_be_visible()


def test_the_stack_enforces_the_deployed_policy_and_the_tests_catch_a_violation(
    browser: Browser, stack: StackProcess
) -> None:
    """An inline script, as injected HTML would bring, is refused by `script-src 'self'`, and the page watch
    that every other test relies on reports it."""
    context = browser.new_context()
    watch = PageWatch(context)
    page = context.new_page()
    page.goto(stack.url)
    with page.expect_console_message(lambda message: message.text.startswith("CSP violation")):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true";
                document.head.append(script);
            }"""
        )
    assert page.evaluate("() => window.injected") is None
    assert any(problem.startswith("console error: CSP violation: script-src-elem") for problem in watch.problems)
    context.close()
