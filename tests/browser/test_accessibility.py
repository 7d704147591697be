"""Accessibility: axe finds nothing serious on any view (run on the tour, see conftest), and a
keyboard alone is enough to grade a statement and write a note, with the focus always visible."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import VIEWS, Browse, Room, Tour, wait_online

BLOCKING = {"serious", "critical"}


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']} – {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '')!r}")
    return "\n".join(lines)


@pytest.mark.parametrize("view", VIEWS)
def test_no_serious_accessibility_violations(tour: Tour, view: str) -> None:
    blocking = [v for v in tour.violations[view] if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {view}:\n{describe(blocking)}"


def test_every_view_fits_a_phone_without_scrolling_sideways(tour: Tour) -> None:
    """WCAG 1.4.10 (reflow): at 390 CSS px nothing but a wide table scrolls sideways, and
    that table only inside its own box."""
    assert set(tour.sideways) == set(VIEWS)
    wider = {view: f"{px} px too wide" for view, px in tour.sideways.items() if px > 0}
    assert not wider, wider


def focus_outline(page: Page) -> str:
    outline: str = page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          return style.outlineStyle === "none" || parseFloat(style.outlineWidth) === 0
            ? "none" : `${style.outlineWidth} ${style.outlineStyle}`;
        }"""
    )
    return outline


def tab_to(page: Page, selector: str, most: int = 80, key: str = "Tab") -> list[str]:
    """Press Tab (or `key`) until the focused element matches `selector`; every stop on the
    way must show where the focus is. Returns the stops (for a failure message)."""
    passed = []
    for _ in range(most):
        page.keyboard.press(key)
        here = page.evaluate(
            "() => `${document.activeElement.tagName.toLowerCase()} ${document.activeElement.getAttribute('aria-label')"
            " ?? document.activeElement.textContent.trim().slice(0, 40)}`"
        )
        passed.append(here)
        assert focus_outline(page) != "none", f"no visible focus on {here!r}"
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return passed
    raise AssertionError(f"{selector} not reached with {most} presses of {key}; passed {passed}")


def test_keyboard_only_grading_and_writing_a_note(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Tangentbordsrummet")
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="grade")
    page = browse.page(room.participant_path, {"width": 1280, "height": 800})
    wait_online(page)
    expect(page.get_by_role("radiogroup")).to_have_count(10)

    page.locator("body").focus()
    tab_to(page, "input[type=radio]")
    first = page.get_by_role("radiogroup").first
    expect(first).to_have_accessible_name(re.compile(r"^Påstående 1: från ”Vi erbjuder en produkt”"))
    expect(first.locator("input:focus")).to_have_count(1)
    # A digit chooses, the arrows move the choice as in any group of radio buttons.
    page.keyboard.press("6")
    page.keyboard.press("ArrowRight")
    expect(first.get_by_role("radio", name="7", exact=True)).to_be_checked()
    expect(first.get_by_role("radio", name="7", exact=True)).to_be_focused()
    expect(first.locator(".scale-status")).to_have_text("Ditt svar: 7")
    expect(page.locator(".progress")).to_have_text("Du har graderat 1 av 10")
    # The next Tab stops are the statement's own buttons, each labelled with its number.
    tab_to(page, "button.clear", most=3)
    expect(page.locator(":focus")).to_have_accessible_name("Rensa graderingen av påstående 1")
    # Stored by the server: still there after a reload.
    page.reload()
    wait_online(page)
    expect(page.get_by_role("radiogroup").first.get_by_role("radio", name="7", exact=True)).to_be_checked()

    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="document")
    expect(page.get_by_role("heading", name="Dokumentera reflektionen")).to_be_visible()
    page.locator("body").focus()
    tab_to(page, "textarea#new-note-thoughts")
    page.keyboard.type("Skrivet med bara tangentbordet")
    tab_to(page, "section[data-area=thoughts] form.add-note button[type=submit]", most=6)
    page.keyboard.press("Enter")
    note = page.locator('ol.notes[data-area="thoughts"] li.note:not(.pending)')
    expect(note.locator(".note-text")).to_have_text("Skrivet med bara tangentbordet")
    # The focus stays in the form for the next note; the new note's buttons are just before it.
    expect(page.locator("textarea#new-note-thoughts")).to_be_focused()
    tab_to(page, 'ol.notes[data-area="thoughts"] li.note button', most=5, key="Shift+Tab")
    expect(page.locator(":focus")).to_have_text("Ta bort")
