"""Persistence: the room's events projected onto rows, and rooms loaded back from them.

Synchronous on purpose (SQLAlchemy's sync engine, called from a worker thread by the live
room): one code path for SQLite and PostgreSQL. Knows the tables and the protocol's event
types; knows nothing of sockets, rooms in memory or FastAPI.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select, text

from app import models as m
from app import protocol as p
from app.aggregates import AggregateKey
from app.templates.model import Template


def hash_token(token: str) -> str:
    """Tokens are stored only as hashes: a leaked database leaks no way into a room."""
    return hashlib.sha256(token.encode()).hexdigest()


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in the app is UTC-aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Rows of an imported room by table, as column -> value dicts.
ImportedRows = dict[type[SQLModel], list[dict[str, object]]]


class JoinCodeTaken(Exception):
    """The random join code collided with a live room's; the caller draws another."""


@dataclass
class StoredRoom:
    room: m.Room
    template: Template
    groups: list[p.GroupDef]
    participants: list[m.Participant]
    notes: list[m.Note]
    votes: list[m.NoteVote]
    scores: list[m.Score]
    applied: dict[tuple[str, str], int] = field(default_factory=dict)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        # Rows handed out of the store stay readable after the commit.
        return Session(self.engine, expire_on_commit=False)

    def _upsert(self, table: Any) -> Any:
        """INSERT … ON CONFLICT (primary key) DO UPDATE SET value, in this engine's dialect."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        keys = [column.name for column in table.primary_key.columns]
        return statement.on_conflict_do_update(index_elements=keys, set_={"value": statement.excluded.value})

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # ------------------------------------------------------------ rooms

    def create_room(self, room: m.Room) -> None:
        try:
            with self._session() as session:
                session.add(room)
                session.commit()
        except IntegrityError as error:
            raise JoinCodeTaken from error

    def import_room(self, room: m.Room, rows: ImportedRows) -> None:
        """A whole room in one transaction: all of it is stored, or none of it. Rows go in
        as executemany batches of plain dicts (a 500-person, 1,000-note board is ~9,000)."""
        try:
            with self._session() as session:
                session.add(room)
                session.flush()
                for table in (m.Participant, m.Note, m.NoteVote, m.Score):
                    if rows.get(table):
                        session.execute(insert(table), rows[table])
                session.commit()
        except IntegrityError as error:
            raise JoinCodeTaken from error

    def find_by_join_code(self, join_code: str, now: datetime) -> m.Room | None:
        with self._session() as session:
            query = select(m.Room).where(m.Room.join_code == join_code, col(m.Room.expires_at) > now)
            return session.exec(query).first()

    def get_room(self, room_id: str) -> m.Room | None:
        with self._session() as session:
            return session.get(m.Room, room_id)

    def load_room(self, room_id: str) -> StoredRoom | None:
        with self._session() as session:
            room = session.get(m.Room, room_id)
            if room is None:
                return None
            participants = session.exec(select(m.Participant).where(m.Participant.room_id == room_id)).all()
            notes = session.exec(select(m.Note).where(m.Note.room_id == room_id)).all()
            votes = session.exec(select(m.NoteVote).where(m.NoteVote.room_id == room_id)).all()
            scores = session.exec(select(m.Score).where(m.Score.room_id == room_id)).all()
            applied = session.exec(select(m.AppliedCommand).where(m.AppliedCommand.room_id == room_id)).all()
            return StoredRoom(
                room=room,
                template=Template.model_validate_json(room.template_json),
                groups=[p.GroupDef.model_validate(g) for g in json.loads(room.groups_json)],
                participants=list(participants),
                notes=list(notes),
                votes=list(votes),
                scores=list(scores),
                applied={(a.actor_id, a.cid): a.seq for a in applied},
            )

    def delete_room(self, room_id: str) -> bool:
        """Remove the room and everything in it, in one transaction."""
        with self._session() as session:
            for table in (m.AppliedCommand, m.Score, m.NoteVote, m.Note, m.Participant):
                session.execute(delete(table).where(table.__table__.c.room_id == room_id))  # type: ignore[union-attr]
            result = session.execute(delete(m.Room).where(col(m.Room.id) == room_id))
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def expired_room_ids(self, now: datetime) -> list[str]:
        with self._session() as session:
            return list(session.exec(select(m.Room.id).where(col(m.Room.expires_at) <= now)).all())

    def count_rooms(self) -> int:
        with self._session() as session:
            return session.exec(select(func.count()).select_from(m.Room)).one()

    # ------------------------------------------------------------ events

    def commit_events(
        self,
        room_id: str,
        actor_id: str,
        cid: str | None,
        events: Iterable[p.Event],
        seq: int,
        new_participant: m.Participant | None = None,
    ) -> None:
        """Write what the events change, and the command id, in one transaction."""
        with self._session() as session:
            if new_participant is not None:
                session.add(new_participant)
            for event in events:
                self._project(session, room_id, actor_id, event)
            if cid is not None:
                session.add(m.AppliedCommand(room_id=room_id, actor_id=actor_id, cid=cid, seq=seq))
            session.execute(update(m.Room).where(col(m.Room.id) == room_id, col(m.Room.seq) < seq).values(seq=seq))
            session.commit()

    def _project(self, session: Session, room_id: str, actor_id: str, event: p.Event) -> None:
        room_values: dict[str, object] = {}
        match event:
            case p.NoteAdded(note=note) | p.NoteUpdated(note=note):
                session.merge(
                    m.Note(
                        id=note.id,
                        room_id=room_id,
                        area_id=note.area_id,
                        text=note.text,
                        color=note.color,
                        author_id=note.author_id,
                        statement_id=note.statement_id,
                        position=note.position,
                        version=note.version,
                        created_at=note.created_at,
                        updated_at=note.updated_at,
                    )
                )
            case p.NoteDeleted():
                session.execute(delete(m.NoteVote).where(col(m.NoteVote.note_id) == event.note_id))
                session.execute(delete(m.Note).where(col(m.Note.id) == event.note_id))
            case p.MyVote():
                session.flush()
                session.execute(
                    delete(m.NoteVote).where(
                        col(m.NoteVote.note_id) == event.note_id,
                        col(m.NoteVote.voter_id) == actor_id,
                    )
                )
                if event.voted:
                    session.add(m.NoteVote(note_id=event.note_id, voter_id=actor_id, room_id=room_id))
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
            case p.RoomUpdated():
                room_values.update(
                    title=event.title,
                    language=event.language,
                    group_min_size=event.group_min_size,
                    desired_enabled=event.desired_enabled,
                    groups_json=json.dumps([g.model_dump() for g in event.groups]),
                )
                known = [g.id for g in event.groups]
                session.execute(
                    update(m.Participant)
                    .where(col(m.Participant.room_id) == room_id, col(m.Participant.group).not_in(known))
                    .values(group=None)
                )
            case p.ParticipantUpdated(participant=who):
                session.execute(
                    update(m.Participant).where(col(m.Participant.id) == who.id).values(name=who.name, group=who.group)
                )
            case p.ParticipantJoined() | p.ScoreSet() | p.RoomDeleted():
                pass  # joins carry their row in commit_events; scores go in batches
        if room_values:
            session.execute(update(m.Room).where(col(m.Room.id) == room_id).values(**room_values))

    def flush_scores(self, room_id: str, changes: Mapping[tuple[str, AggregateKey], int | None], seq: int) -> None:
        """Write a batch of score changes in one transaction: one executemany upsert for the
        values, one executemany delete for the cleared (usually none). Profiling showed a
        delete-then-insert per score costing a quarter of the server's time under load."""
        cleared = [
            {"p": participant_id, "r": key.round, "k": key.kind, "s": key.statement_id}
            for (participant_id, key), value in changes.items()
            if value is None
        ]
        rows = [
            {
                "room_id": room_id,
                "participant_id": participant_id,
                "round": key.round,
                "kind": key.kind,
                "statement_id": key.statement_id,
                "value": value,
            }
            for (participant_id, key), value in changes.items()
            if value is not None
        ]
        table = m.Score.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            if cleared:
                connection.execute(
                    delete(table).where(
                        table.c.room_id == room_id,
                        table.c.participant_id == bindparam("p"),
                        table.c.round == bindparam("r"),
                        table.c.kind == bindparam("k"),
                        table.c.statement_id == bindparam("s"),
                    ),
                    cleared,
                )
            if rows:
                connection.execute(self._upsert(table), rows)
            connection.execute(update(m.Room).where(col(m.Room.id) == room_id, col(m.Room.seq) < seq).values(seq=seq))
