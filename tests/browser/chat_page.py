"""The web client as its users see it, through the UI contract only (roles and accessible names of the shared
spec): what a test may click, type and read. No CSS class, test id or DOM shape of the app is assumed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Dialog, Locator, Page

# Reports every CSP violation on the console, as an error, whatever the browser itself logs about it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile}`);
});
"""
# What Chromium logs when the network is down (context.set_offline): expected while a test has taken it down.
NETWORK_DOWN_ERRORS = re.compile(r"ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed")


class PageWatch:
    """Collects what must never happen in a page: console errors, uncaught exceptions, dialogs (an `alert` from
    injected HTML), CSP violations. Dialogs are dismissed so the page goes on."""

    def __init__(self, context: BrowserContext) -> None:
        self.problems: list[str] = []
        self._allowed: list[re.Pattern[str]] = []
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"uncaught: {error.error}"))
        context.on("dialog", self._dialog)

    @contextmanager
    def network_down(self) -> Iterator[None]:
        """While the test has taken the network down, the browser's own network errors are expected."""
        self._allowed.append(NETWORK_DOWN_ERRORS)
        try:
            yield
        finally:
            self._allowed.remove(NETWORK_DOWN_ERRORS)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self._allowed):
            self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog ({dialog.type}): {dialog.message}")
        dialog.dismiss()


class ChatPage:
    def __init__(self, page: Page, watch: PageWatch) -> None:
        self.page, self.watch = page, watch

    # What the contract names
    @property
    def connection(self) -> Locator:
        return self.page.get_by_role("status", name="Connection")

    @property
    def rooms(self) -> Locator:
        return self.page.get_by_role("navigation", name="Rooms")

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log", name="Messages")

    @property
    def messages(self) -> Locator:
        return self.log.get_by_role("article")

    @property
    def composer(self) -> Locator:
        return self.page.get_by_role("textbox", name="Message")

    @property
    def typing(self) -> Locator:
        return self.page.get_by_role("status", name="Typing")

    def expect_conversation(self, name: str) -> None:
        """The conversation of `name` is open: its heading (h2) says so."""
        expect(self.page.get_by_role("heading", level=2, name=name, exact=True)).to_be_visible()

    def button(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)

    def message(self, content: str) -> Locator:
        return self.messages.filter(has_text=content)

    def room(self, name: str) -> Locator:
        """A room of the list: a link or button whose accessible name starts with the room's name."""
        starts = re.compile(rf"^{re.escape(name)}")
        return self.rooms.get_by_role("link", name=starts).or_(self.rooms.get_by_role("button", name=starts))

    # What a user does
    def fill_name(self, name: str) -> None:
        self.page.get_by_role("textbox", name="Your name").fill(name)

    def submit_sign_in(self) -> None:
        self.button("Sign in").click()

    def expect_signed_in(self) -> None:
        expect(self.button("Sign out")).to_be_visible()
        self.expect_online()

    def expect_online(self) -> None:
        expect(self.connection).to_have_text(re.compile(r"^Online"))

    def sign_in(self, name: str) -> None:
        self.fill_name(name)
        self.submit_sign_in()
        self.expect_signed_in()

    def open_direct(self, other: str) -> None:
        self.button("New direct chat").click()
        dialog = self.page.get_by_role("dialog")
        search_people(dialog).fill(other)
        dialog.get_by_role("button", name=other, exact=True).click()
        expect(dialog).to_be_hidden()
        self.expect_conversation(other)

    def create_group(self, name: str, *members: str) -> None:
        self.button("New group").click()
        dialog = self.page.get_by_role("dialog")
        dialog.get_by_role("textbox", name="Group name").fill(name)
        for member in members:
            search_people(dialog).fill(member)
            dialog.get_by_role("checkbox", name=member, exact=True).check()
        dialog.get_by_role("button", name="Create group").click()
        expect(dialog).to_be_hidden()
        self.expect_conversation(name)

    def open_room(self, name: str) -> None:
        self.room(name).click()
        self.expect_conversation(name)

    def send(self, content: str) -> None:
        self.composer.fill(content)
        self.composer.press("Enter")
        expect(self.composer).to_have_value("")

    def expect_sent(self, content: str) -> None:
        expect(self.message(content)).to_have_count(1)
        expect(self.message(content)).to_contain_text("Sent")

    def message_action(self, content: str, action: str) -> None:
        """Choose one of a message's actions ("Reply", "Edit", "Delete", "Add reaction"): they show on hover (or
        focus); a touch screen shows them behind the message's "Message actions" button."""
        message = self.message(content)
        message.hover()
        toggle = message.get_by_role("button", name="Message actions", exact=True)
        if toggle.is_visible():
            toggle.click()
        message.get_by_role("button", name=action, exact=True).click()

    def react(self, content: str, emoji: str) -> None:
        self.message_action(content, "Add reaction")
        self.message(content).get_by_role("button", name=f"React with {emoji}", exact=True).click()

    def reaction(self, content: str, emoji: str) -> Locator:
        """A message's reaction chip: a button named "<emoji> <count>"."""
        return self.message(content).get_by_role("button", name=re.compile(rf"^{re.escape(emoji)} \d+$"))

    def open_members(self) -> Locator:
        self.button("Members").click()
        dialog = self.page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        return dialog

    def expect_messages_once_in_order(self, *contents: str) -> None:
        """Each content in exactly one message, in this order (the log shows them oldest first)."""
        for content in contents:
            expect(self.message(content)).to_have_count(1)
        # Read until the list holds them all: it may re-render in between (the saved copy giving way to the
        # loaded room after a reload), as `expect` itself retries.
        texts: list[str] = []
        for _ in range(50):
            texts = self.messages.all_inner_texts()
            if all(any(content in text for text in texts) for content in contents):
                break
            self.page.wait_for_timeout(100)
        positions = [next((i for i, text in enumerate(texts) if content in text), -1) for content in contents]
        assert -1 not in positions and positions == sorted(positions), f"missing or out of order: {texts}"


def wait_until(page: Page, expression: str, arg: object = None, *, timeout_seconds: float = 10.0) -> None:
    """Poll `expression` (or a function of `arg`) in the page until it is truthy. Not `page.wait_for_function`:
    it polls with eval, which the app's Content-Security-Policy (no 'unsafe-eval') refuses once the first try
    is false; `evaluate` is not eval."""
    for _ in range(int(timeout_seconds * 10)):
        if page.evaluate(expression, arg):
            return
        page.wait_for_timeout(100)
    assert page.evaluate(expression, arg), f"still false after {timeout_seconds} s: {expression}"


def search_people(dialog: Locator) -> Locator:
    """The contract says textbox "Search people"; an `<input type="search">` is a searchbox, which fits too."""
    return dialog.get_by_role("textbox", name="Search people").or_(
        dialog.get_by_role("searchbox", name="Search people")
    )
