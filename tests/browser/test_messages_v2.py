"""Issue 10 as its users see it, two (or three) people in their own browsers: unread badges from the server and
the "New messages" line, reading on one device clears the badge on another, edits, deletions, reactions, replies
that jump to their parent, and a group's admin removing a member and renaming the room. Screenshots go to
test-artifacts/screenshots/v2-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Contexts
from tests.browser.people import Person, send_through_protocol, sign_in_together, unique
from tests.browser.test_safety import SCREENSHOTS, serious_violations

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

UNREAD = re.compile(r"\bunread\b")
DOWN = re.compile(r"^(Offline|Reconnecting)")


def shot(person: Person, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    person.page.page.screenshot(path=SCREENSHOTS / f"v2-{name}.png")


def direct_chat(contexts: Contexts) -> tuple[Person, Person]:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    alice.page.open_direct(bob.name)
    alice.page.send("Hello Bob")
    alice.page.expect_sent("Hello Bob")
    bob.page.open_room(alice.name)
    expect(bob.page.message("Hello Bob")).to_have_count(1)
    return alice, bob


def test_the_unread_badge_counts_the_servers_unread_messages_and_the_room_opens_at_a_new_messages_line(
    contexts: Contexts,
) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    alice.page.open_direct(bob.name)
    for content in ("One", "Two", "Three"):
        alice.page.send(content)
    alice.page.expect_sent("Three")
    expect(bob.page.room(alice.name)).to_contain_text("3 unread")
    # Another device of Bob's, signed in now: the count is the server's, not this device's guess.
    phone = contexts.open(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    phone.sign_in(bob.name)
    expect(phone.room(alice.name)).to_contain_text("3 unread")
    shot(Person(bob.name, phone), "unread-badge-phone")
    bob.page.open_room(alice.name)
    expect(bob.page.page.get_by_role("separator", name="New messages")).to_be_visible()
    bob.page.expect_messages_once_in_order("One", "Two", "Three")
    shot(bob, "new-messages-line")
    expect(bob.page.room(alice.name)).not_to_contain_text(UNREAD)
    # Bob's marker reaches Alice as a read receipt.
    expect(alice.page.message("Three")).to_contain_text("Seen")
    shot(alice, "seen")


def test_reading_on_one_device_clears_the_badge_on_the_other(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    laptop = bob.page
    phone = contexts.open()
    phone.sign_in(bob.name)
    alice.page.open_direct(bob.name)
    alice.page.send("Are you there?")
    alice.page.send("Hello?")
    expect(laptop.room(alice.name)).to_contain_text("2 unread")
    expect(phone.room(alice.name)).to_contain_text("2 unread")
    laptop.open_room(alice.name)
    expect(laptop.message("Hello?")).to_have_count(1)
    # The laptop tells the server (markRead); the server tells the phone (read).
    expect(phone.room(alice.name)).not_to_contain_text(UNREAD)
    # And a reload of the phone keeps it read: the marker is the server's.
    phone.page.reload()
    phone.expect_signed_in()
    expect(phone.room(alice.name)).to_be_visible()
    expect(phone.room(alice.name)).not_to_contain_text(UNREAD)


def test_an_edit_shows_edited_to_the_other_person(contexts: Contexts) -> None:
    alice, bob = direct_chat(contexts)
    alice.page.send("See you at 3")
    expect(bob.page.message("See you at 3")).to_have_count(1)
    alice.page.message_action("See you at 3", "Edit")
    editor = alice.page.page.get_by_role("textbox", name="Edit message")
    expect(editor).to_have_value("See you at 3")
    editor.fill("See you at 4")
    editor.press("Enter")
    expect(editor).to_have_count(0)
    for person in (alice, bob):
        expect(person.page.message("See you at 4")).to_contain_text("(edited)")
        expect(person.page.message("See you at 3")).to_have_count(0)
    shot(bob, "edited")
    # Escape cancels an edit.
    alice.page.message_action("See you at 4", "Edit")
    editor.fill("Never mind")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(alice.page.message("See you at 4")).to_have_count(1)


def test_a_deleted_message_shows_message_deleted_to_the_other_person(contexts: Contexts) -> None:
    alice, bob = direct_chat(contexts)
    alice.page.send("Oops, wrong chat")
    expect(bob.page.message("Oops, wrong chat")).to_have_count(1)
    alice.page.message_action("Oops, wrong chat", "Delete")
    dialog = alice.page.page.get_by_role("dialog", name="Delete message?")
    expect(dialog).to_be_visible()
    shot(alice, "delete-confirm")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(dialog).to_be_hidden()
    for person in (alice, bob):
        expect(person.page.message("Oops, wrong chat")).to_have_count(0)
        expect(person.page.message("Message deleted")).to_have_count(1)
    shot(bob, "deleted")


def test_reaction_counts_appear_for_the_other_person_and_toggle(contexts: Contexts) -> None:
    alice, bob = direct_chat(contexts)
    bob.page.react("Hello Bob", "👍")
    expect(alice.page.reaction("Hello Bob", "👍")).to_have_accessible_name("👍 1")
    expect(alice.page.reaction("Hello Bob", "👍")).to_have_attribute("aria-pressed", "false")
    expect(bob.page.reaction("Hello Bob", "👍")).to_have_attribute("aria-pressed", "true")
    # Alice adds hers by clicking the chip: 2, hers highlighted; clicking again takes it back.
    alice.page.reaction("Hello Bob", "👍").click()
    for person in (alice, bob):
        expect(person.page.reaction("Hello Bob", "👍")).to_have_accessible_name("👍 2")
    expect(alice.page.reaction("Hello Bob", "👍")).to_have_attribute("aria-pressed", "true")
    alice.page.react("Hello Bob", "🎉")
    expect(bob.page.reaction("Hello Bob", "🎉")).to_have_accessible_name("🎉 1")
    shot(alice, "reactions")
    assert serious_violations(alice.page) == []
    alice.page.reaction("Hello Bob", "👍").click()
    for person in (alice, bob):
        expect(person.page.reaction("Hello Bob", "👍")).to_have_accessible_name("👍 1")
    expect(alice.page.reaction("Hello Bob", "👍")).to_have_attribute("aria-pressed", "false")
    # Alice's phone, in the dark theme: her own reaction (🎉) is hers there too; the actions sit behind a button.
    phone = contexts.open(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, color_scheme="dark")
    phone.sign_in(alice.name)
    phone.open_room(bob.name)
    expect(phone.reaction("Hello Bob", "🎉")).to_have_attribute("aria-pressed", "true")
    phone.message("Hello Bob").get_by_role("button", name="Message actions").click()
    expect(phone.message("Hello Bob").get_by_role("button", name="Reply", exact=True)).to_be_visible()
    phone.page.screenshot(path=SCREENSHOTS / "v2-reactions-phone-dark.png")


def test_a_reply_shows_its_parents_preview_and_clicking_it_jumps_to_the_parent(contexts: Contexts) -> None:
    alice, bob = direct_chat(contexts)
    # Tall messages, few enough for the flood control (30 frames per 10 s): the parent scrolls out of view.
    fillers = [f"Filler {n}\nsecond line\nthird line\nfourth line" for n in range(1, 13)]
    for content in fillers:
        alice.page.send(content)
    expect(bob.page.message("Filler 12")).to_have_count(1, timeout=15_000)
    bob.page.message_action("Hello Bob", "Reply")
    expect(bob.page.page.get_by_text("Replying to")).to_be_visible()
    bob.page.send("Hi Alice, replying to your first message")
    reply = alice.page.message("Hi Alice, replying to your first message")
    quote = reply.get_by_role("button", name=re.compile(r"^Reply to .*Hello Bob"))
    expect(quote).to_be_visible()
    # The parent is the message with that text that quotes nothing (the reply's quote holds it too); the list is
    # windowed, so far out of view it is not even in the page.
    quoting = alice.page.page.get_by_role("button", name=re.compile(r"^Reply to "))
    parent = alice.page.message("Hello Bob").filter(has_not=quoting)
    if parent.count():
        expect(parent).not_to_be_in_viewport()
    shot(alice, "reply")
    quote.click()
    expect(parent).to_be_in_viewport()
    expect(parent).to_be_focused()
    shot(alice, "reply-jumped")


def test_clicking_a_reply_whose_parent_is_not_loaded_loads_the_history_back_to_it(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    alice.page.open_direct(bob.name)
    alice.page.send("The original question")
    alice.page.expect_sent("The original question")
    # More than a page (50) after it, then a reply to it: Bob's room opens on the latest page, without the parent.
    fillers = [f"Filler {n}" for n in range(1, 56)]
    answer = "The answer, at last"
    send_through_protocol(contexts.stack, alice.name, [*fillers, answer], reply_to_first="The original question")
    # Bob reads it all on his laptop (which got every message pushed)...
    bob.page.open_room(alice.name)
    bob.page.button("Jump to latest").click()
    expect(bob.page.message(answer)).to_be_in_viewport()
    expect(bob.page.room(alice.name)).not_to_contain_text(UNREAD)
    # ...and opens it on a new device: the latest page, without the parent.
    laptop = bob
    bob = Person(laptop.name, contexts.open())
    bob.page.sign_in(laptop.name)
    bob.page.open_room(alice.name)
    reply = bob.page.message(answer)
    expect(reply).to_be_in_viewport()
    quoting = bob.page.page.get_by_role("button", name=re.compile(r"^Reply to "))
    parent = bob.page.message("The original question").filter(has_not=quoting)
    expect(parent).to_have_count(0)
    # The preview comes with the reply (the server's replyTo): the parent's text shows though it is not loaded.
    quote = reply.get_by_role("button", name=re.compile(r"^Reply to .*The original question"))
    expect(quote).to_be_visible()
    quote.click()
    expect(parent).to_be_in_viewport(timeout=10_000)
    expect(parent).to_be_focused()
    shot(bob, "reply-parent-loaded")


def test_a_fresh_device_shows_a_replys_preview_and_fetches_its_parent(contexts: Contexts) -> None:
    alice, bob = direct_chat(contexts)
    alice.page.message_action("Hello Bob", "Reply")
    alice.page.send("Replying to myself")
    expect(bob.page.message("Replying to myself")).to_have_count(1)
    quote = bob.page.message("Replying to myself").get_by_role("button", name=re.compile(r"^Reply to .*Hello Bob"))
    expect(quote).to_be_visible()


def test_edits_deletions_reactions_and_reads_made_while_offline_show_after_the_reconnect(contexts: Contexts) -> None:
    """The reconnect's one `sync` brings the room's changes (and the marker moved elsewhere), not only its new
    messages."""
    alice, bob = direct_chat(contexts)
    for content in ("Draft plan", "Wrong thread", "Vote here"):
        alice.page.send(content)
    expect(bob.page.message("Vote here")).to_have_count(1)

    with bob.page.watch.network_down():
        bob.page.page.context.set_offline(True)
        expect(bob.page.connection).to_have_text(DOWN)
        alice.page.message_action("Draft plan", "Edit")
        editor = alice.page.page.get_by_role("textbox", name="Edit message")
        editor.fill("Final plan")
        editor.press("Enter")
        expect(alice.page.message("Final plan")).to_contain_text("(edited)")
        alice.page.message_action("Wrong thread", "Delete")
        alice.page.page.get_by_role("dialog").get_by_role("button", name="Delete", exact=True).click()
        expect(alice.page.message("Message deleted")).to_have_count(1)
        alice.page.react("Vote here", "✅")
        expect(alice.page.reaction("Vote here", "✅")).to_have_accessible_name("✅ 1")
        alice.page.send("New while you were away")
        alice.page.expect_sent("New while you were away")
        expect(bob.page.message("Draft plan")).to_have_count(1)
        bob.page.page.context.set_offline(False)
        bob.page.expect_online()

    expect(bob.page.message("Final plan")).to_contain_text("(edited)")
    expect(bob.page.message("Draft plan")).to_have_count(0)
    expect(bob.page.message("Message deleted")).to_have_count(1)
    expect(bob.page.reaction("Vote here", "✅")).to_have_accessible_name("✅ 1")
    bob.page.expect_messages_once_in_order("Hello Bob", "Final plan", "Vote here", "New while you were away")
    shot(bob, "after-reconnect")


def test_an_admin_removes_a_member_whose_room_disappears(contexts: Contexts) -> None:
    alice, bob, carol = sign_in_together(contexts, "Alice", "Bob", "Carol")
    team = unique("Team")
    alice.page.create_group(team, bob.name, carol.name)
    alice.page.send("Welcome both")
    bob.page.open_room(team)
    expect(bob.page.message("Welcome both")).to_have_count(1)
    expect(carol.page.room(team)).to_be_visible()

    dialog = alice.page.open_members()
    expect(dialog.get_by_role("list", name="Members").get_by_role("listitem")).to_have_count(3)
    shot(alice, "members-admin")
    assert serious_violations(alice.page) == []
    dialog.get_by_role("button", name=f"Remove {bob.name}", exact=True).click()
    dialog.get_by_role("button", name="Yes, remove", exact=True).click()
    expect(dialog.get_by_role("list", name="Members").get_by_role("listitem")).to_have_count(2)
    dialog.get_by_role("button", name="Close", exact=True).first.click()

    expect(bob.page.room(team)).to_have_count(0)
    expect(bob.page.page.get_by_role("alert")).to_contain_text(f"You were removed from {team}")
    shot(bob, "removed")
    # Carol, a member but no admin, sees the members but cannot manage them.
    carol.page.open_room(team)
    members = carol.page.open_members()
    expect(members.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(0)
    expect(members.get_by_role("textbox", name="Room name")).to_have_count(0)


def test_a_rename_shows_for_the_other_member(contexts: Contexts) -> None:
    alice, bob = sign_in_together(contexts, "Alice", "Bob")
    team = unique("Team")
    alice.page.create_group(team, bob.name)
    alice.page.send("Hello team")
    bob.page.open_room(team)
    renamed = unique("Renamed")
    dialog = alice.page.open_members()
    dialog.get_by_role("textbox", name="Room name").fill(renamed)
    dialog.get_by_role("button", name="Rename", exact=True).click()
    expect(alice.page.page.get_by_role("heading", level=2, name=f"Members of {renamed}")).to_be_visible()
    alice.page.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    alice.page.expect_conversation(renamed)
    bob.page.expect_conversation(renamed)
    expect(bob.page.room(renamed)).to_be_visible()
    shot(bob, "renamed")
    # The admin's phone: the header keeps "Members" (adding is in its dialog).
    phone = contexts.open(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    phone.sign_in(alice.name)
    phone.open_room(renamed)
    members = phone.open_members()
    expect(members.get_by_role("button", name=f"Remove {bob.name}", exact=True)).to_be_visible()
    expect(members.get_by_role("button", name="Add members", exact=True)).to_be_visible()
    phone.page.screenshot(path=SCREENSHOTS / "v2-members-phone.png")
