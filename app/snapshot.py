"""The exported board: one versioned, self-describing document (schema_version 2).

Built from a live room's state in one synchronous step, so an export is a consistent
snapshot at one seq even while people keep writing. Every figure in it comes from
`figures.disclose`, labelled with its round and kind.

What the document never holds (docs/export.md): a name next to an answer, and a group next
to an answer. Answers belong to *respondents*, pseudonyms (r1, r2, ...) that appear nowhere
else; note authors (a1, ...) and voters (v1, ...) have pseudonyms of their own, so no name
on a note leads to a grade. Each respondent's group travels sealed with this server's key
(app/sealing.py): it comes back on import here, and tells a reader of the file nothing.

Pure: no I/O, no FastAPI. The JSON Schema of `BoardExport` is served at
/api/schema/export.json.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app import protocol as p
from app.board import FACILITATOR_ID, Board, to_answer
from app.figures import FigureKey, disclose, insight_of
from app.templates.model import Template
from app.text import PlainText, SafeStr

SCHEMA_VERSION = 2
GROUP_SEAL = "samskapa-export-group"
RespondentId = Annotated[str, StringConstraints(pattern=r"^r[1-9][0-9]{0,5}$")]
AuthorId = Annotated[str, StringConstraints(pattern=r"^(a[1-9][0-9]{0,5}|facilitator)$")]
VoterId = Annotated[str, StringConstraints(pattern=r"^(v[1-9][0-9]{0,5}|facilitator)$")]
# Seals a group id for the document (the sealer's `seal` bound to GROUP_SEAL).
SealGroup = Callable[[str], str]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportedRoom(p.RoomConfig, p.RoomFlow):
    """The room's configuration and flow (the same shapes as live), and where it stood."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    created_at: datetime
    seq: int = Field(ge=0, description="The room's sequence number this snapshot was taken at.")


class Respondent(_Part):
    """Someone who answered, under a pseudonym used nowhere else in the document."""

    id: RespondentId
    group_seal: Annotated[str, PlainText(max_length=200)] = Field(
        description="The respondent's group (or none), sealed: only the server that exported it can open it.",
    )


class ExportedScore(_Part):
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

    schema_version: Literal[2]
    exported_at: datetime
    room: ExportedRoom
    template: Template
    participants: int = Field(ge=0, description="How many joined the room.")
    respondents: list[Respondent]
    scores: list[ExportedScore]
    aggregates: list[ExportedAggregate]
    overall: float | None = Field(description="Mean of the statement means (current round, today).")
    voters: int = Field(ge=0, description="Respondents who answered in the current round.")
    group_figures: list[ExportedGroup] = []
    hidden_groups: int = Field(default=0, ge=0, description="Groups with answers of which nothing is shown.")
    notes: list[ExportedNote]


def snapshot(board: Board, seq: int, now: datetime, seal_group: SealGroup) -> BoardExport:
    """The board as it is at `seq`. Call it without awaiting in between: it reads live state."""
    respondents = _respondents(board)
    statement_order = {sid: index for index, sid in enumerate(board.template.statement_ids())}
    scores = sorted(
        (
            ExportedScore(
                respondent=respondents[participant_id],
                round=key.round,
                kind=key.kind,
                statement_id=key.statement_id,
                value=to_answer(value),
            )
            for (participant_id, key), value in board.scores.items()
        ),
        key=lambda s: (s.round, s.kind, statement_order.get(s.statement_id, 0), int(s.respondent[1:])),
    )
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
    return BoardExport(
        schema_version=SCHEMA_VERSION,
        exported_at=now,
        room=ExportedRoom(**dict(board.config), **dict(board.flow), created_at=board.created_at, seq=seq),
        template=board.template,
        participants=len(board.participants),
        respondents=[
            Respondent(id=pseudonym, group_seal=seal_group(_group_of(board, participant_id)))
            for participant_id, pseudonym in sorted(respondents.items(), key=lambda item: int(item[1][1:]))
        ],
        scores=scores,
        aggregates=aggregates,
        overall=sum(current) / len(current) if current else None,
        voters=board.voters,
        group_figures=group_figures,
        hidden_groups=disclosed.hidden_groups,
        notes=_notes(board),
    )


def _respondents(board: Board) -> dict[str, str]:
    """Participant id -> r1, r2, ...: in an order that says nothing about who joined when
    (a hash of the room and the participant's id, both random), the same in every export."""
    answering = {participant_id for participant_id, _ in board.scores}
    ordered = sorted(answering, key=lambda pid: hashlib.sha256(f"{board.room_id}\0{pid}".encode()).digest())
    return {participant_id: f"r{number}" for number, participant_id in enumerate(ordered, start=1)}


def _group_of(board: Board, participant_id: str) -> str:
    person = board.participants.get(participant_id)
    return (person.group if person else None) or ""


def _notes(board: Board) -> list[ExportedNote]:
    """Every note in its area's order, its author and voters under pseudonyms of their own."""
    authors: dict[str, str] = {FACILITATOR_ID: FACILITATOR_ID}
    voters: dict[str, str] = {FACILITATOR_ID: FACILITATOR_ID}
    notes = []
    for area in board.template.areas:
        in_area = sorted((n for n in board.notes.values() if n.area_id == area.id), key=lambda n: (n.position, n.id))
        for order, note in enumerate(in_area):
            public = board.public_note(note)
            author = authors.setdefault(note.author_id, f"a{len(authors)}")
            note_voters = sorted(note.voters, key=lambda v: (v != FACILITATOR_ID, v))
            notes.append(
                ExportedNote(
                    id=note.id,
                    area_id=note.area_id,
                    order=order,
                    text=note.text,
                    color=note.color,
                    author=author,
                    author_name=public.author_name,
                    statement_id=note.statement_id,
                    voters=[voters.setdefault(voter, f"v{len(voters)}") for voter in note_voters],
                    votes=len(note.voters),
                    version=note.version,
                    created_at=note.created_at,
                    updated_at=note.updated_at,
                )
            )
    return notes


def _aggregate(key: FigureKey, figures: p.Figures) -> ExportedAggregate:
    round_number, kind, statement_id = key
    return ExportedAggregate(
        **dict(figures), round=round_number, kind=kind, statement_id=statement_id, insight=insight_of(figures)
    )
