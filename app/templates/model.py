"""The workshop template as data: statements, reflection questions and documentation areas.

Templates are plain JSON validated here, so that a facilitator can bring their own. A room
keeps its own copy (a template file may change later; a running workshop must not).
Must not import anything from the rest of the app but app/text.py (the text rule, a leaf).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from app.text import PlainText

Language = Literal["sv", "en", "fi"]
LANGUAGES: tuple[Language, ...] = ("sv", "en", "fi")

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Text = Annotated[str, PlainText(min_length=1, max_length=400, strip=True)]
# One text in one or more languages; at least the template's first language must be present.
LocalizedText = Annotated[dict[Language, Text], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Statement(_Strict):
    """One bipolar scale: the production-logic pole on the left, service logic on the right."""

    id: Slug
    left: LocalizedText
    right: LocalizedText


class Question(_Strict):
    id: Slug
    text: LocalizedText


class Area(_Strict):
    """Where notes go. A `column` is one of the action columns that turn reflection into a
    next step; an `area` is free documentation space."""

    id: Slug
    kind: Literal["area", "column"] = "area"
    title: LocalizedText
    prompt: LocalizedText | None = None
    hint: LocalizedText | None = None


class Grading(_Strict):
    title: LocalizedText
    instruction: LocalizedText | None = None
    left_label: LocalizedText
    right_label: LocalizedText


class Template(_Strict):
    schema_version: Literal[1] = 1
    id: Slug
    name: LocalizedText
    languages: Annotated[list[Language], Field(min_length=1, max_length=3)]
    credit: LocalizedText | None = None
    grading: Grading
    statements: Annotated[list[Statement], Field(min_length=1, max_length=30)]
    reflection_title: LocalizedText | None = None
    questions: Annotated[list[Question], Field(max_length=20)] = []
    areas: Annotated[list[Area], Field(min_length=1, max_length=12)]
    suggested_groups: Annotated[list[LocalizedText], Field(max_length=12)] = []

    @field_validator("statements", "questions", "areas")
    @classmethod
    def _unique_ids(cls, items: list[Statement] | list[Question] | list[Area]) -> list:  # type: ignore[type-arg]
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(f"duplicate id {item.id!r}")
            seen.add(item.id)
        return items

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, languages: list[Language]) -> list[Language]:
        if len(set(languages)) != len(languages):
            raise ValueError("languages must not repeat")
        return languages

    @model_validator(mode="after")
    def _first_language_everywhere(self) -> Template:
        """Every text must exist in the template's first language, the fallback for all."""
        first = self.languages[0]
        missing = [path for path, text in _localized_texts(self, "") if first not in text]
        if missing:
            shown = ", ".join(missing[:5])
            raise ValueError(f"missing the {first!r} text (the template's first language) at {shown}")
        return self

    def statement_ids(self) -> list[str]:
        return [statement.id for statement in self.statements]

    def area_ids(self) -> list[str]:
        return [area.id for area in self.areas]


def _localized_texts(value: object, path: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Every localized text inside a template, with where it sits (e.g. statements[3].left)."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _localized_texts(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _localized_texts(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        yield path, value
