"""The exported board: one versioned, self-describing document (schema_version 1).

Built from a live room's state in one synchronous step, so an export is a consistent
snapshot at one seq even while people keep writing. Pure: no I/O, no FastAPI. The JSON
Schema of `BoardExport` is served at /api/schema/export.json (see docs/export.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app import protocol as p
from app.aggregates import Aggregate, AggregateKey
from app.board import Board, to_answer
from app.insight import classify
from app.templates.model import Language, Template
from app.text import PlainText, SafeStr

SCHEMA_VERSION = 1


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportedRoom(_Part):
    title: Annotated[str, PlainText(min_length=1, max_length=120)]
    language: Language
    phase: p.Phase
    results_visible: bool
    voting_locked: bool
    timer_ends_at: datetime | None
    groups: list[p.GroupDef]
    group_min_size: int = Field(default=3, ge=2, description="k: smaller groups are never shown on their own.")
    desired_enabled: bool = Field(default=False, description="Whether the room asks where we want to be.")
    round: int = Field(ge=1)
    created_at: datetime
    seq: int = Field(ge=0, description="The room's sequence number this snapshot was taken at.")


class ExportedParticipant(_Part):
    id: SafeStr
    name: SafeStr | None = Field(description="Only when the participant gave one.")
    group: SafeStr | None


class ExportedScore(_Part):
    participant_id: SafeStr
    round: int = Field(ge=1)
    kind: p.ScoreKind
    statement_id: SafeStr
    value: p.Answer


class ExportedAggregate(_Part):
    round: int
    kind: p.ScoreKind
    statement_id: SafeStr
    n: int
    unknown: int = Field(description='Answers of "don\'t know" (never part of n, mean, median or sd).')
    mean: float | None
    median: float | None
    sd: float | None
    histogram: list[int] = Field(min_length=10, max_length=10)
    insight: p.Insight | None = Field(default=None, description="How the group is spread (docs/insight.md).")


class ExportedNote(_Part):
    id: SafeStr
    area_id: SafeStr
    order: int = Field(ge=0, description="0-based place within its area.")
    text: Annotated[str, PlainText(min_length=1, max_length=500)]
    color: p.Color
    author_id: SafeStr
    statement_id: SafeStr | None = Field(default=None, description="The statement the note is linked to, if any.")
    voter_ids: list[SafeStr]
    votes: int
    version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class ExportedGroup(_Part):
    """A group's figures in the current round; only groups of at least k voters appear."""

    group_id: SafeStr
    name: SafeStr
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
    rounds = sorted({key.round for key in board.aggregates} | {board.round})
    kinds: list[p.ScoreKind] = ["today", "desired"] if board.desired_enabled else ["today"]
    aggregates = []
    for round_number in rounds:
        for kind in kinds:
            for statement_id in board.template.statement_ids():
                key = AggregateKey(round_number, kind, statement_id)
                aggregates.append(_aggregate(key, board.aggregates.get(key) or Aggregate()))
    current = [a.mean for a in aggregates if a.round == board.round and a.kind == "today" and a.mean is not None]
    shown = {group.id for group in board.shown_groups()}
    group_figures = [
        ExportedGroup(
            group_id=group.id,
            name=group.name,
            voters=board.group_voters.get(group.id, 0),
            aggregates=[
                _aggregate(key, board.aggregates.get(key) or Aggregate())
                for key in (AggregateKey(board.round, "today", sid, group.id) for sid in board.template.statement_ids())
            ],
        )
        for group in board.shown_groups()
    ]
    answering = sum(1 for g in board.groups if board.group_voters.get(g.id, 0) > 0)
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
        room=ExportedRoom(
            title=board.title,
            language=board.language,
            phase=board.phase,
            results_visible=board.results_visible,
            voting_locked=board.voting_locked,
            timer_ends_at=board.timer_ends_at,
            groups=list(board.groups),
            group_min_size=board.group_min_size,
            desired_enabled=board.desired_enabled,
            round=board.round,
            created_at=board.created_at,
            seq=seq,
        ),
        template=board.template,
        # A person's group is kept only when the group is big enough to be shown: otherwise
        # its members' scores, read together with their group, would reveal the small group.
        participants=[
            ExportedParticipant(id=x.id, name=x.name, group=x.group if x.group in shown else None)
            for x in board.participants.values()
        ],
        scores=scores,
        aggregates=aggregates,
        overall=sum(current) / len(current) if current else None,
        voters=board.voters,
        group_figures=group_figures,
        hidden_groups=answering - len(group_figures),
        notes=notes,
    )


def _aggregate(key: AggregateKey, aggregate: Aggregate) -> ExportedAggregate:
    return ExportedAggregate(
        round=key.round,
        kind=key.kind,
        statement_id=key.statement_id,
        n=aggregate.n,
        unknown=aggregate.unknown,
        mean=aggregate.mean,
        median=aggregate.median,
        sd=aggregate.sd,
        histogram=list(aggregate.histogram),
        insight=classify(aggregate.histogram),
    )
