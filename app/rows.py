"""How a room lies in the tables: the one place that maps between the board (and the
events that change it, and an imported export) and database rows.

The room's configuration and flow lie in its row as two JSON documents, `config_json` and
`flow_json`: `RoomConfig` and `RoomFlow` dumped as JSON, read back tolerantly (a key the
document lacks reads as the field's default, one this version does not know is ignored and
kept when the document is changed). A field added to either needs nothing here, nor in
app/models.py or app/store.py, nor a migration. A flow event sets the flow fields it carries
by their names (`flow_fields`); `room_updated` sets the whole configuration.

Expand/contract, for rolling upgrades. Migration 0009 only expanded: it added the documents
and filled them from the columns the previous version keeps the fields in
(`PREVIOUS_COLUMNS`), and kept those. While an instance of the previous version may still
serve, this version writes both, so that instance reads current values, and reads those
columns over the documents, since that instance writes only the columns. The contract step
comes once no instance of the previous version runs, in two releases (each deployed when no
instance of the one before it runs; the migrations say how): the first fills the documents
again from the columns, makes them nullable, and reads and writes the documents alone,
marking each it writes with `COLUMNS_RETIRED` so that an instance of this version beside it
reads that room from its documents too; the second drops the columns. `PREVIOUS_COLUMNS`
and the code that reads and writes them go with the first (app/api.py's join lookup then
reads `config_of(row).title`, not `row.title`), the columns in app/models.py with the second.

Pure: builds rows and statements, runs none of them (app/store.py owns connections and
transactions). Must not import the store, the live room or FastAPI.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import Executable, Table, Text, delete, insert, literal, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import SQLModel, col

from app import models as m
from app import protocol as p
from app.aggregates import AggregateKey
from app.board import FACILITATOR_ID, Board, Note, Participant
from app.clock import as_utc
from app.export_answers import Respondent
from app.snapshot import BoardExport
from app.templates.model import Template

Shape = TypeVar("Shape", bound=BaseModel)
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
    respondents: list[m.Respondent] = field(default_factory=list)


# ---------------------------------------------------------------- the room row

# Where the version before migration 0009 keeps each field of the configuration and the flow:
# a column of its name, or `name_json` for a list or a model. Frozen: a field added from now
# on lives in its document only.
PREVIOUS_COLUMNS: dict[str, str] = {
    "title": "title",
    "language": "language",
    "groups": "groups_json",
    "group_min_size": "group_min_size",
    "desired_enabled": "desired_enabled",
    "case_number": "case_number",
    "phase": "phase",
    "results_visible": "results_visible",
    "voting_locked": "voting_locked",
    "timer_ends_at": "timer_ends_at",
    "round": "round",
    "screen": "screen_json",
}
# The key (never a field's name: pydantic fields cannot start with "_") by which a later
# version, one that no longer keeps those columns, marks a document it wrote as the whole
# truth: this version then reads that document alone (the contract step below).
COLUMNS_RETIRED = "_columns_retired"


class _JsonWithKeys(FunctionElement[str]):
    """A JSON object column with some keys set, each to a JSON text, and every other key kept
    (also one a newer version wrote that this one does not know): `json_set` in SQLite,
    jsonb's `||` in PostgreSQL. Arguments: the column, then key, value, key, value…"""

    type = Text()
    name = "json_with_keys"
    inherit_cache = True


@compiles(_JsonWithKeys, "sqlite")
def _json_set(element: _JsonWithKeys, compiler: Any, **kw: Any) -> str:
    column, *pairs = (compiler.process(clause, **kw) for clause in element.clauses)
    keys_and_values = [f"'$.' || {key}, json({value})" for key, value in zip(pairs[::2], pairs[1::2], strict=True)]
    return f"json_set({column}, {', '.join(keys_and_values)})"


@compiles(_JsonWithKeys, "postgresql")
def _jsonb_concat(element: _JsonWithKeys, compiler: Any, **kw: Any) -> str:
    column, *pairs = (compiler.process(clause, **kw) for clause in element.clauses)
    keys_and_values = [
        f"CAST({key} AS TEXT), CAST({value} AS JSONB)" for key, value in zip(pairs[::2], pairs[1::2], strict=True)
    ]
    return f"CAST(CAST({column} AS JSONB) || jsonb_build_object({', '.join(keys_and_values)}) AS TEXT)"


def _with_keys(document: str, values: dict[str, Any]) -> _JsonWithKeys:
    """The room row's `document` column with these keys set to these JSON-ready values."""
    arguments: list[Any] = [table(m.Room).c[document]]
    for key, value in values.items():
        arguments += [literal(key), literal(json.dumps(value))]
    return _JsonWithKeys(*arguments)


def _previous_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The fields' values in the previous version's columns, for the fields that have one:
    an instance of that version reading the row sees what this one wrote."""
    columns: dict[str, Any] = {}
    for name, value in values.items():
        column = PREVIOUS_COLUMNS.get(name)
        if column is not None:
            columns[column] = json.dumps(to_jsonable_python(value)) if column.endswith("_json") else value
    return columns


def _read(row: m.Room, document: str, shape: type[Shape]) -> Shape:
    """The shape as the row holds it: its document, then the previous version's columns over
    it, as that version may have written them since (times as UTC: SQLite forgets the zone),
    unless the document says those columns are retired. A key the document lacks (a field
    added after the row was written) reads as the field's default; one this version does not
    know (written by a newer one) is ignored."""
    fields: dict[str, Any] = json.loads(getattr(row, document))
    if fields.get(COLUMNS_RETIRED) is True:
        return shape.model_validate(fields, extra="ignore")
    for name in shape.model_fields:
        column = PREVIOUS_COLUMNS.get(name)
        if column is None:
            continue
        value = getattr(row, column)
        if column.endswith("_json"):
            fields[name] = json.loads(value)
        else:
            fields[name] = as_utc(value) if isinstance(value, datetime) else value
    return shape.model_validate(fields, extra="ignore")


def config_columns(config: p.RoomConfig) -> dict[str, Any]:
    """A new row's columns for the configuration."""
    return {"config_json": config.model_dump_json(), **_previous_columns(dict(config))}


def flow_columns(flow: p.RoomFlow) -> dict[str, Any]:
    """A new row's columns for the flow."""
    return {"flow_json": flow.model_dump_json(), **_previous_columns(dict(flow))}


def config_of(row: m.Room) -> p.RoomConfig:
    return _read(row, "config_json", p.RoomConfig)


def flow_of(row: m.Room) -> p.RoomFlow:
    return _read(row, "flow_json", p.RoomFlow)


# Flow events that name a field otherwise than the flow does (None: not part of the flow).
_FLOW_NAMES: dict[str, dict[str, str | None]] = {
    "results_visibility": {"visible": "results_visible"},
    "voting_locked": {"locked": "voting_locked"},
    "timer_changed": {"ends_at": "timer_ends_at", "seconds": None},
}


@cache
def flow_fields(event_type: type[BaseModel]) -> dict[str, str]:
    """The flow fields an event of this type sets, as event field -> flow field. A flow event
    carries nothing but new values of flow fields, under the flow's own names (`phase` of
    `phase_changed`; three older events rename theirs, above), so an event added with a new
    flow field needs nothing here; any other event sets none."""
    names = _FLOW_NAMES.get(event_type.model_fields["type"].default, {})
    carried = {name: names.get(name, name) for name in event_type.model_fields if name not in ("type", "seq")}
    fields = {name: flow for name, flow in carried.items() if flow is not None}
    return fields if set(fields.values()) <= set(p.RoomFlow.model_fields) else {}


def _flow_changes(event: BaseModel) -> dict[str, Any]:
    """The row's columns an event changes in the flow: its document, by key, and the previous
    version's columns."""
    changes = {flow: getattr(event, name) for name, flow in flow_fields(type(event)).items()}
    if not changes:
        return {}
    values = p.RoomFlow.model_construct(**changes).model_dump(mode="json", include=set(changes))
    return {"flow_json": _with_keys("flow_json", values), **_previous_columns(changes)}


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
    for respondent in stored.respondents:
        board.respondents[respondent.id] = respondent.group
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
        case p.RoomUpdated():
            # Merged into the document, not put in its place: keys of a newer version stay.
            config = p.RoomConfig.of(event)
            room_values["config_json"] = _with_keys("config_json", config.model_dump(mode="json"))
            room_values.update(_previous_columns(dict(config)))
            known = [g.id for g in event.groups]
            for answering in (m.Participant, m.Respondent):
                yield (
                    update(answering)
                    .where(col(answering.room_id) == room_id, col(answering.group).not_in(known))
                    .values(group=None),
                    None,
                )
        case p.ParticipantUpdated(participant=who):
            named = update(m.Participant).where(col(m.Participant.id) == who.id)
            yield named.values(name=who.name, group=who.group), None
        case p.ParticipantJoined() | p.ScoreSet() | p.RoomDeleted():
            pass  # joins carry their row in the commit; scores go in batches
        case _:
            room_values.update(_flow_changes(event))
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

    One respondent per respondent of the file (with its answers, and its group where the
    import restored it), then as many silent ones as the room had people beyond them: none
    of them a participant, since nobody can join as anyone from a file. Note authors and
    voters get ids of their own and no row: a note keeps its author's name in its own
    column."""
    people = [("r_" + secrets.token_urlsafe(12), respondent) for respondent in respondents]
    silent = [("r_" + secrets.token_urlsafe(12), None) for _ in range(export.participants - len(people))]
    answering: list[dict[str, object]] = [
        {
            "id": respondent_id,
            "room_id": room_id,
            "group": respondent.group if respondent else None,
            "created_at": now,
        }
        for respondent_id, respondent in [*people, *silent]
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
            "participant_id": respondent_id,
            "round": answer.round,
            "kind": answer.kind,
            "statement_id": answer.statement_id,
            "value": answer.grouped,
        }
        for respondent_id, respondent in people
        for answer in respondent.answers
        # As the groups' figures counted it (the room's last full release): a change the k
        # rule had not released stays unshown (docs/insight.md); restoring it here would
        # release it in the new room.
        if answer.grouped is not None
    ]
    return {m.Respondent: answering, m.Note: notes, m.NoteVote: votes, m.Score: scores}
