"""The board keeps your place: after your own action the focus is where you look next; what
others do (votes, moves, new and deleted notes) never moves it. Buttons name their note, a
delete can be undone (and an undone delete never reaches anyone else), the form starts
afresh after each note, and a finger drags a note by its handle."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser.conftest import PHONE, Bot, Browse, Room, notes_in, wait_online

LAPTOP: ViewportSize = {"width": 1280, "height": 900}


def assert_accessible(page: Page) -> None:
    violations = Axe().run(page).response["violations"]
    blocking = [f"{v['impact']}: {v['id']} {v['help']}" for v in violations if v["impact"] in {"serious", "critical"}]
    assert not blocking, blocking


def focus_on(page: Page) -> tuple[str | None, str]:
    """Which note the focus is on (its id, or None) and on what there (a button's class, a tag)."""
    where: list[Any] = page.evaluate(
        """() => { const element = document.activeElement;
                   return [element.closest("li[data-note]")?.dataset.note ?? null,
                           element.className || element.tagName.toLowerCase()]; }"""
    )
    return where[0], where[1]


def card(page: Page, note_id: str) -> Locator:
    return page.locator(f'li.note[data-note="{note_id}"]')


@pytest.fixture
def board_room(new_room: Callable[..., Room]) -> Iterator[tuple[Room, Bot]]:
    room = new_room("Tavelrummet")
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="document")
        yield room, facilitator


def add_own_note(page: Page, area_id: str, area_title: str, text: str) -> str:
    page.get_by_label(f"Ny lapp i ”{area_title}”").fill(text)
    page.locator(f'section.area[data-area="{area_id}"]').get_by_role("button", name="Lägg till lapp").click()
    expect(notes_in(page, area_id, text)).to_have_count(1)
    note_id = notes_in(page, area_id, text).get_attribute("data-note")
    assert note_id
    return note_id


def test_what_others_do_never_moves_the_focus(browse: Browse, board_room: tuple[Room, Bot]) -> None:
    room, facilitator = board_room
    with room.bot("Bo") as bo, room.bot("Cecilia") as cecilia:
        first = bo.add_note("thoughts", "Vi mäter det som är lätt att räkna")
        target = bo.add_note("thoughts", "En brukare möter fem enheter")
        page = browse.page(room.participant_path, LAPTOP)
        wait_online(page)
        vote = card(page, target["id"]).get_by_role(
            "button", name=re.compile("^Rösta på ”En brukare möter fem enheter”")
        )
        vote.focus()
        assert focus_on(page) == (target["id"], "vote")

        cecilia.send("vote_note", note_id=target["id"], voted=True)
        expect(vote).to_have_text("○ 1")
        expect(vote).to_have_accessible_name("Rösta på ”En brukare möter fem enheter” (1 röst)")
        assert focus_on(page) == (target["id"], "vote")

        bo.send("edit_note", note_id=target["id"], text="En brukare möter fem enheter för ett ärende")
        expect(card(page, target["id"]).locator(".note-text")).to_have_text(
            "En brukare möter fem enheter för ett ärende"
        )
        assert focus_on(page) == (target["id"], "vote")

        cecilia.add_note("thoughts", "Ny lapp från någon annan")
        expect(notes_in(page, "thoughts")).to_have_count(3)
        bo.send("delete_note", note_id=first["id"])
        expect(notes_in(page, "thoughts")).to_have_count(2)
        assert focus_on(page) == (target["id"], "vote")

        # Moved by the facilitator to another column: the focus goes along, unasked.
        facilitator.send("move_note", note_id=target["id"], area_id="insights", index=0)
        expect(notes_in(page, "insights", "En brukare möter")).to_have_count(1)
        assert focus_on(page) == (target["id"], "vote")
        # Deleted by the facilitator: the focus stays in its place, on what is there now.
        facilitator.send("delete_note", note_id=target["id"])
        expect(card(page, target["id"])).to_have_count(0)
        assert focus_on(page) == (None, "textarea")
        expect(page.locator("#new-note-insights")).to_be_focused()


def test_after_your_own_action_the_focus_is_on_that_note(browse: Browse, board_room: tuple[Room, Bot]) -> None:
    room, facilitator = board_room
    page = browse.page(room.participant_path, LAPTOP)
    wait_online(page)
    a = add_own_note(page, "thoughts", "Tankar och resonemang som lyfts", "Första tanken")
    b = add_own_note(page, "thoughts", "Tankar och resonemang som lyfts", "Andra tanken")
    c = add_own_note(page, "thoughts", "Tankar och resonemang som lyfts", "Tredje tanken")
    # Every button names its note.
    for name in (
        "Rösta på ”Andra tanken” (0 röster)",
        "Ändra ”Andra tanken”",
        "Flytta… ”Andra tanken”",
        "Ta bort ”Andra tanken”",
    ):
        expect(card(page, b).get_by_role("button", name=name, exact=True)).to_be_visible()

    # Vote: the focus stays on the vote.
    card(page, b).get_by_role("button", name=re.compile("^Rösta")).click()
    expect(card(page, b).get_by_role("button", name=re.compile("^Rösta"))).to_have_attribute("aria-pressed", "true")
    assert focus_on(page) == (b, "vote")

    # Edit and save: back on the note just saved.
    card(page, b).get_by_role("button", name="Ändra ”Andra tanken”").click()
    card(page, b).get_by_label("Text").fill("Andra tanken, omskriven")
    card(page, b).get_by_role("button", name="Spara").click()
    expect(card(page, b).locator(".note-text")).to_have_text("Andra tanken, omskriven")
    assert focus_on(page) == (b, "edit")
    expect(page.locator(":focus")).to_have_accessible_name("Ändra ”Andra tanken, omskriven”")

    # "Flytta upp" in the dialog: the note moves up, the focus with it.
    card(page, b).get_by_role("button", name=re.compile("^Flytta…")).click()
    page.get_by_role("dialog").get_by_role("button", name="Flytta upp").click()
    expect(notes_in(page, "thoughts").first).to_have_attribute("data-note", b)
    assert focus_on(page) == (b, "move")

    # Moved to another column: the focus is on the moved note there.
    card(page, b).get_by_role("button", name=re.compile("^Flytta…")).click()
    page.get_by_role("dialog").get_by_role("button", name="Flytta till ”Insikter och idéer”").click()
    expect(notes_in(page, "insights", "Andra tanken")).to_have_count(1)
    assert focus_on(page) == (b, "move")

    # Delete: the focus goes to the note after it; undo brings it back, and the focus to it.
    card(page, a).get_by_role("button", name="Ta bort ”Första tanken”").click()
    assert focus_on(page) == (c, "vote")
    undo = page.get_by_role("button", name="Ångra: ta inte bort ”Första tanken”")
    expect(undo).to_be_visible()
    assert_accessible(page)
    undo.click()
    expect(card(page, a)).to_be_visible()
    assert focus_on(page) == (a, "danger remove")

    # The last note of a column deleted: the focus goes to the one before it.
    card(page, c).get_by_role("button", name="Ta bort ”Tredje tanken”").click()
    assert focus_on(page) == (a, "vote")

    # The server never saw the undone delete: the deletes it got, in order, are the last one only.
    deleted = facilitator.receive_until(lambda m: m["type"] == "note_deleted" and m["note_id"] == c, timeout=20)
    assert deleted["note_id"] == c
    expect(card(page, c)).to_have_count(0)
    with room.bot() as late:
        assert a in late.notes and b in late.notes and c not in late.notes


def test_an_undone_delete_never_reaches_anyone(browse: Browse, board_room: tuple[Room, Bot]) -> None:
    room, facilitator = board_room
    page = browse.page(room.participant_path, LAPTOP)
    wait_online(page)
    kept = add_own_note(page, "now", "Aktiviteter vi vill få igång", "Den här blir kvar")
    gone = add_own_note(page, "now", "Aktiviteter vi vill få igång", "Den här försvinner")
    card(page, kept).get_by_role("button", name=re.compile("^Ta bort")).click()
    page.get_by_role("button", name=re.compile("^Ångra")).click()
    card(page, gone).get_by_role("button", name=re.compile("^Ta bort")).click()
    # Whatever the server sends until the second delete, it sends in order: no delete of the first.
    seen: list[dict[str, Any]] = []

    def second_deleted(message: dict[str, Any]) -> bool:
        seen.append(message)
        return bool(message["type"] == "note_deleted" and message["note_id"] == gone)

    facilitator.receive_until(second_deleted, timeout=20)
    assert not [m for m in seen if m["type"] == "note_deleted" and m["note_id"] == kept]
    expect(card(page, kept)).to_be_visible()


def test_the_note_form_starts_afresh_after_each_note(browse: Browse, board_room: tuple[Room, Bot]) -> None:
    room, _ = board_room
    page = browse.page(room.participant_path, PHONE)
    wait_online(page)
    form = page.locator("form.add-note").filter(has=page.locator("#new-note-now"))
    form.locator("#new-note-now").fill("Fråga brukarna innan vi bestämmer")
    form.get_by_label("Gäller påstående (frivilligt)").select_option(label="2. Vi ser användaren som objekt")
    form.get_by_label("Färg").select_option(label="Rosa")
    form.get_by_role("button", name="Lägg till lapp").click()
    note = notes_in(page, "now", "Fråga brukarna")
    expect(note).to_contain_text("↔ Om påstående 2")
    expect(note).to_have_class(re.compile(r"\bnote-pink\b"))
    expect(form.get_by_label("Gäller påstående (frivilligt)")).to_have_value("")
    expect(form.get_by_label("Färg")).to_have_value("yellow")
    expect(form.locator("#new-note-now")).to_have_value("")
    expect(form.locator("#new-note-now")).to_be_focused()
    form.locator("#new-note-now").fill("Nästa lapp, om inget särskilt")
    form.get_by_role("button", name="Lägg till lapp").click()
    second = notes_in(page, "now", "Nästa lapp")
    expect(second).to_have_class(re.compile(r"\bnote-yellow\b"))
    expect(second.locator(".note-link")).to_be_hidden()


def touch_drag(page: Page, source: Locator, target: Locator, steps: int = 12) -> None:
    """A finger on `source`, moved in steps to the middle of `target`, lifted: real touch
    events through Chromium's input pipeline (DevTools Input.dispatchTouchEvent)."""
    start = source.bounding_box()
    end = target.bounding_box()
    assert start and end
    assert page.viewport_size is not None
    assert end["y"] + end["height"] / 2 < page.viewport_size["height"], "the drop target must be on screen"
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    x1, y1 = end["x"] + end["width"] / 2, end["y"] + end["height"] / 2
    session = page.context.new_cdp_session(page)
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for step in range(1, steps + 1):
        point = {"x": x0 + (x1 - x0) * step / steps, "y": y0 + (y1 - y0) * step / steps}
        session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()


def test_a_finger_drags_a_note_by_its_handle_and_scrolls_elsewhere(
    browse: Browse, board_room: tuple[Room, Bot]
) -> None:
    room, facilitator = board_room
    page = browse.page(room.participant_path, context=browse.context(PHONE, touch=True))
    wait_online(page)
    note = add_own_note(page, "thoughts", "Tankar och resonemang som lyfts", "Dras med fingret")
    page.locator('section.area[data-area="thoughts"] h3').evaluate("(heading) => heading.scrollIntoView()")
    # Moving a finger on the note's text is scrolling the page, not dragging the note.
    before = page.evaluate("window.scrollY")
    touch_drag(page, card(page, note).locator(".note-text"), page.locator('section.area[data-area="thoughts"] h3'))
    expect(card(page, note)).not_to_have_class(re.compile("dragging"))
    assert notes_in(page, "thoughts", "Dras med fingret").count() == 1
    assert page.evaluate("window.scrollY") != before, "a finger's move on the note should scroll the page"
    # By its handle, it moves: to the next area, below it on a phone.
    page.locator('section.area[data-area="thoughts"] h3').evaluate("(heading) => heading.scrollIntoView()")
    touch_drag(
        page, card(page, note).locator(".drag-handle"), page.locator('section.area[data-area="insights"] ol.notes')
    )
    moved = facilitator.receive_until(lambda m: m["type"] == "note_updated" and m["note"]["id"] == note)
    assert moved["note"]["area_id"] == "insights"
    expect(notes_in(page, "insights", "Dras med fingret")).to_have_count(1)
    expect(page.locator(".drag-ghost")).to_have_count(0)
