"""Swedish by default; English and Finnish a choice away, for the UI and for the template's own
texts; a room created in another language speaks it until someone chooses otherwise."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE, PROJECTOR, Browse, Room, screenshot, wait_online
from tests.servers import ROOT


def first_statement(page: Page) -> Locator:
    return page.locator("li.statement").first


def wait_online_in(page: Page, connected: str) -> None:
    expect(page.locator(".room-header .status")).to_have_text(connected)


def test_participant_switches_to_english_and_finnish(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Språkrummet")
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="grade")
    page = browse.page(room.participant_path, PHONE)
    wait_online(page)
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(first_statement(page)).to_contain_text("Vi erbjuder en produkt")
    expect(page.locator(".progress")).to_have_text("Du har graderat 0 av 10")

    page.get_by_label("Språk", exact=True).select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".room-header .status")).to_have_text("Connected")
    expect(page.get_by_role("heading", name="How service-logical is our organisation?")).to_be_visible()
    expect(first_statement(page)).to_contain_text("We offer a product")
    expect(first_statement(page)).to_contain_text("We offer a service")
    expect(page.get_by_role("radiogroup").first).to_have_accessible_name(
        re.compile(r"^Statement 1: from “We offer a product”")
    )
    expect(page.locator(".progress")).to_have_text("You have graded 0 of 10")
    expect(page.get_by_text("Vi erbjuder en produkt")).to_have_count(0)

    page.get_by_label("Language", exact=True).select_option("fi")
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator(".room-header .status")).to_have_text("Yhdistetty")
    expect(first_statement(page)).to_contain_text("Tarjoamme tuotteen")
    expect(first_statement(page)).to_contain_text("Tarjoamme palvelun")
    expect(page.locator(".progress")).to_have_text("Olet arvioinut 0/10")

    # The board's areas follow too, and the choice outlives a reload.
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="document")
    expect(page.get_by_role("heading", name="Dokumentoi pohdinta")).to_be_visible()
    expect(page.get_by_role("heading", name="Oivallukset ja ideat")).to_be_visible()
    page.reload()
    wait_online_in(page, "Yhdistetty")
    expect(page.get_by_role("heading", name="Oivallukset ja ideat")).to_be_visible()
    expect(page.get_by_role("button", name="Lisää lappu").first).to_be_visible()


def test_room_language_is_the_default_and_the_start_page_has_a_switch(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    room = new_room("Kielihuone", language="fi")
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="grade")
    participant = browse.page(room.participant_path, PHONE)
    wait_online_in(participant, "Yhdistetty")
    expect(first_statement(participant)).to_contain_text("Tarjoamme tuotteen")

    start = browse.page("/", PROJECTOR)
    expect(start.get_by_role("button", name="Skapa rummet")).to_be_visible()
    start.get_by_label("Språk", exact=True).select_option("en")
    expect(start.get_by_role("heading", level=1)).to_have_text("A shared reflection on service logic")
    expect(start.get_by_role("button", name="Create the room")).to_be_visible()
    start.get_by_label("Language", exact=True).select_option("fi")
    expect(start.get_by_role("button", name="Luo huone")).to_be_visible()
    # A room created from the Finnish page opens its presenter view in Finnish.
    start.get_by_label("Huoneen nimi").fill("Pohdinta")
    start.get_by_role("button", name="Luo huone").click()
    start.wait_for_url(re.compile(r"/present$"))
    expect(start.get_by_role("button", name="Kirjo", exact=True)).to_be_visible()
    expect(start.locator(".spectrum-card").first).to_contain_text("Tarjoamme tuotteen")
    wait_online_in(start, "Yhdistetty")


def test_skip_link_and_the_template_file_button_speak_the_page_language(
    browse: Browse, tmp_path: Path, new_room: Callable[..., Room]
) -> None:
    start = browse.page("/", PROJECTOR)
    expect(start.locator(".skip-link")).to_have_text("Hoppa till innehållet")
    start.get_by_label("Språk", exact=True).select_option("en")
    expect(start.locator(".skip-link")).to_have_text("Skip to content")
    # The browser's own file input ("Choose File", "No file chosen") is not what people see.
    expect(start.locator("input[type=file]")).to_be_hidden()
    expect(start.get_by_text("No template of your own chosen: the standard template is used.")).to_be_visible()
    template = json.loads((ROOT / "app" / "templates" / "tjanstelogik.json").read_text(encoding="utf-8"))
    template["id"] = "own"
    template["statements"] = template["statements"][:3]
    path = tmp_path / "our-template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    with start.expect_file_chooser() as chooser:
        start.get_by_role("button", name="Choose a template of your own (JSON file)…").click()
    chooser.value.set_files(path)
    expect(start.get_by_text("Chosen template: our-template.json")).to_be_visible()
    start.get_by_label("Name of the room").fill("Our own template")
    start.get_by_role("button", name="Create the room").click()
    start.wait_for_url(re.compile(r"/present$"))
    expect(start.locator(".spectrum-card")).to_have_count(3)

    room = new_room("Ohituslinkki", language="fi")
    participant = browse.page(room.participant_path, PHONE)
    wait_online_in(participant, "Yhdistetty")
    expect(participant.locator(".skip-link")).to_have_text("Siirry sisältöön")
    participant.keyboard.press("Tab")
    expect(participant.locator(".skip-link")).to_be_focused()
    participant.keyboard.press("Enter")
    expect(participant.locator("main")).to_be_focused()


CONSOLE_BEFORE_REVEAL = {  # language: (connected, the panel's placeholder, the note beside the button, reveal)
    "en": (
        "Connected",
        "The results appear here when you show them to everyone. 2 of 3 have answered.",
        "Results are hidden, here too, until you show them",
        "Show results to everyone",
    ),
    "fi": (
        "Yhdistetty",
        "Tulokset näkyvät täällä, kun näytät ne kaikille. 2/3 on vastannut.",
        "Tulokset ovat piilossa, myös täällä, kunnes näytät ne",
        "Näytä tulokset kaikille",
    ),
}


def test_the_console_before_the_reveal_says_why_in_the_rooms_language(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    """Until the reveal the console has no figures either (docs/insight.md): where they will
    be, each panel says so calmly and how many have answered, in the room's language."""
    for language, (connected, placeholder, note, reveal) in CONSOLE_BEFORE_REVEAL.items():
        room = new_room(f"Console {language}", language=language)
        with room.facilitator() as facilitator:
            facilitator.send("set_phase", phase="grade")
            people = [room.bot() for _ in range(3)]
            for person, value in zip(people[:2], (4, 8), strict=True):
                person.send("set_score", statement_id="s1", value=value)
            console = browse.page(room.facilitator_url, PROJECTOR, name=f"console-{language}")
            wait_online_in(console, connected)
            for panel in range(3):  # the spectrum, by group, the profile
                console.locator(".view-switch button").nth(panel).click()
                expect(console.locator(".stage .results-placeholder:visible")).to_have_text(placeholder)
            console.locator(".view-switch button").first.click()
            expect(console.get_by_text(note)).to_be_visible()
            expect(console.get_by_role("button", name=reveal)).to_be_visible()
            expect(console.locator(".spectrum-card svg.distribution")).to_have_count(0)
            screenshot(console, f"console-before-reveal-{language}-1920x1080")
            for person in people:
                person.close()
