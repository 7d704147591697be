"""The text rule (app/text.py) on its own: which characters it refuses, what counts as empty."""

from __future__ import annotations

from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from app.text import PlainText, forbidden_character, is_blank

C0 = [chr(code) for code in range(0x20) if code not in (0x09, 0x0A)]
# DEL and the C1 controls (U+009B is a terminal's CSI), the bidirectional embeddings and
# overrides, the isolates (issue 22).
DEL_AND_C1 = [chr(code) for code in range(0x7F, 0xA0)]
BIDI = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
REFUSED = C0 + DEL_AND_C1 + BIDI + ["\ud800", "\udbff", "\udc00", "\udfff"]


class Note(BaseModel):
    text: Annotated[str, PlainText(min_length=1, max_length=10, strip=True)]
    name: Annotated[str, PlainText(max_length=10, strip=True)] = ""
    cid: Annotated[str, PlainText(max_length=10)] = "c"


@pytest.mark.parametrize("char", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_but_tab_and_newline_every_bidi_override_and_every_surrogate_is_refused(char: str) -> None:
    assert forbidden_character(f"a{char}b") == char
    with pytest.raises(ValidationError) as refused:
        Note(text="ok", cid=f"c{char}")
    assert refused.value.errors()[0]["loc"] == ("cid",)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
def test_text_without_those_characters_passes_the_rule(value: str) -> None:
    clean = "".join(c for c in value if c not in REFUSED)
    assert forbidden_character(clean) is None
    assert forbidden_character(value) == next((c for c in value if c in REFUSED), None)


def test_tab_and_newline_are_kept() -> None:
    assert Note(text="a\tb\nc").text == "a\tb\nc"


@pytest.mark.parametrize("neighbour", ["\x7e", "\xa0", "\u2029", "\u202f", "\u2065", "\u206a", "\u200e", "\u200f"])
def test_the_characters_beside_the_refused_ranges_and_the_direction_marks_are_kept(neighbour: str) -> None:
    """Right-to-left text needs its marks (U+200E, U+200F); they override nothing."""
    assert forbidden_character(f"a{neighbour}b") is None
    assert Note(text=f"a{neighbour}b").text == f"a{neighbour}b"


@pytest.mark.parametrize("blank", ["", " ", "\u200b", "\u200b\u200c\u200d\u2060\ufeff", "\u00ad", "\u0301", "\u3164"])
def test_invisible_only_text_is_empty(blank: str) -> None:
    assert is_blank(blank)
    with pytest.raises(ValidationError) as refused:
        Note(text=blank)
    assert refused.value.errors()[0]["type"] == "string_too_short"
    assert Note(text="x", name=blank).name == ""


@pytest.mark.parametrize("visible", ["a", ".", "❤️", "\u200bx", "x\u0301", "一", "\u00a0-"])
def test_one_visible_character_makes_text_not_blank(visible: str) -> None:
    assert not is_blank(visible)


def test_visible_text_keeps_its_invisible_characters_and_is_trimmed_of_whitespace() -> None:
    assert Note(text="  ❤️ \u200d ").text == "❤️ \u200d"
