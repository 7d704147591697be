"""The HTML report as it is read and printed: downloaded from the console as a facilitator
does (Exportera → Rapport), then opened in Chromium at a phone's width, a laptop's and an A4
page's (printed), in Swedish and English. What is checked is what the reader sees: every
word of each figure line and of the polarity profile, and where each label lands."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pypdf import PdfReader

from app.templates import builtin_templates
from app.templates.model import Language
from tests.browser.conftest import PROJECTOR, Bot, Browse, PageWatch, Room, screenshot

# The widths a report is read at, and an A4 page's printable width (210 mm less the
# report's 14 mm margins each side) at 96 CSS px to the inch.
A4_PRINTED: ViewportSize = {"width": round((210 - 2 * 14) / 25.4 * 96), "height": 1100}
WIDTHS: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "laptop": {"width": 1280, "height": 800},
    "a4": A4_PRINTED,
}
EXPORT = {"sv": ("Exportera", "Rapport"), "en": ("Export", "Report")}
# Statement 1 of the four people below: 3, 4, 5 and one "Vet ej" (sd over the three grades).
FIGURES = {
    "sv": "Svar 3 · Medel 4,0 · Median 4,0 · Standardavvikelse 0,8 · 1 vet ej · Samstämmiga",
    "en": "Answers 3 · Mean 4.0 · Median 4.0 · Standard deviation 0.8 · 1 don't know · Agreement",
}


@pytest.fixture
def graded_room(new_room: Callable[..., Room]) -> Iterator[Callable[[str], Room]]:
    """A room in `language` where four people graded every statement (one answered "Vet ej"
    to statement 1) and the results are shown."""
    made: list[Bot] = []

    def make(language: str) -> Room:
        room = new_room("Hemtjänsten Norr", language=language)
        with room.facilitator() as facilitator:
            facilitator.send("set_phase", phase="grade")
            for person, first in enumerate([3, 4, 5, "unknown"]):
                bot = room.bot()
                made.append(bot)
                for number in range(1, 11):
                    value: Any = first if number == 1 else (person + number) % 10 + 1
                    bot.send("set_score", statement_id=f"s{number}", value=value)
            facilitator.send("set_results_visible", visible=True)
        return room

    yield make
    for bot in made:
        bot.close()


def downloaded_report(browse: Browse, room: Room, language: str) -> str:
    """The report as the console downloads it."""
    console = browse.page(room.facilitator_url, PROJECTOR, name="console")
    menu, button = EXPORT[language]
    console.get_by_text(menu, exact=True).click()
    with console.expect_download() as download:
        console.get_by_role("button", name=re.compile(f"^{button}")).click()
    path = download.value.path()
    return path.read_text(encoding="utf-8")


def opened(browse: Browse, report: str, width: str) -> Page:
    """The report as a browser shows the file (no page of the app around it, so none of the
    app's policies), watched like every page: it must load nothing from anywhere."""
    page = browse.context(WIDTHS[width]).new_page()
    watch = PageWatch(f"report-{width}")
    watch.attach(page)
    browse.watches.append(watch)
    page.set_content(report)
    if width == "a4":
        page.emulate_media(media="print")
    return page


@pytest.mark.parametrize("language", ["sv", "en"])
def test_each_figure_line_separates_dont_know_from_the_standard_deviation(
    browse: Browse, graded_room: Callable[[str], Room], language: str
) -> None:
    """Issue 24: the report read "Standardavvikelse 1,0 1 vet ej", two numbers run together."""
    report = downloaded_report(browse, graded_room(language), language)
    page = opened(browse, report, "laptop")
    expect(page.locator("section.statement .figures").first).to_have_text(FIGURES[language])


# Where each label of the profile lands, in CSS px, and how large its letters are drawn.
PROFILE_LABELS = """(heading) => {
  const title = [...document.querySelectorAll("h2")].find((h2) => h2.textContent === heading);
  const svg = title.nextElementSibling;
  const box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  return {
    svg: { left: box.left, right: box.right, top: box.top, bottom: box.bottom },
    labels: [...svg.querySelectorAll("text")].map((text) => {
      const r = text.getBoundingClientRect();
      return {
        // A label of several lines is one <text>, a line to each <tspan>.
        text: [...text.children].map((span) => span.textContent).join(" ") || text.textContent,
        px: parseFloat(getComputedStyle(text).fontSize) * scale,
        left: r.left, right: r.right, top: r.top, bottom: r.bottom,
      };
    }),
    dots: [...svg.querySelectorAll("circle")].map((dot) => {
      const r = dot.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }),
  };
}"""


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_profile_names_every_pole_in_full_where_the_report_is_read_and_printed(
    browse: Browse, graded_room: Callable[[str], Room], language: Language, tmp_path: Path
) -> None:
    """Issue 24: the profile cut its labels at 38 letters ("Vi ger professionellt
    handlingsutrymme…") in letters of 6 px on a phone. Each pole is now there in full, inside
    the picture, clear of every other label and of the dots, at least 10 px high."""
    template = builtin_templates()["tjanstelogik"]
    poles = [
        label
        for number, statement in enumerate(template.statements, start=1)
        for label in (f"{number}. {statement.left[language]}", statement.right[language])
    ]
    report = downloaded_report(browse, graded_room(language), language)
    heading = "Polaritetsprofil" if language == "sv" else "Polarity profile"
    for width in WIDTHS:
        page = opened(browse, report, width)
        drawn = page.evaluate(PROFILE_LABELS, heading)
        labels = drawn["labels"]
        assert [label["text"] for label in labels] == poles, width
        svg = drawn["svg"]
        for label in labels:
            assert label["px"] >= 10, (width, label)
            inside = svg["left"] <= label["left"] and label["right"] <= svg["right"]
            assert inside and svg["top"] <= label["top"] and label["bottom"] <= svg["bottom"], (width, label, svg)
            for other in [*labels, *drawn["dots"]]:
                assert other is label or not overlap(label, other), (width, label, other)
        page.get_by_role("heading", name=heading).evaluate("title => title.scrollIntoView()")
        screenshot(page, f"report-profile-{language}-{width}")
    # Printed on A4 as Chromium prints it: every pole's words are in the PDF.
    pdf = tmp_path / "report.pdf"
    opened(browse, report, "a4").pdf(path=str(pdf), format="A4", print_background=True)
    text = unicodedata.normalize("NFKC", " ".join(page.extract_text() for page in PdfReader(pdf).pages))
    printed = " ".join(text.split())  # NFKC: the "fi" and "ff" the font draws as one letter, as two
    for pole in poles:
        assert pole in printed, pole
