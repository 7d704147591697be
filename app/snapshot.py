"""The exported board: one versioned, self-describing document (schema_version 1).

Built from a live room's state in one synchronous step, so an export is a consistent
snapshot at one seq even while people keep writing. Pure: no I/O, no FastAPI. The JSON
Schema of `BoardExport` is served at /api/schema/export.json (see docs/export.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app import protocol as p
from app.board import Board, to_answer
from app.figures import FigureKey, disclose, insight_of
from app.templates.model import Template

SCHEMA_VERSION = 1


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportedRoom(p.RoomConfig, p.RoomFlow):
    """The room's configuration and flow (the same shapes as live), and where it stood."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    created_at: datetime
    seq: int = Field(ge=0, description="The room's sequence number this snapshot was taken at.")


class ExportedParticipant(_Part):
    id: str
    name: str | None = Field(description="Only when the participant gave one.")
    group: str | None


class ExportedScore(_Part):
    participant_id: str
    round: int = Field(ge=1)
    kind: p.ScoreKind
    statement_id: str
    value: p.Answer


class ExportedAggregate(p.Figures):
    round: int
    kind: p.ScoreKind
    statement_id: str
    insight: p.Insight | None = Field(default=None, description="How the group is spread (docs/insight.md).")


class ExportedNote(_Part):
    id: str
    area_id: str
    order: int = Field(ge=0, description="0-based place within its area.")
    text: str = Field(min_length=1, max_length=500)
    color: p.Color
    author_id: str
    statement_id: str | None = Field(default=None, description="The statement the note is linked to, if any.")
    voter_ids: list[str]
    votes: int
    version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class ExportedGroup(_Part):
    """A group's figures in the current round; only groups of at least k voters appear."""

    group_id: str
    name: str
    voters: int
    aggregates: list[ExportedAggregate]


class BoardExport(_Part):
    """Everything a group keeps of its workshop, and what `POST /api/rooms/import` reads."""

    schema_version: Literal[1]
    exported_at: datetime
    room: ExportedRoom
    template: Template
    participants: list[ExportedParticipant]
    scores: list[ExportedScore]
    aggregates: list[ExportedAggregate]
    overall: float | None = Field(description="Mean of the statement means (current round).")
    voters: int
    group_figures: list[ExportedGroup] = []
    hidden_groups: int = Field(default=0, description="Groups with answers too few to show on their own.")
    notes: list[ExportedNote]


def snapshot(board: Board, seq: int, now: datetime) -> BoardExport:
    """The board as it is at `seq`. Call it without awaiting in between: it reads live state."""
    statement_order = {sid: index for index, sid in enumerate(board.template.statement_ids())}
    scores = sorted(
        (
            ExportedScore(
                participant_id=participant_id,
                round=key.round,
                kind=key.kind,
                statement_id=key.statement_id,
                value=to_answer(value),
            )
            for (participant_id, key), value in board.scores.items()
        ),
        key=lambda s: (s.round, s.kind, statement_order.get(s.statement_id, 0), s.participant_id),
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
    shown_ids = {group.group.id for group in disclosed.groups}
    notes = []
    for area in board.template.areas:
        in_area = sorted((n for n in board.notes.values() if n.area_id == area.id), key=lambda n: (n.position, n.id))
        for order, note in enumerate(in_area):
            notes.append(
                ExportedNote(
                    id=note.id,
                    area_id=note.area_id,
                    order=order,
                    text=note.text,
                    color=note.color,
                    author_id=note.author_id,
                    statement_id=note.statement_id,
                    voter_ids=sorted(note.voters),
                    votes=len(note.voters),
                    version=note.version,
                    created_at=note.created_at,
                    updated_at=note.updated_at,
                )
            )
    return BoardExport(
        schema_version=SCHEMA_VERSION,
        exported_at=now,
        room=ExportedRoom(**dict(board.config), **dict(board.flow), created_at=board.created_at, seq=seq),
        template=board.template,
        # A person's group is kept only when the group is big enough to be shown: otherwise
        # its members' scores, read together with their group, would reveal the small group.
        participants=[
            ExportedParticipant(id=x.id, name=x.name, group=x.group if x.group in shown_ids else None)
            for x in board.participants.values()
        ],
        scores=scores,
        aggregates=aggregates,
        overall=sum(current) / len(current) if current else None,
        voters=board.voters,
        group_figures=group_figures,
        hidden_groups=disclosed.hidden_groups,
        notes=notes,
    )


def _aggregate(key: FigureKey, figures: p.Figures) -> ExportedAggregate:
    round_number, kind, statement_id = key
    return ExportedAggregate(
        **dict(figures), round=round_number, kind=kind, statement_id=statement_id, insight=insight_of(figures)
    )
