"""The exported board: one versioned, self-describing document (`SCHEMA_VERSION`, kept with
the upgraders in app/export_versions.py).

Built from a live room's state in one synchronous step, so an export is a consistent
snapshot at one seq even while people keep writing. Every figure in it comes from
`figures.disclose`, labelled with its round and kind.

What the readable document never holds (docs/export.md): a name next to an answer, a
group next to an answer, and answer-level data beside the group figures that would let a
reader partition it. The answers travel sealed for the room that gave them
(app/export_answers.py); note authors (a1, ...) and voters (v1, ...) get pseudonyms drawn
afresh for every export, so two exports cannot be lined up by them.

Files of earlier versions are read through app/export_versions.py's upgraders.
Pure but for the randomness of pseudonyms: no I/O, no FastAPI. The JSON Schema of
`BoardExport` is served at /api/schema/export.json.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app import protocol as p
from app.board import FACILITATOR_ID, Board
from app.export_answers import Answer, Respondent
from app.export_versions import SCHEMA_VERSION
from app.figures import FigureKey, disclose, insight_of
from app.templates.model import Template
from app.text import PlainText, SafeStr

RespondentId = Annotated[str, StringConstraints(pattern=r"^r[1-9][0-9]{0,5}$")]
AuthorId = Annotated[str, StringConstraints(pattern=r"^(a[1-9][0-9]{0,5}|facilitator)$")]
VoterId = Annotated[str, StringConstraints(pattern=r"^(v[1-9][0-9]{0,5}|facilitator)$")]
# Seals the respondents for the room being exported: (statement ids, group ids, respondents).
SealAnswers = Callable[[Sequence[str], Sequence[str], list[Respondent]], str]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportedRoom(p.RoomConfig, p.RoomFlow):
    """The room's configuration and flow (the same shapes as live), and where it stood."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    created_at: datetime
    seq: int = Field(ge=0, description="The room's sequence number this snapshot was taken at.")


class ExportedScore(_Part):
    """One answer without a group, in a file upgraded from version 2 (whose answers were
    readable): never written beside group figures."""

    respondent: RespondentId
    round: int = Field(ge=1)
    kind: p.ScoreKind
    statement_id: SafeStr
    value: p.Answer


class ExportedAggregate(p.Figures):
    round: int = Field(ge=1)
    kind: p.ScoreKind
    statement_id: SafeStr
    insight: p.Insight | None = Field(default=None, description="How the group is spread (docs/insight.md).")


class ExportedNote(_Part):
    id: SafeStr
    area_id: SafeStr
    order: int = Field(ge=0, description="0-based place within its area.")
    text: p.NoteText
    color: p.Color
    author: AuthorId = Field(description="A pseudonym of the note's own (a1, a2, ...), or facilitator.")
    author_name: Annotated[str, PlainText(max_length=60)] | None = Field(
        default=None, description="Only when the author gave one."
    )
    statement_id: SafeStr | None = Field(default=None, description="The statement the note is linked to, if any.")
    voters: list[VoterId] = Field(description="Pseudonyms of the voters' own (v1, v2, ...).")
    votes: int = Field(ge=0)
    version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class ExportedGroup(_Part):
    """A group's figures, in every round and kind; those the k rule holds back are marked."""

    group_id: SafeStr
    name: SafeStr
    voters: int = Field(ge=0, description="Members who answered in the current round.")
    aggregates: list[ExportedAggregate]


class BoardExport(_Part):
    """Everything a group keeps of its workshop, and what `POST /api/rooms/import` reads."""

    # The version the upgraders lead to: a file is raised to it before it is read here.
    schema_version: Literal[SCHEMA_VERSION]  # type: ignore[valid-type]
    exported_at: datetime
    room: ExportedRoom
    template: Template
    participants: int = Field(ge=0, description="How many joined the room.")
    respondents: int = Field(ge=0, description="How many people answered.")
    answers_sealed: Annotated[str, PlainText(max_length=12_000_000)] | None = Field(
        default=None,
        description="Every answer with its respondent's group, sealed for the room it was exported from: an "
        "import on the same deployment restores it only with that room's facilitator token.",
    )
    open_answers: list[ExportedScore] | None = Field(
        default=None,
        description="Answers without groups, only in a file upgraded from version 2 (whose answers were "
        "readable); never beside group figures.",
    )
    aggregates: list[ExportedAggregate]
    overall: float | None = Field(description="Mean of the statement means (current round, today).")
    voters: int = Field(ge=0, description="Respondents who answered in the current round.")
    group_figures: list[ExportedGroup] = []
    hidden_groups: int = Field(default=0, ge=0, description="Groups with answers of which nothing is shown.")
    notes: list[ExportedNote]

    @model_validator(mode="after")
    def _answers_apart_from_groups(self) -> Self:
        if self.open_answers is not None and (self.group_figures or self.answers_sealed is not None):
            raise ValueError("open_answers travel neither with group_figures nor with answers_sealed")
        return self


def snapshot(board: Board, seq: int, now: datetime, seal_answers: SealAnswers) -> BoardExport:
    """The board as it is at `seq`. Call it without awaiting in between: it reads live state."""
    rounds = sorted({key.round for key in board.aggregates} | {board.flow.round})
    disclosed = disclose(board, rounds, full=True)
    aggregates = [_aggregate(key, figures) for key, figures in disclosed.room.items()]
    current = [a.mean for a in aggregates if a.round == board.flow.round and a.kind == "today" and a.mean is not None]
    group_figures = [
        ExportedGroup(
            group_id=shown.group.id,
            name=shown.group.name,
            voters=shown.voters,
            aggregates=[_aggregate(key, figures) for key, figures in shown.figures.items()],
        )
        for shown in disclosed.groups
    ]
    respondents = _respondents(board)
    sealed = None
    if respondents:
        statement_ids = board.template.statement_ids()
        sealed = seal_answers(statement_ids, [group.id for group in board.config.groups], respondents)
    return BoardExport(
        schema_version=SCHEMA_VERSION,
        exported_at=now,
        room=ExportedRoom(**dict(board.config), **dict(board.flow), created_at=board.created_at, seq=seq),
        template=board.template,
        participants=board.people,
        respondents=len(respondents),
        answers_sealed=sealed,
        aggregates=aggregates,
        overall=sum(current) / len(current) if current else None,
        voters=board.voters,
        group_figures=group_figures,
        hidden_groups=disclosed.hidden_groups,
        notes=_notes(board),
    )


def _respondents(board: Board) -> list[Respondent]:
    """Everyone who answered, with their group and answers, for the seal."""
    answers: dict[str, list[Answer]] = {}
    for (respondent_id, key), value in board.scores.items():
        kind: p.ScoreKind = "desired" if key.kind == "desired" else "today"
        counted = board.released_value(respondent_id, key)
        grouped = board.released_value(respondent_id, key, groups=True)
        answer = Answer(key.round, kind, key.statement_id, value, counted, grouped)
        answers.setdefault(respondent_id, []).append(answer)
    return [Respondent(board.group_of(respondent_id), tuple(given)) for respondent_id, given in answers.items()]


def _pseudonyms(ids: set[str], prefix: str) -> dict[str, str]:
    """A pseudonym per id, in an order drawn afresh for every export: two exports of one
    room cannot be lined up by them, and none says who came first."""
    people = sorted(ids - {FACILITATOR_ID})
    random.SystemRandom().shuffle(people)
    named = {person: f"{prefix}{number}" for number, person in enumerate(people, start=1)}
    return {**named, FACILITATOR_ID: FACILITATOR_ID}


def _notes(board: Board) -> list[ExportedNote]:
    """Every note in its area's order, its author and voters under pseudonyms of their own."""
    authors = _pseudonyms({note.author_id for note in board.notes.values()}, "a")
    voters = _pseudonyms({voter for note in board.notes.values() for voter in note.voters}, "v")
    notes = []
    for area in board.template.areas:
        in_area = sorted((n for n in board.notes.values() if n.area_id == area.id), key=lambda n: (n.position, n.id))
        for order, note in enumerate(in_area):
            public = board.public_note(note)
            notes.append(
                ExportedNote(
                    id=note.id,
                    area_id=note.area_id,
                    order=order,
                    text=note.text,
                    color=note.color,
                    author=authors[note.author_id],
                    author_name=public.author_name,
                    statement_id=note.statement_id,
                    voters=sorted((voters[voter] for voter in note.voters), key=_pseudonym_order),
                    votes=len(note.voters),
                    version=note.version,
                    created_at=note.created_at,
                    updated_at=note.updated_at,
                )
            )
    return notes


def _pseudonym_order(pseudonym: str) -> tuple[int, int]:
    return (0, 0) if pseudonym == FACILITATOR_ID else (1, int(pseudonym[1:]))


def _aggregate(key: FigureKey, figures: p.Figures) -> ExportedAggregate:
    round_number, kind, statement_id = key
    return ExportedAggregate(
        **dict(figures), round=round_number, kind=kind, statement_id=statement_id, insight=insight_of(figures)
    )
