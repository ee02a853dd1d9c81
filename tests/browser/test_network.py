"""The network drops (`context.set_offline`): what the other person wrote meanwhile appears once it is back, in
order and once each; what was written while offline is delivered once after the reconnect."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Contexts
from tests.browser.people import Person, sign_in_together, stored_copies, unique

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

DOWN = re.compile(r"^(Offline|Reconnecting)")


def in_a_direct_room(contexts: Contexts) -> tuple[Person, Person]:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    alice.page.open_direct(bob.name)
    alice.page.send("Before the drop")
    bob.page.open_room(alice.name)
    expect(bob.page.message("Before the drop")).to_have_count(1)
    return alice, bob


def test_messages_written_while_the_network_was_down_appear_in_order_and_once_when_it_is_back(
    contexts: Contexts,
) -> None:
    alice, bob = in_a_direct_room(contexts)
    missed = [f"Missed {n} {unique('')}" for n in (1, 2, 3)]

    with bob.page.watch.network_down():
        bob.page.page.context.set_offline(True)
        expect(bob.page.connection).to_have_text(DOWN)
        for content in missed:
            alice.page.send(content)
        alice.page.expect_sent(missed[-1])
        expect(bob.page.message(missed[0])).to_have_count(0)
        bob.page.page.context.set_offline(False)
        bob.page.expect_online()

    bob.page.expect_messages_once_in_order("Before the drop", *missed)


def test_a_message_written_while_offline_is_delivered_once_after_the_reconnect(contexts: Contexts) -> None:
    alice, bob = in_a_direct_room(contexts)
    content = f"Written offline {unique('')}"

    with bob.page.watch.network_down():
        bob.page.page.context.set_offline(True)
        expect(bob.page.connection).to_have_text(DOWN)
        bob.page.send(content)
        expect(bob.page.message(content)).not_to_contain_text(re.compile(r"\bSent\b"))
        bob.page.page.context.set_offline(False)
        bob.page.expect_online()

    bob.page.expect_sent(content)
    expect(alice.page.message(content)).to_have_count(1)
    alice.page.expect_messages_once_in_order("Before the drop", content)
    assert stored_copies(contexts.stack, alice.name, content) == 1
