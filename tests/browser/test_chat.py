"""Two people in two browsers: they sign in at the same moment and chat both ways in a direct room and a group;
typing shows and clears; presence turns offline when a tab closes; a reload keeps the history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Contexts
from tests.browser.people import sign_in_together, unique

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_two_people_signed_in_at_once_chat_both_ways_in_a_direct_room_and_in_a_group(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")

    alice.page.open_direct(bob.name)
    alice.page.send("Hello Bob")
    alice.page.expect_sent("Hello Bob")
    bob.page.open_room(alice.name)
    expect(bob.page.message("Hello Bob")).to_contain_text(alice.name)
    bob.page.send("Hi Alice")
    expect(alice.page.message("Hi Alice")).to_contain_text(bob.name)

    team = unique("Team")
    alice.page.create_group(team, bob.name)
    alice.page.send("Welcome to the team")
    bob.page.open_room(team)
    expect(bob.page.message("Welcome to the team")).to_have_count(1)
    bob.page.send("Thanks!")
    alice.page.expect_messages_once_in_order("Welcome to the team", "Thanks!")
    bob.page.expect_messages_once_in_order("Welcome to the team", "Thanks!")


def test_typing_shows_to_the_other_person_and_clears_when_the_message_is_sent(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    alice.page.open_direct(bob.name)
    alice.page.send("Are you there?")
    bob.page.open_room(alice.name)

    bob.page.composer.press_sequentially("Yes, just")
    expect(alice.page.typing).to_have_text(re.compile(rf"^{re.escape(bob.name)} is typing"))
    bob.page.composer.press("Enter")
    expect(alice.page.message("Yes, just")).to_have_count(1)
    # Well before the indicator would expire by itself (about 6 s).
    expect(alice.page.typing).to_have_text("", timeout=4000)


def test_presence_turns_offline_when_the_other_persons_tab_closes(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    alice.page.open_direct(bob.name)
    online = re.compile(r"\bonline\b", re.IGNORECASE)
    expect(alice.page.room(bob.name)).to_have_accessible_name(online)

    bob.page.page.context.close()
    expect(alice.page.page.get_by_text(re.compile(r"^Last seen"))).to_be_visible()
    expect(alice.page.room(bob.name)).not_to_have_accessible_name(online)


def test_a_reload_keeps_the_history(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    alice.page.open_direct(bob.name)
    for content in ("One", "Two", "Three"):
        alice.page.send(content)
    alice.page.expect_sent("Three")

    alice.page.page.reload()
    alice.page.expect_signed_in()
    alice.page.open_room(bob.name)
    alice.page.expect_messages_once_in_order("One", "Two", "Three")
