"""The one rule for text that people and files send: what a string may contain, and when a
string counts as empty. Used as pydantic metadata on every text field of the protocol, the
HTTP API, templates and imports: `Annotated[str, PlainText(max_length=500, strip=True)]`.

Why it exists: a NUL passed validation and then failed on PostgreSQL (which cannot store
it), taking the whole transaction of other people's notes with it (issue 17). Refusing it at
the door, with an error naming the field, keeps bad input from ever reaching a batch.

It also refuses what makes a text show something other than what it holds (issue 22): the
C1 controls, among them U+009B, which some terminals take for ESC [ (a text printed to
one, from a log or an export, could move its cursor or recolour it), and the bidirectional
embeddings, overrides and isolates, which reorder the characters after them ("Trojan
Source"): a note or a name that reads one way on the board and another in the report. The
direction marks (U+200E, U+200F) stay allowed: they only settle the direction of the
punctuation beside them, override nothing, and right-to-left text needs them.

Imports nothing from the app, so that leaf modules such as app/templates/model.py may use it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

# Refused anywhere in a text:
# - the C0 controls but tab (U+0009) and newline (U+000A);
# - DEL (U+007F) and the C1 controls (U+0080-U+009F), U+009B (CSI) among them;
# - the bidirectional embeddings and overrides (U+202A-U+202E: LRE, RLE, PDF, LRO, RLO)
#   and isolates (U+2066-U+2069: LRI, RLI, FSI, PDI);
# - the surrogate halves: a lone surrogate (from a JSON escape such as "\udfff") is no
#   character and cannot be encoded.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Characters that show nothing of their own: format characters (zero-width space, joiners,
# word joiner, byte order mark, soft hyphen, direction marks), lone combining marks, and
# the blank fillers that fonts draw as empty space. Text of only these is empty text.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Mn", "Me", "Zs", "Zl", "Zp"})
_BLANK_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Room ids are URL-safe tokens (secrets.token_urlsafe, 24 characters); 64 leaves room.
_ROOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def forbidden_character(value: str) -> str | None:
    """The first character the rule refuses, or None when the text is fine."""
    found = _FORBIDDEN.search(value)
    return found.group() if found else None


def is_blank(value: str) -> bool:
    """True when nothing in `value` would be visible: whitespace and invisible characters only.
    Stops at the first visible character, so ordinary text costs one lookup."""
    return not any(
        not (char.isspace() or char in _BLANK_FILLERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES)
        for char in value
    )


def is_room_id(value: str) -> bool:
    """Whether `value` could name a room. Anything else names none and costs no query (and
    PostgreSQL could not even take it: a NUL in a path was a 500)."""
    return _ROOM_ID.fullmatch(value) is not None


def _refuse_forbidden(value: str) -> str:
    char = forbidden_character(value)
    if char is not None:
        raise PydanticCustomError(
            "control_character",
            "Text must not contain control characters, bidirectional overrides or unpaired surrogates (found U+{code})",
            {"code": f"{ord(char):04X}"},
        )
    return value


def _blank_as_empty(value: Any) -> Any:
    # Before the length check, so that invisible-only text is refused (or, where empty is
    # allowed, taken) exactly as an empty string would be.
    if isinstance(value, str) and is_blank(value):
        return ""
    return value


@dataclass(frozen=True)
class PlainText:
    """Pydantic metadata for a text field: lengths counted after trimming (with `strip`),
    text of only whitespace and invisible characters treated as empty (with `strip`), and
    control characters, bidirectional overrides and isolates and unpaired surrogates refused
    (always). Put it last in Annotated."""

    min_length: int | None = None
    max_length: int | None = None
    strip: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        text = core_schema.str_schema(
            min_length=self.min_length, max_length=self.max_length, strip_whitespace=self.strip or None
        )
        checked = core_schema.no_info_after_validator_function(_refuse_forbidden, text)
        if self.strip:
            return core_schema.no_info_before_validator_function(_blank_as_empty, checked)
        return checked


# Any length, kept as sent: ids, tokens and the like that only need the character rule.
SafeStr = Annotated[str, PlainText()]
