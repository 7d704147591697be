"""How a room lies in the tables: the one place that maps between the board (and the
events that change it, and an imported export) and database rows.

The room's configuration and flow are mapped field by field, by name: a field added to
`RoomConfig` or `RoomFlow` needs a column of the same name in app/models.py (`name_json`,
holding JSON, for a list or a model) and nothing here (tests/test_rows.py holds the two in
step). Pure: builds rows and statements, runs
none of them (app/store.py owns connections and transactions). Must not import the store,
the live room or FastAPI.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import Executable, Table, delete, insert, update
from sqlmodel import SQLModel, col

from app import models as m
from app import protocol as p
from app.aggregates import AggregateKey
from app.board import FACILITATOR_ID, Board, Note, Participant
from app.clock import as_utc
from app.export_answers import Respondent
from app.snapshot import BoardExport
from app.templates.model import Template
from app.tokens import hash_token

# Rows of an imported room by table, as column -> value dicts.
ImportedRows = dict[type[SQLModel], list[dict[str, object]]]
# One statement to run, with its parameters (None: none).
Write = tuple[Executable, dict[str, object] | None]


def table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


@dataclass
class StoredRoom:
    """A room's rows as loaded, before they become a board."""

    room: m.Room
    participants: list[m.Participant]
    notes: list[m.Note]
    votes: list[m.NoteVote]
    scores: list[m.Score]
    applied: dict[tuple[str, str], int] = field(default_factory=dict)


# ---------------------------------------------------------------- the room row


def _columns(shape: BaseModel) -> dict[str, Any]:
    """A shape's fields as columns of the room row: by name, or as JSON in `name_json` for a
    list or a model (groups, the screen)."""
    columns: dict[str, Any] = {}
    for name in type(shape).model_fields:
        value = getattr(shape, name)
        if isinstance(value, list | BaseModel):
            columns[f"{name}_json"] = json.dumps(to_jsonable_python(value))
        else:
            columns[name] = value
    return columns


def _fields(row: m.Room, shape: type[BaseModel]) -> dict[str, Any]:
    """The shape's fields read back from the row (times as UTC: SQLite forgets the zone)."""
    fields: dict[str, Any] = {}
    for name in shape.model_fields:
        if hasattr(row, f"{name}_json"):
            fields[name] = json.loads(getattr(row, f"{name}_json"))
        else:
            value = getattr(row, name)
            fields[name] = as_utc(value) if isinstance(value, datetime) else value
    return fields


def config_columns(config: p.RoomConfig) -> dict[str, Any]:
    return _columns(config)


def flow_columns(flow: p.RoomFlow) -> dict[str, Any]:
    return _columns(flow)


def config_of(row: m.Room) -> p.RoomConfig:
    return p.RoomConfig.model_validate(_fields(row, p.RoomConfig))


def flow_of(row: m.Room) -> p.RoomFlow:
    return p.RoomFlow.model_validate(_fields(row, p.RoomFlow))


def room_row(
    room_id: str,
    template: Template,
    config: p.RoomConfig,
    flow: p.RoomFlow,
    created_at: datetime,
    expires_at: datetime,
    seq: int = 0,
) -> m.Room:
    """A new room's row. Its join code and facilitator token hash are set when it is opened
    (app/api.py), where a free code is found."""
    return m.Room(
        id=room_id,
        join_code="",
        template_json=template.model_dump_json(),
        **config_columns(config),
        **flow_columns(flow),
        seq=seq,
        facilitator_token_hash="",
        created_at=created_at,
        expires_at=expires_at,
    )


# ---------------------------------------------------------------- rows -> board


def board_of(stored: StoredRoom, max_notes: int) -> Board:
    """The board as its rows describe it (the only full scan of a room's scores)."""
    row = stored.room
    board = Board(
        room_id=row.id,
        template=Template.model_validate_json(row.template_json),
        config=config_of(row),
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        flow=flow_of(row),
        join_code=row.join_code,
        max_notes=max_notes,
    )
    for person in stored.participants:
        board.participants[person.id] = Participant(person.id, person.name, person.group)
    voters: dict[str, set[str]] = {}
    for vote in stored.votes:
        voters.setdefault(vote.note_id, set()).add(vote.voter_id)
    for note in stored.notes:
        board.notes[note.id] = Note(
            id=note.id,
            area_id=note.area_id,
            text=note.text,
            color=note.color,  # type: ignore[arg-type]
            author_id=note.author_id,
            statement_id=note.statement_id,
            position=note.position,
            created_at=as_utc(note.created_at),
            updated_at=as_utc(note.updated_at),
            version=note.version,
            voters=voters.get(note.id, set()),
            author_name=note.author_name,
        )
    # Earlier rounds first: the current round's moves are counted against them.
    for score in sorted(stored.scores, key=lambda s: s.round):
        board.load_score(score.participant_id, AggregateKey(score.round, score.kind, score.statement_id), score.value)
    board.settle_loaded()
    return board


# ---------------------------------------------------------------- events -> rows


def event_writes(room_id: str, actor_id: str, event: p.Event, note_upsert: Executable) -> Iterator[Write]:
    """What one applied event changes in the tables. `note_upsert` is the store's prebuilt
    INSERT … ON CONFLICT for notes (building one costs more than running it)."""
    votes = table(m.NoteVote)
    room_values: dict[str, object] = {}
    match event:
        case p.NoteAdded(note=note) | p.NoteUpdated(note=note):
            yield (
                note_upsert,
                {
                    "id": note.id,
                    "room_id": room_id,
                    "area_id": note.area_id,
                    "text": note.text,
                    "color": note.color,
                    "author_id": note.author_id,
                    "statement_id": note.statement_id,
                    "position": note.position,
                    "version": note.version,
                    "created_at": note.created_at,
                    "updated_at": note.updated_at,
                },
            )
        case p.NoteDeleted():
            yield delete(votes).where(votes.c.note_id == event.note_id), None
            yield delete(m.Note).where(col(m.Note.id) == event.note_id), None
        case p.MyVote():
            yield delete(votes).where(votes.c.note_id == event.note_id, votes.c.voter_id == actor_id), None
            if event.voted:
                yield insert(votes), {"note_id": event.note_id, "voter_id": actor_id, "room_id": room_id}
        case p.PhaseChanged():
            room_values["phase"] = event.phase
        case p.ResultsVisibility():
            room_values["results_visible"] = event.visible
        case p.VotingLocked():
            room_values["voting_locked"] = event.locked
        case p.TimerChanged():
            room_values["timer_ends_at"] = event.ends_at
        case p.RoundStarted():
            room_values["round"] = event.round
        case p.ScreenChanged():
            room_values["screen_json"] = event.screen.model_dump_json()
        case p.RoomUpdated():
            room_values.update(config_columns(p.RoomConfig.of(event)))
            known = [g.id for g in event.groups]
            yield (
                update(m.Participant)
                .where(col(m.Participant.room_id) == room_id, col(m.Participant.group).not_in(known))
                .values(group=None),
                None,
            )
        case p.ParticipantUpdated(participant=who):
            named = update(m.Participant).where(col(m.Participant.id) == who.id)
            yield named.values(name=who.name, group=who.group), None
        case p.ParticipantJoined() | p.ScoreSet() | p.RoomDeleted():
            pass  # joins carry their row in the commit; scores go in batches
    if room_values:
        yield update(m.Room).where(col(m.Room.id) == room_id).values(**room_values), None


# ---------------------------------------------------------------- export -> rows


def imported_room_row(export: BoardExport, room_id: str, now: datetime, expires_at: datetime) -> m.Room:
    return room_row(
        room_id,
        export.template,
        p.RoomConfig.of(export.room),
        p.RoomFlow.of(export.room),
        created_at=now,
        expires_at=expires_at,
        seq=export.room.seq,
    )


def imported_rows(export: BoardExport, room_id: str, now: datetime, respondents: list[Respondent]) -> ImportedRows:
    """The export's rows under fresh ids, as plain dicts for one bulk insert per table.

    One anonymous participant per respondent (with its answers, and its group where the
    import restored it), then as many silent ones as the room had beyond them. Note authors
    and voters get ids of their own and no participant row: a note keeps its author's name
    in its own column, and nobody can act as anyone from a file."""
    people = [("p_" + secrets.token_urlsafe(12), respondent) for respondent in respondents]
    silent = [("p_" + secrets.token_urlsafe(12), None) for _ in range(export.participants - len(people))]
    participants: list[dict[str, object]] = [
        {
            "id": participant_id,
            "room_id": room_id,
            # Nobody holds this token: identities do not carry over from a file.
            "token_hash": hash_token(secrets.token_urlsafe(32)),
            "name": None,
            "group": respondent.group if respondent else None,
            "created_at": now,
        }
        for participant_id, respondent in [*people, *silent]
    ]
    others: dict[str, str] = {FACILITATOR_ID: FACILITATOR_ID}

    def other(pseudonym: str) -> str:
        return others.setdefault(pseudonym, "x_" + secrets.token_urlsafe(12))

    notes: list[dict[str, object]] = []
    votes: list[dict[str, object]] = []
    for note in export.notes:
        note_id = "n_" + secrets.token_hex(12)
        notes.append(
            {
                "id": note_id,
                "room_id": room_id,
                "area_id": note.area_id,
                "text": note.text,
                "color": note.color,
                "author_id": other(f"author:{note.author}") if note.author != FACILITATOR_ID else FACILITATOR_ID,
                "author_name": note.author_name,
                "statement_id": note.statement_id,
                "position": float(note.order + 1),
                "version": note.version,
                "created_at": note.created_at,
                "updated_at": note.updated_at,
            }
        )
        votes += [
            {"note_id": note_id, "voter_id": other(f"voter:{v}") if v != FACILITATOR_ID else v, "room_id": room_id}
            for v in note.voters
        ]
    scores: list[dict[str, object]] = [
        {
            "room_id": room_id,
            "participant_id": participant_id,
            "round": answer.round,
            "kind": answer.kind,
            "statement_id": answer.statement_id,
            "value": answer.grouped,
        }
        for participant_id, respondent in people
        for answer in respondent.answers
        # As the groups' figures counted it (the room's last full release): a change the k
        # rule had not released stays unshown (docs/insight.md); restoring it here would
        # release it in the new room.
        if answer.grouped is not None
    ]
    return {m.Participant: participants, m.Note: notes, m.NoteVote: votes, m.Score: scores}
