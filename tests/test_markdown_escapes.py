"""The Markdown report's user text: literal wherever it stands, and escaped only where it
would be read as markup (issue 24: pasted into Word, which shows the file's text, a report
read "2026\\-12\\-07" and "\\(silos\\)").

Rendered by cmark-gfm, GitHub's own renderer, with the extensions a wiki has (tables,
strikethrough, task lists): a text must come out as itself and make no markup, in every
place the report puts one; and a text without markup must be written as it is."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.export_markdown import Where, md, render_markdown
from app.export_versions import upgrade
from app.snapshot import BoardExport
from app.text import forbidden_character

CORPUS = Path(__file__).parent / "export_corpus" / "v4-grades-groups-round2-votes.json"
EXTENSIONS = ["table", "strikethrough", "tasklist", "tagfilter"]


class Rendered(HTMLParser):
    """The tags and the text of a piece of rendered HTML."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join("".join(self.text).split())


def rendered(markdown: str) -> Rendered:
    return Rendered(cmarkgfm.markdown_to_html_with_extensions(markdown, extensions=EXTENSIONS))


TABLE = {"table", "thead", "tbody", "tr", "th", "td"}
# Every place the report puts user text: (how it stands there, where md() is told it is, the
# text around it once rendered, the tags it renders to).
PLACES: dict[str, tuple[str, Where, str, set[str]]] = {
    "title": ("# {}", "heading", "{}", {"h1"}),
    "column": ("### Vad gör vi nu? – {}", "heading", "Vad gör vi nu? – {}", {"h3"}),
    "table cell": ("| # | A | B |\n|---:|---|---|\n| 1 | {} | x |", "inline", "# A B 1 {} x", TABLE),
    "meta line": ("{}", "block", "{}", {"p"}),
    "note": ("- {} — Bo (2 röster)", "block", "{} — Bo (2 röster)", {"ul", "li"}),
    "action": ("- [ ] {} (↔ om påstående 3)", "inline", "{} (↔ om påstående 3)", {"ul", "li", "input"}),
    "question": ("1. {}", "block", "{}", {"ol", "li"}),
    "footnote": ("*{}*", "inline", "{}", {"p", "em"}),
}
# Pieces of Markdown to build texts from, and anything else.
PIECES = [
    "*", "**", "_", "__", "~", "~~", "`", "```", "\\", "[", "]", "(", ")", "![", "](", "<", ">", "&", "&amp;",
    "&#35;", "#", "# ", "- ", "+ ", "1. ", "2) ", "---", "|", ":", "!", ".", "http://x.se", "<b>", "a", "ö", " ",
    "2026-12-07", "[x] ", "\u00a0", "–",
]  # fmt: skip
# Only what a note may hold (app/text.py refuses the controls, among others).
TEXTS = (
    st.lists(st.sampled_from(PIECES) | st.text(max_size=3), min_size=1, max_size=12)
    .map("".join)
    .filter(lambda text: forbidden_character(text) is None)
)


@pytest.mark.parametrize("place", PLACES)
@settings(max_examples=400, deadline=None)
@given(text=TEXTS)
def test_user_text_renders_as_itself_and_makes_no_markup(place: str, text: str) -> None:
    written, where, around, tags = PLACES[place]
    words = " ".join(text.split())
    if not words:
        return
    shown = rendered(written.format(md(text, where)))
    assert shown.words == " ".join(around.format(words).split()), (place, text, md(text, where))
    assert shown.tags == tags, (place, text, md(text, where))


# Texts with nothing Markdown would take for markup where they stand.
PLAIN = [
    "2026-12-07",
    "Vi utvecklar vår verksamhet inom enheter (silos)",
    "Exporterad 2026-12-07 · 9 deltagare, varav 7 graderade",
    "t.ex. en APT kl. 13.00–15.00!",
    "Bjud in 3-4 brukare (nästa gång) + anhöriga?",
    "50 % färre möten; 3 * 4 = 12",
    "Förslag #3 och {mall}",
    "snake_case och a_b",
    "KS 2026/123",
    "C:\\Delat\\Rutiner",
    "Fråga: vad gör vi nu?",
    "www.example.se och a > b",
]


@pytest.mark.parametrize("text", PLAIN)
@pytest.mark.parametrize("where", ["inline", "block", "heading"])
def test_text_without_markup_is_written_as_it_is(text: str, where: Where) -> None:
    assert md(text, where) == text


@pytest.mark.parametrize(
    ("text", "where", "written"),
    [
        ("1. Fråga brukarna", "block", "1\\. Fråga brukarna"),
        ("1. Fråga brukarna", "inline", "1. Fråga brukarna"),
        ("- punkt", "block", "\\- punkt"),
        ("# tre", "block", "\\# tre"),
        ("Team #", "heading", "Team \\#"),
        ("Team #", "inline", "Team #"),
        ("*nu*", "inline", "\\*nu\\*"),
        ("till | planeringen", "inline", "till \\| planeringen"),
        ("[x] klart", "block", "\\[x\\] klart"),
        ("<b>fet</b>", "inline", "\\<b>fet\\</b>"),
    ],
)
def test_markup_is_escaped_where_it_would_be_read(text: str, where: Where, written: str) -> None:
    assert md(text, where) == written


def test_the_report_reads_as_written_and_renders_as_written() -> None:
    """A whole report: the issue's texts stand in the file as typed, and every note renders
    as its text."""
    document: dict[str, Any] = upgrade(json.loads(CORPUS.read_text(encoding="utf-8")))
    document["room"] |= {"title": "Uppföljning 2026-12-07 (silos)", "case_number": "KS 2026/123"}
    notes = ["Vi möts 2026-12-07 (silos), t.ex. kl. 13.00.", "1. Fråga brukarna", "- [x] klart", "*nu* | sen"]
    for note, text in zip(document["notes"], notes, strict=False):
        note["text"] = text
    markdown = render_markdown(BoardExport.model_validate(document)).decode()
    lines = markdown.splitlines()
    assert lines[0] == "# Uppföljning 2026-12-07 (silos)"
    assert lines[2].startswith("Diarienummer KS 2026/123 · ") and "\\" not in lines[2], lines[2]
    assert "| 7 | Vi utvecklar vår verksamhet inom enheter (silos) |" in markdown
    assert " Vi möts 2026-12-07 (silos), t.ex. kl. 13.00." in markdown
    shown = rendered(markdown)
    assert not shown.tags & {"a", "del", "img", "blockquote", "h4"}, shown.tags
    for text in notes:
        assert " ".join(text.split()) in shown.words, text
