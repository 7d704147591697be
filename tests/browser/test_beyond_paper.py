"""What the paper workshop cannot do, in the browser: "Vet ej", the disagreement label, a
second round with its shift, today and desired with the gap, groups with a small group
hidden, and a note linked to a statement. Scripted participants (Bot) set the scene fast;
what is asserted is what the presenter and a participant see.

As a facilitator runs it: people answer while the results are hidden (from the console too),
then the facilitator reveals them with the console's button, and every answer counts at once
(docs/insight.md)."""

from __future__ import annotations

from collections.abc import Callable

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    PHONE,
    PROJECTOR,
    Bot,
    Browse,
    Room,
    choose,
    notes_in,
    scale,
    screenshot,
    show_statement,
    wait_online,
)

BLOCKING = {"serious", "critical"}


def assert_accessible(page: Page) -> None:
    """axe on the view as it is now: nothing serious or critical."""
    violations = Axe().run(page).response["violations"]
    blocking = [f"{v['impact']}: {v['id']} {v['help']}" for v in violations if v["impact"] in BLOCKING]
    assert not blocking, blocking


def presenter(browse: Browse, room: Room) -> Page:
    page = browse.page(room.facilitator_url, PROJECTOR, name="presenter")
    wait_online(page)
    return page


def card(page: Page, number: int) -> Locator:
    return page.locator(".spectrum-card").filter(has_text=f"{number}. ").first


def grade(bots: list[Bot], statement: str, values: list[int], kind: str = "today") -> None:
    for bot, value in zip(bots, values, strict=True):
        bot.send("set_score", statement_id=statement, value=value, kind=kind)


def reveal(page: Page, answered: str) -> None:
    """The console before the reveal: no figures, the panel says why and how many have
    answered (`answered`, e.g. "4 av 4 har svarat"); then its button reveals them."""
    placeholder = page.locator(".results-placeholder")
    expect(placeholder).to_have_text(f"Resultaten visas här när du visar dem för alla. {answered}.")
    expect(page.locator(".spectrum-card svg.distribution, .spectrum-card .figures")).to_have_count(0)
    expect(page.get_by_text("Resultaten är dolda, även här, tills du visar dem", exact=False)).to_be_visible()
    page.get_by_role("button", name="Visa resultaten för alla").click()
    expect(page.get_by_role("button", name="Dölj resultaten")).to_be_visible()
    expect(placeholder).to_be_hidden()


def set_k(page: Page, k: int) -> None:
    """Set the room's k (group_min_size) in the console's room settings, as a facilitator does."""
    settings = page.locator("details.room-settings")
    settings.locator("summary").click()
    field = settings.get_by_label("Minsta antal graderingar bakom en siffra (k)")
    field.fill(str(k))
    settings.get_by_role("button", name="Spara inställningarna").click()
    expect(settings.get_by_role("status")).to_have_text("Sparat")
    settings.locator("summary").click()


def test_dont_know_and_two_camps_are_shown_and_ordered(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Två läger")
    page = presenter(browse, room)
    phone = browse.page(room.participant_path, PHONE, name="participant")
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="grade")
        bots = [room.bot() for _ in range(8)]
        grade(bots, "s1", [2, 2, 3, 3, 8, 8, 9, 9])
        grade(bots[:4], "s2", [5, 5, 6, 6])
        wait_online(phone)
        choose(phone, 1, "Vet ej")
        expect(scale(phone, 1).locator(".scale-status")).to_have_text("Ditt svar: Vet ej")
        facilitator.send("set_results_visible", visible=True)
        expect(card(page, 1)).to_contain_text("Två läger")
        expect(card(page, 1)).to_contain_text("1 vet ej")
        expect(card(page, 1)).to_contain_text("8 svar")
        expect(card(page, 2)).to_contain_text("Samstämmiga")
        page.get_by_role("button", name="Mest oenighet först").click()
        expect(page.locator(".spectrum-card").first).to_contain_text("1. Vi erbjuder en produkt")
        expect(page.locator(".spectrum-card").nth(1)).to_contain_text("2. Vi ser användaren som objekt")
        assert_accessible(page)
        assert_accessible(phone)
        for bot in bots:
            bot.close()


def test_a_second_round_shows_the_shift_and_your_previous_answer(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Två omgångar")
    page = presenter(browse, room)
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="grade")
        bots = [room.bot() for _ in range(5)]
        grade(bots[:3], "s1", [2, 5, 8])
        grade(bots, "s2", [3, 4, 5, 6, 7])
        phone = browse.page(room.participant_path, PHONE, name="participant")
        wait_online(phone)
        choose(phone, 1, 4)
        expect(scale(phone, 1).locator(".scale-status")).to_have_text("Ditt svar: 4")
        reveal(page, "6 av 6 har svarat")
        expect(card(page, 1)).to_contain_text("4 svar")
        expect(card(page, 2)).to_contain_text("5 svar")
        page.get_by_role("button", name="Ny omgång").click()
        page.locator("dialog[open]").get_by_role("button", name="Ja, ny omgång").click()
        expect(page.locator(".stats")).to_contain_text("Omgång 2")
        expect(scale(phone, 1).locator(".scale-status")).to_have_text("Inte graderat än")
        # Last round's answer only once this round's is given, so that it cannot anchor it.
        expect(scale(phone, 1).locator(".previous-answer")).to_be_hidden()
        grade(bots[:3], "s1", [6, 5, 3])  # right, stayed, left
        choose(phone, 1, 7)  # right
        expect(scale(phone, 1).locator(".previous-answer")).to_have_text("Förra omgången: 4")
        # Two of statement 2's five do not answer it again: the shift is over the three who did.
        grade(bots[:3], "s2", [4, 4, 8])  # right, stayed, right
        reveal(page, "4 av 6 har svarat")
        expect(card(page, 1)).to_contain_text("Omgång 1 → 2: medel 4,8 → 5,3")
        expect(card(page, 1)).to_contain_text("1 åt vänster · 2 åt höger · 1 oförändrad")
        expect(card(page, 1)).not_to_contain_text("svarade inte igen")
        expect(card(page, 2)).to_contain_text("3 svar")
        expect(card(page, 2)).to_contain_text("0 åt vänster · 2 åt höger · 1 oförändrad · 2 svarade inte igen")
        card(page, 2).scroll_into_view_if_needed()
        screenshot(page, "console-round-2-not-again-1920x1080")
        show_statement(phone, 2)
        expect(phone.locator("li.statement").nth(1).locator(".figures")).to_contain_text("3 svar")
        expect(phone.locator("li.statement").nth(1).locator(".shift")).to_contain_text(
            "0 åt vänster · 2 åt höger · 1 oförändrad · 2 svarade inte igen"
        )
        screenshot(phone, "participant-round-2-not-again-390x844")
        assert_accessible(page)
        assert_accessible(phone)
        for bot in bots:
            bot.close()


def test_today_and_desired_show_the_gap(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Önskat läge")
    page = presenter(browse, room)
    phone = browse.page(room.participant_path, PHONE, name="participant")
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="grade")
    # Two people: the facilitator lets figures about two grades be shown.
    set_k(page, 2)
    page.get_by_role("button", name="Fråga även om önskat läge").click()
    show_statement(phone, 3)
    expect(scale(phone, 3, "desired")).to_be_visible()
    choose(phone, 3, 2)
    choose(phone, 3, 9, kind="desired")
    with room.bot() as other:
        other.send("set_score", statement_id="s3", value=4)
        other.send("set_score", statement_id="s3", value=8, kind="desired")
        reveal(page, "2 av 2 har svarat")
        expect(card(page, 3)).to_contain_text("2 svar")
        expect(card(page, 3)).to_contain_text("Önskat 8,5")
        expect(card(page, 3)).to_contain_text("Gap +5,5")
        page.get_by_role("button", name="Störst gap först").click()
        expect(page.locator(".spectrum-card").first).to_contain_text("3. Vi har fokus på produktion")
        assert_accessible(page)
        assert_accessible(phone)


def test_groups_side_by_side_with_a_small_group_hidden(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Grupper")
    page = presenter(browse, room)
    groups = [
        {"id": "chefer", "name": "Chefer"},
        {"id": "staff", "name": "Medarbetare"},
        {"id": "brukare", "name": "Brukare"},
    ]
    with room.facilitator() as facilitator:
        facilitator.send("set_groups", groups=groups)
        facilitator.send("set_phase", phase="grade")
        bots = [room.bot() for _ in range(8)]
        for bot, group in zip(bots, ["chefer"] * 3 + ["staff"] * 4 + ["brukare"], strict=True):
            bot.send("set_profile", group=group)
        grade(bots, "s1", [1, 2, 3, 7, 8, 9, 10, 5])
        page.get_by_role("button", name="Per grupp").click()
        view = page.locator(".group-view")
        # Nothing per group before the reveal, in the console either.
        expect(view).to_have_text("Resultaten visas här när du visar dem för alla. 8 av 8 har svarat.")
        page.get_by_role("button", name="Visa resultaten för alla").click()
        expect(view).to_contain_text("Medarbetare: 4 svarande")
        # Chefer has 3 but is held back too: beside Medarbetare, it would give away Brukare's one.
        expect(view).to_contain_text(
            "2 grupper visas inte för sig: då skulle någon kunna räkna fram svar från färre än 3 personer."
        )
        expect(view).not_to_contain_text("Brukare")
        expect(view).not_to_contain_text("Chefer")
        assert_accessible(page)
        for bot in bots:
            bot.close()


def test_a_note_linked_to_a_statement_shows_beside_its_distribution(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    room = new_room("Länkade lappar")
    page = presenter(browse, room)
    phone = browse.page(room.participant_path, PHONE, name="participant")
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="document")
    wait_online(phone)
    form = phone.locator("form.add-note").filter(has=phone.locator("#new-note-now"))
    form.locator("#new-note-now").fill("Fråga brukarna innan vi bestämmer")
    form.get_by_label("Gäller påstående (frivilligt)").select_option(label="2. Vi ser användaren som objekt")
    form.get_by_role("button", name="Lägg till lapp").click()
    # Stored cards only: until its ack arrives, the note's "sending" card is there as well.
    expect(notes_in(phone, "now", "Fråga brukarna")).to_contain_text("↔ Om påstående 2")
    expect(phone.locator(".note.pending")).to_have_count(0)
    linked = card(page, 2).locator(".linked-notes")
    expect(linked).to_contain_text("Lappar om påståendet (1)")
    linked.locator("summary").click()
    expect(linked).to_contain_text("Fråga brukarna innan vi bestämmer")
    expect(card(page, 1).locator(".linked-notes")).to_be_empty()
    assert_accessible(page)
    assert_accessible(phone)
