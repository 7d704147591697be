"""A whole workshop in real browsers: a facilitator on a projector and three participants on
phones, from creating the room on the start page to a note written offline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE, PROJECTOR, Browse, choose, notes_in, radio, scale, screenshot, wait_online

AREAS = {
    "thoughts": "Tankar och resonemang som lyfts",
    "insights": "Insikter och idéer",
    "who": "Vi kan påverka detta hos oss (roller/personer)",
    "now": "Aktiviteter vi vill få igång",
    "needed": "Det som behöver finnas på plats hos oss",
}


def spectrum_figures(presenter: Page, number: int) -> Locator:
    return presenter.locator(".spectrum-card").nth(number - 1).locator(".figures")


def participant_figures(page: Page, number: int) -> Locator:
    return page.locator("li.statement").nth(number - 1).locator(".figures")


def add_note(page: Page, area_id: str, text: str) -> None:
    page.get_by_label(f"Ny lapp i ”{AREAS[area_id]}”").fill(text)
    page.locator(f'section.area[data-area="{area_id}"]').get_by_role("button", name="Lägg till lapp").click()


def card(page: Page, note_id: str) -> Locator:
    return page.locator(f'li.note[data-note="{note_id}"]')


def drag(page: Page, source: Locator, target: Locator) -> None:
    """Press on `source`, move in steps (as a hand would) to the middle of `target`, release."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    assert start and end
    assert page.viewport_size is not None
    assert end["y"] + end["height"] / 2 < page.viewport_size["height"], "the drop target must be on screen"
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


@pytest.mark.timeout(240)
def test_a_workshop_from_start_page_to_offline_note(browse: Browse) -> None:
    # ------------------------------------------------ the facilitator opens a room
    presenter = browse.page("/", PROJECTOR, name="presenter")
    presenter.get_by_label("Rummets namn").fill("Vårdenheten Solsidan, workshop i mars")
    presenter.get_by_role("button", name="Skapa rummet").click()
    presenter.wait_for_url(re.compile(r"/r/[^/]+/present$"))
    wait_online(presenter)
    expect(presenter.locator(".room-title")).to_have_text("Vårdenheten Solsidan, workshop i mars")
    expect(presenter.locator(".join-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    join_code = presenter.locator(".join-code").inner_text().replace(" ", "")
    participant_link = presenter.locator(".join-panel .link a").get_attribute("href")
    assert participant_link
    room_path = presenter.url.removeprefix(browse.base_url).removesuffix("/present")
    assert participant_link == browse.base_url + room_path
    assert "token" not in presenter.url, "the facilitator's secret must leave the address bar"

    # ------------------------------------------------ three participants join: two by link, one by code
    anna = browse.page(participant_link, PHONE, name="anna")
    bo = browse.page(participant_link, PHONE, name="bo")
    cecilia = browse.page("/", PHONE, name="cecilia")
    cecilia.get_by_label("Rummets kod, sex siffror").fill(join_code)
    cecilia.get_by_role("button", name="Gå med").click()
    cecilia.wait_for_url(f"**{room_path}")
    participants = [anna, bo, cecilia]
    for page in participants:
        wait_online(page)
        expect(page.locator(".room-title")).to_have_text("Vårdenheten Solsidan, workshop i mars")
        expect(page.get_by_text("Välkommen! Processledaren startar snart.")).to_be_visible()
    expect(presenter.locator(".stats")).to_contain_text("3 deltagare anslutna")

    anna.get_by_label("Ditt namn (frivilligt)").fill("Anna")
    anna.get_by_role("button", name="Spara").click()
    expect(anna.locator("details.profile summary")).to_have_text("Du: Anna")

    # ------------------------------------------------ grading, results hidden
    presenter.get_by_role("button", name="Gradera", exact=True).click()
    expect(presenter.get_by_role("button", name="Gradera", exact=True)).to_have_attribute("aria-pressed", "true")
    for page in participants:
        expect(page.locator("fieldset.scale")).to_have_count(10)
        expect(scale(page, 1).locator(".scale-status")).to_have_text("Inte graderat än")
        expect(scale(page, 1).locator("input:checked")).to_have_count(0)

    # Anna with the keyboard, the others by tapping.
    scale(anna, 1).get_by_role("radio", name="1", exact=True).focus()
    anna.keyboard.press("2")
    expect(scale(anna, 1).locator(".scale-status")).to_have_text("Ditt svar: 2")
    choose(bo, 1, 6)
    choose(cecilia, 1, 7)
    choose(anna, 2, 8)
    choose(bo, 2, 9)
    expect(anna.locator(".progress")).to_have_text("Du har graderat 2 av 10")
    expect(cecilia.locator(".progress")).to_have_text("Du har graderat 1 av 10")

    # "Vet ej" is an answer of its own, never a grade.
    choose(cecilia, 2, "Vet ej")
    expect(scale(cecilia, 2).locator(".scale-status")).to_have_text("Ditt svar: Vet ej")
    expect(presenter.locator(".stats")).to_contain_text("3 har graderat")
    # Hidden from everyone until the reveal, the console included: it says how many have
    # answered, and shows no figure that could change with one person's answer.
    expect(presenter.locator(".results-placeholder")).to_have_text(
        "Resultaten visas här när du visar dem för alla. 3 av 3 har svarat."
    )
    expect(presenter.get_by_text("Resultaten är dolda, även här, tills du visar dem", exact=False)).to_be_visible()
    expect(presenter.locator(".spectrum-card svg.distribution, .spectrum-card .figures")).to_have_count(0)
    screenshot(presenter, "workshop-presenter-hidden-1920x1080")
    for page in participants:
        expect(page.locator(".results-hidden")).to_have_text(
            "Resultaten visas när processledaren väljer det. 3 har graderat hittills."
        )
        expect(page.locator("svg.distribution")).to_have_count(0)
        expect(page.locator(".figures")).to_have_count(0)

    # ------------------------------------------------ the facilitator reveals the results
    presenter.get_by_role("button", name="Visa resultaten för alla").click()
    expect(presenter.get_by_role("button", name="Dölj resultaten")).to_be_visible()
    expect(presenter.locator(".results-placeholder")).to_be_hidden()
    expect(spectrum_figures(presenter, 1)).to_contain_text("3 svar")
    expect(spectrum_figures(presenter, 1)).to_contain_text("Medel 5,0")
    expect(spectrum_figures(presenter, 1)).to_contain_text("Median 6,0")
    expect(spectrum_figures(presenter, 1)).to_contain_text("Spridda åsikter")
    # Two grades and a "Vet ej": k = 3 counts grades, so statement 2's figures are held back,
    # and say how many answers they hold rather than "no answers".
    expect(spectrum_figures(presenter, 2)).to_have_text("3 svar – för få för att visas")
    expect(spectrum_figures(presenter, 3)).to_have_text("Inga svar än")
    for page in participants:
        expect(page.locator("svg.distribution")).to_have_count(10)
        expect(participant_figures(page, 1)).to_contain_text("3 svar")
        expect(participant_figures(page, 1)).to_contain_text("Medel 5,0")
        expect(participant_figures(page, 2)).to_have_text("3 svar – för få för att visas")
        expect(page.get_by_role("heading", name="Polaritetsprofil")).to_be_visible()
        expect(page.locator(".results-hidden")).to_be_hidden()
    screenshot(presenter, "workshop-presenter-revealed-1920x1080")

    # ------------------------------------------------ locking and unlocking the grading
    presenter.get_by_role("button", name="Lås graderingen").click()
    for page in participants:
        expect(page.get_by_text("Graderingen är låst.", exact=True).first).to_be_visible()
        for number in (1, 5, 10):
            expect(radio(page, number, 5)).to_be_disabled()
    presenter.get_by_role("button", name="Lås upp graderingen").click()
    for page in participants:
        for number in (1, 5, 10):
            expect(radio(page, number, 5)).to_be_enabled()
    # After the reveal the figures change only once k = 3 people have answered anew: one
    # answer alone would be a difference of one person's answer.
    choose(cecilia, 3, 4)
    expect(scale(cecilia, 3).locator(".scale-status")).to_have_text("Ditt svar: 4")
    choose(anna, 3, 5)
    expect(scale(anna, 3).locator(".scale-status")).to_have_text("Ditt svar: 5")
    expect(spectrum_figures(presenter, 3)).to_have_text("Inga svar än")
    choose(bo, 3, 9)
    expect(spectrum_figures(presenter, 3)).to_contain_text("3 svar")
    expect(spectrum_figures(presenter, 3)).to_contain_text("Medel 6,0")

    # ------------------------------------------------ documenting on the board
    presenter.get_by_role("button", name="Dokumentera", exact=True).click()
    presenter.get_by_role("button", name="Tavlan", exact=True).click()
    board = browse.page(room_path + "/board", context=presenter.context, name="board")
    wait_online(board)
    everyone = [presenter, board, *participants]
    for page in participants:
        expect(page.get_by_role("heading", name="Dokumentera reflektionen")).to_be_visible()

    add_note(anna, "thoughts", "Vi pratar om brukarna, inte med dem")
    add_note(bo, "now", "Starta ett brukarråd")
    for page in everyone:
        expect(notes_in(page, "thoughts", "Vi pratar om brukarna")).to_have_count(1)
        expect(notes_in(page, "thoughts", "Vi pratar om brukarna").locator(".note-meta")).to_have_text("av Anna")
        expect(notes_in(page, "now", "Starta ett brukarråd")).to_have_count(1)
    annas_note = notes_in(anna, "thoughts").first.get_attribute("data-note")
    bos_note = notes_in(bo, "now").first.get_attribute("data-note")
    assert annas_note and bos_note
    # A participant may change only their own notes.
    expect(card(bo, annas_note).get_by_role("button", name="Ändra")).to_have_count(0)

    # Edit.
    card(anna, annas_note).get_by_role("button", name="Ändra").click()
    card(anna, annas_note).get_by_label("Text").fill("Vi pratar med brukarna, inte om dem")
    card(anna, annas_note).get_by_role("button", name="Spara").click()
    for page in everyone:
        expect(card(page, annas_note).locator(".note-text")).to_have_text("Vi pratar med brukarna, inte om dem")
        expect(page.get_by_text("Vi pratar om brukarna")).to_have_count(0)

    # Move with the "Flytta…" dialog.
    card(anna, annas_note).get_by_role("button", name="Flytta…").click()
    dialog = anna.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=f"Flytta till ”{AREAS['insights']}”").click()
    expect(dialog).to_be_hidden()
    for page in everyone:
        expect(notes_in(page, "insights", "Vi pratar med brukarna")).to_have_count(1)
        expect(notes_in(page, "thoughts")).to_have_count(0)

    # Move by drag and drop: the facilitator drags Bo's note to the next column on the projector.
    drag(
        presenter,
        card(presenter, bos_note).locator(".note-text"),
        presenter.locator('section.area[data-area="needed"] ol.notes'),
    )
    for page in everyone:
        expect(notes_in(page, "needed", "Starta ett brukarråd")).to_have_count(1)
        expect(notes_in(page, "now")).to_have_count(0)

    # Delete: it can be undone for a few seconds, and only then do the others see it go.
    card(bo, bos_note).get_by_role("button", name="Ta bort").click()
    expect(bo.get_by_role("button", name="Ångra: ta inte bort ”Starta ett brukarråd”")).to_be_visible()
    for page in everyone:
        expect(page.get_by_text("Starta ett brukarråd")).to_have_count(0, timeout=15_000)
        expect(page.locator('ol.notes[data-area="needed"] li.empty')).to_have_text("Inga lappar än.")

    # ------------------------------------------------ a note written offline arrives once
    offline_text = "Skriven utan nät i källaren"
    cecilia.context.set_offline(True)
    expect(cecilia.locator(".room-header .status")).to_contain_text("Offline")
    add_note(cecilia, "who", offline_text)
    pending = cecilia.locator("li.note.pending")
    expect(pending).to_have_count(1)
    expect(pending.locator(".note-text")).to_have_text(offline_text)
    expect(pending.locator(".note-meta")).to_have_text("Skickas när du är online")
    expect(cecilia.locator(".room-header .status")).to_contain_text("1 ändring väntar på att skickas")
    for page in (presenter, board, anna, bo):
        expect(page.get_by_text(offline_text)).to_have_count(0)

    cecilia.context.set_offline(False)
    wait_online(cecilia)
    for page in everyone:
        expect(notes_in(page, "who", offline_text)).to_have_count(1)
    expect(cecilia.locator("li.note.pending")).to_have_count(0)
    # One more note after it: once that has arrived everywhere, a duplicate would have too.
    add_note(bo, "now", "Bjud in brukare till nästa möte")
    for page in everyone:
        expect(notes_in(page, "now", "Bjud in brukare till nästa möte")).to_have_count(1)
        expect(page.locator("li.note .note-text", has_text=offline_text)).to_have_count(1)
    # And it survives a reload (it is stored, not only shown).
    cecilia.reload()
    wait_online(cecilia)
    expect(notes_in(cecilia, "who", offline_text)).to_have_count(1)
