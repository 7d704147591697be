"""Dot-voting with a budget, on a phone: the votes left are said above the notes, the vote
beyond the budget is refused in the person's language, and taking one back frees it. The
facilitator lists the notes most votes first, and the phone and the board follow."""

from __future__ import annotations

import re
from collections.abc import Callable

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE, Browse, Room, screenshot, wait_online


def assert_accessible(page: Page) -> None:
    violations = Axe().run(page).response["violations"]
    blocking = [f"{v['impact']}: {v['id']} {v['help']}" for v in violations if v["impact"] in {"serious", "critical"}]
    assert not blocking, blocking


def vote_button(page: Page, text: str) -> Locator:
    return page.get_by_role("button", name=re.compile(f"^Rösta på ”{text}”"))


def test_a_phone_spends_its_votes_and_sees_the_notes_most_votes_first(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    room = new_room("Röstrummet")
    texts = ["Tid att reflektera", "Färre möten", "Fråga brukarna"]
    with room.facilitator() as facilitator, room.bot("Bo") as bo:
        facilitator.send("set_phase", phase="document")
        facilitator.send("update_room", votes_per_person=2)
        for text in texts:
            bo.add_note("thoughts", text)
        page = browse.page(room.participant_path, context=browse.context(PHONE, touch=True))
        wait_online(page)
        left = page.locator(".votes-left")
        expect(left).to_have_text("Du har 2 röster kvar")

        vote_button(page, texts[0]).tap()
        expect(left).to_have_text("Du har 1 röst kvar")
        vote_button(page, texts[2]).tap()
        expect(left).to_have_text("Du har använt alla dina röster. Ta tillbaka en för att rösta på en annan lapp.")
        vote_button(page, texts[1]).tap()
        expect(page.get_by_text("Du har använt alla dina röster. Ta tillbaka en röst först.")).to_be_visible()
        expect(vote_button(page, texts[1])).to_have_attribute("aria-pressed", "false")

        # Another participant votes too; the facilitator lists the notes most votes first.
        bo.send("vote_note", note_id=next(n for n in bo.notes.values() if n["text"] == texts[2])["id"], voted=True)
        facilitator.send("update_room", note_order="votes")
        listed = page.locator('section.area[data-area="thoughts"] li.note .note-text')
        expect(listed).to_have_text([texts[2], texts[0], texts[1]])
        # Sorted by votes, a place is a rank: nothing offers to move a note.
        expect(page.get_by_role("button", name=re.compile("^Flytta"))).to_have_count(0)
        assert_accessible(page)
        screenshot(page, "participant-vote-budget-sv-390x844")

        vote_button(page, texts[0]).tap()  # taken back
        expect(left).to_have_text("Du har 1 röst kvar")
        vote_button(page, texts[1]).tap()
        expect(vote_button(page, texts[1])).to_have_attribute("aria-pressed", "true")

        page.get_by_label("Språk", exact=True).select_option("fi")
        expect(page.locator(".votes-left")).to_have_text(
            "Olet käyttänyt kaikki äänesi. Peru yksi äänestääksesi toista lappua."
        )
        screenshot(page, "participant-vote-budget-fi-390x844")


def test_the_console_orders_the_notes_by_votes_and_the_screen_follows(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    room = new_room("Röstrummet")
    texts = ["Tid att reflektera", "Färre möten", "Fråga brukarna"]
    with room.facilitator() as facilitator, room.bot("Bo") as bo, room.bot("Cecilia") as cecilia:
        facilitator.send("set_phase", phase="document")
        facilitator.send("set_screen", view="board")
        notes = [bo.add_note("thoughts", text) for text in texts]
        for voter in (bo, cecilia):
            voter.send("vote_note", note_id=notes[1]["id"], voted=True)
        cecilia.send("vote_note", note_id=notes[2]["id"], voted=True)

        console = browse.page(room.facilitator_url, {"width": 1920, "height": 1080})
        wait_online(console)
        console.get_by_role("button", name="Tavlan", exact=True).click()
        screen = browse.page(f"/r/{room.room_id}/screen", {"width": 1920, "height": 1080})
        order = console.get_by_role("group", name="Ordning på lapparna")
        placed = order.get_by_role("button", name="Som de sitter")
        by_votes = order.get_by_role("button", name="Flest röster först")
        expect(placed).to_have_attribute("aria-pressed", "true")
        on_screen = screen.locator('section.area[data-area="thoughts"] li.note .note-text')
        expect(on_screen).to_have_text(texts)

        by_votes.click()
        expect(by_votes).to_have_attribute("aria-pressed", "true")
        expect(on_screen).to_have_text([texts[1], texts[2], texts[0]])
        # The console's own board (its preview of the screen shows the same notes in the same order).
        in_console = console.get_by_role("region", name="Tavlan", exact=True).locator(
            'section.area[data-area="thoughts"] li.note .note-text'
        )
        expect(in_console).to_have_text([texts[1], texts[2], texts[0]])
        by_votes.scroll_into_view_if_needed()
        screenshot(console, "console-board-by-votes-sv-1920x1080")
        # The budget is set where the room's other settings are.
        console.get_by_text("Rummets inställningar").click()
        console.get_by_label("Röster per deltagare").fill("3")
        console.get_by_role("button", name="Spara inställningarna").click()
        facilitator.receive_until(lambda m: m["type"] == "room_updated" and m["votes_per_person"] == 3)
        assert_accessible(console)
        screenshot(console, "console-vote-order-sv-1920x1080")
        screenshot(screen, "screen-board-by-votes-sv-1920x1080")

        console.get_by_label("Språk", exact=True).select_option("en")
        in_english = console.get_by_role("group", name="Order of the notes")
        expect(in_english.get_by_role("button", name="Most votes first")).to_have_attribute("aria-pressed", "true")
        in_english.scroll_into_view_if_needed()
        screenshot(console, "console-board-by-votes-en-1920x1080")
