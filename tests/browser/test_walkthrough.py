"""The README's two-tab walkthrough, step by step as written: two tabs of one browser (each tab keeps its own
development session), a direct chat both ways with typing, a group, and presence when a tab closes. Its
screenshots are the README's (test-artifacts/screenshots/walkthrough-*.png; copied to docs/screenshots/)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.chat_page import ChatPage
from tests.browser.conftest import Contexts
from tests.browser.test_safety import SCREENSHOTS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_the_readme_walkthrough_works_as_written(contexts: Contexts) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # 1. Open the page and sign in as Alice.
    alice = contexts.open(viewport={"width": 1280, "height": 800})
    alice.page.screenshot(path=SCREENSHOTS / "walkthrough-1-sign-in.png")
    alice.sign_in("Alice")
    # 2. A second tab of the same browser, signed in as Bob: Alice's tab stays Alice.
    bob_tab = alice.page.context.new_page()
    bob_tab.goto(contexts.stack.url)
    bob = ChatPage(bob_tab, alice.watch)
    bob.sign_in("Bob")
    alice.page.reload()
    alice.expect_signed_in()
    expect(alice.page.get_by_role("banner")).to_contain_text("Alice")
    expect(bob.page.get_by_role("banner")).to_contain_text("Bob")

    # 3. Alice starts a direct chat with Bob and writes.
    alice.open_direct("Bob")
    alice.send("Hi Bob! Did you see the new designs?")
    alice.expect_sent("Hi Bob! Did you see the new designs?")

    # 4. Bob finds it unread, opens it, types (Alice sees it), and answers.
    expect(bob.room("Alice")).to_contain_text("1 unread")
    bob.open_room("Alice")
    bob.composer.fill("Yes, they look gr")
    expect(alice.typing).to_have_text(re.compile(r"Bob is typing"))
    alice.page.screenshot(path=SCREENSHOTS / "walkthrough-2-typing.png")
    bob.composer.fill("Yes, they look great. One question about the header.")
    bob.composer.press("Enter")
    expect(alice.message("One question about the header.")).to_have_count(1)
    expect(alice.typing).to_have_text("")

    # 5. Alice makes a group with Bob and writes in it; it appears in Bob's list.
    alice.create_group("Design review", "Bob")
    alice.send("Review at 3 pm, slides in the shared folder.")
    alice.expect_sent("Review at 3 pm, slides in the shared folder.")
    bob.open_room("Design review")
    expect(bob.message("Review at 3 pm, slides in the shared folder.")).to_have_count(1)
    bob.send("I'll be there")
    expect(alice.message("I'll be there")).to_have_count(1)
    alice.page.screenshot(path=SCREENSHOTS / "walkthrough-3-group.png")

    # 6. Bob closes his tab: Alice sees him go offline.
    bob_tab.close()
    alice.open_room("Bob")
    expect(alice.page.get_by_text(re.compile(r"^Last seen"))).to_be_visible()

    # The same chat on a phone, in the dark theme.
    phone = contexts.open(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, color_scheme="dark")
    phone.sign_in("Alice")
    phone.open_room("Design review")
    expect(phone.message("I'll be there")).to_have_count(1)
    phone.page.screenshot(path=SCREENSHOTS / "walkthrough-4-phone-dark.png")
