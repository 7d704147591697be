"""Persistence: transactions that store a room's events and score batches, rooms created,
imported, loaded, deleted.

Synchronous on purpose (SQLAlchemy's sync engine): one code path for SQLite and PostgreSQL.
Which thread a write runs on, and in what order, is app/writer.py's; what rows an event
changes is app/rows.py's. Knows nothing of sockets, rooms in memory or FastAPI.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Table, delete, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, text

from app import models as m
from app import protocol as p
from app.rows import ImportedRows, StoredRoom, event_writes, table
from app.tokens import matching

log = logging.getLogger(__name__)


# The score batch as each driver takes it fastest. SQLite: one executemany of plain tuples
# (sqlite3 loops in C). PostgreSQL: one statement over arrays (psycopg's executemany runs a
# Python generator per row, a sixth of the server's CPU at storm N=2000 on PostgreSQL).
SQLITE_SCORE_UPSERT = (
    "INSERT INTO score (room_id, participant_id, round, kind, statement_id, value) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (room_id, participant_id, round, kind, statement_id) DO UPDATE SET value = excluded.value"
)
SQLITE_SCORE_DELETE = (
    "DELETE FROM score WHERE room_id = ? AND participant_id = ? AND round = ? AND kind = ? AND statement_id = ?"
)
POSTGRES_SCORE_UPSERT = (
    "INSERT INTO score (room_id, participant_id, round, kind, statement_id, value) "
    "SELECT %s, * FROM unnest(%s::varchar[], %s::integer[], %s::varchar[], %s::varchar[], %s::integer[]) "
    "ON CONFLICT (room_id, participant_id, round, kind, statement_id) DO UPDATE SET value = excluded.value"
)
POSTGRES_SCORE_DELETE = (
    "DELETE FROM score AS s USING unnest(%s::varchar[], %s::integer[], %s::varchar[], %s::varchar[]) "
    "AS d(participant_id, round, kind, statement_id) WHERE s.room_id = %s AND s.participant_id = d.participant_id "
    "AND s.round = d.round AND s.kind = d.kind AND s.statement_id = d.statement_id"
)

ScoreRow = tuple[str, int, str, str]  # participant id, round, kind, statement id


def _write_scores_sqlite(
    db: Connection, room_id: str, values: list[tuple[ScoreRow, int]], cleared: list[ScoreRow]
) -> None:
    if cleared:
        db.exec_driver_sql(SQLITE_SCORE_DELETE, [(room_id, *key) for key in cleared])
    if values:
        db.exec_driver_sql(SQLITE_SCORE_UPSERT, [(room_id, *key, value) for key, value in values])


def _write_scores_postgres(
    db: Connection, room_id: str, values: list[tuple[ScoreRow, int]], cleared: list[ScoreRow]
) -> None:
    if cleared:
        db.exec_driver_sql(POSTGRES_SCORE_DELETE, (*(list(column) for column in zip(*cleared, strict=True)), room_id))
    if values:
        keys = [key for key, _ in values]
        columns = [list(column) for column in zip(*keys, strict=True)]
        db.exec_driver_sql(POSTGRES_SCORE_UPSERT, (room_id, *columns, [value for _, value in values]))


class JoinCodeTaken(Exception):
    """The random join code collided with a live room's; the caller draws another."""


@dataclass(frozen=True)
class StoredCommand:
    """One command's part of a transaction: who, its client id (None for joins), its events."""

    actor_id: str
    cid: str | None
    events: Sequence[p.Event]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_scores = _write_scores_postgres if engine.dialect.name == "postgresql" else _write_scores_sqlite
        # Built once: constructing an upsert costs more than executing it (the profile).
        # An edit or a move may change every column of a note but its id, its room and the
        # author name an imported note came with.
        notes = table(m.Note)
        fixed = {"id", "room_id", "author_name"}
        self._note_upsert = self._upsert(notes, [c.name for c in notes.columns if c.name not in fixed])

    def close(self) -> None:
        """After the writer has finished (app/writer.py): let the connections go."""
        self.engine.dispose()

    def _session(self) -> Session:
        # Rows handed out of the store stay readable after the commit.
        return Session(self.engine, expire_on_commit=False)

    def _upsert(self, table: Table, columns: Iterable[str]) -> Any:
        """INSERT … ON CONFLICT (primary key) DO UPDATE SET the columns, in this engine's dialect."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        keys = [column.name for column in table.primary_key.columns]
        return statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in columns}
        )

    def server_key(self, name: str, make: Callable[[], bytes]) -> bytes:
        """The deployment's key of that name, made (by `make`) the first time any instance
        asks; every instance then reads the same one."""
        keys = table(m.ServerKey)
        with self.engine.begin() as db:
            found = db.execute(select(keys.c.value).where(keys.c.name == name)).scalar()
            if found is None:
                dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
                fresh = base64.b64encode(make()).decode()
                db.execute(dialect.insert(keys).values(name=name, value=fresh).on_conflict_do_nothing())
                found = db.execute(select(keys.c.value).where(keys.c.name == name)).scalar_one()
        return base64.b64decode(found)

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
                for table in (m.Participant, m.Respondent, m.Note, m.NoteVote, m.Score):
                    if rows.get(table):
                        session.execute(insert(table), rows[table])
                session.commit()
        except IntegrityError as error:
            raise JoinCodeTaken from error

    def find_by_join_code(self, join_code: str, now: datetime) -> m.Room | None:
        with self._session() as session:
            query = select(m.Room).where(m.Room.join_code == join_code, col(m.Room.expires_at) > now)
            return session.exec(query).first()

    def join_codes_from(self, first: str, limit: int) -> list[str]:
        """The join codes stored rooms hold, from `first` on, in order (app/join_codes.py)."""
        with self._session() as session:
            query = select(m.Room.join_code).where(col(m.Room.join_code) >= first)
            return list(session.exec(query.order_by(col(m.Room.join_code)).limit(limit)).all())

    def get_room(self, room_id: str) -> m.Room | None:
        with self._session() as session:
            return session.get(m.Room, room_id)

    def room_expiry(self, room_id: str) -> datetime | None:
        """When the room expires; None when there is no such room (never made, deleted, or
        expired and swept away). A room's pages ask it on a visit (app/pages.py), so it reads
        one column of one row by its key: not the template, nor anything else of the room."""
        rooms = table(m.Room)
        with self.engine.connect() as db:
            expires_at: datetime | None = db.execute(
                select(rooms.c.expires_at).where(rooms.c.id == room_id)
            ).scalar_one_or_none()
        return expires_at

    def load_room(self, room_id: str) -> StoredRoom | None:
        with self._session() as session:
            room = session.get(m.Room, room_id)
            if room is None:
                return None
            participants = session.exec(select(m.Participant).where(m.Participant.room_id == room_id)).all()
            notes = session.exec(select(m.Note).where(m.Note.room_id == room_id)).all()
            votes = session.exec(select(m.NoteVote).where(m.NoteVote.room_id == room_id)).all()
            scores = session.exec(select(m.Score).where(m.Score.room_id == room_id)).all()
            respondents = session.exec(select(m.Respondent).where(m.Respondent.room_id == room_id)).all()
            applied = session.exec(select(m.AppliedCommand).where(m.AppliedCommand.room_id == room_id)).all()
            return StoredRoom(
                room=room,
                participants=list(participants),
                notes=list(notes),
                votes=list(votes),
                scores=list(scores),
                applied={(a.actor_id, a.cid): a.seq for a in applied},
                respondents=list(respondents),
            )

    def delete_room(self, room_id: str) -> bool:
        """Remove the room and everything in it, in one transaction."""
        with self._session() as session:
            for table in (m.AppliedCommand, m.Score, m.NoteVote, m.Note, m.Participant, m.Respondent, m.CoFacilitator):
                session.execute(delete(table).where(table.__table__.c.room_id == room_id))  # type: ignore[union-attr]
            result = session.execute(delete(m.Room).where(col(m.Room.id) == room_id))
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def expired_room_ids(self, now: datetime) -> list[str]:
        with self._session() as session:
            return list(session.exec(select(m.Room.id).where(col(m.Room.expires_at) <= now)).all())

    # ------------------------------------------------------------ co-facilitator keys
    #
    # Checked here, in the store, on every use (a hello, an export): whichever instance
    # owns the room or answers the request, a revoked key (a deleted row) is refused.

    def add_co_facilitator(self, row: m.CoFacilitator, limit: int) -> Literal["added", "full", "no_room"]:
        """Store a new co-facilitator key unless the room already has `limit` of them. The
        room's row is written first, so that two links made at once queue on it (a row
        lock in PostgreSQL, the write lock in SQLite) and cannot both slip under the limit."""
        keys = table(m.CoFacilitator)
        with self.engine.begin() as db:
            touched = db.execute(update(m.Room).where(col(m.Room.id) == row.room_id).values(seq=col(m.Room.seq)))
            if not touched.rowcount:
                return "no_room"
            held = db.execute(select(func.count()).select_from(keys).where(keys.c.room_id == row.room_id)).scalar_one()
            if held >= limit:
                return "full"
            db.execute(insert(keys).values(row.model_dump()))
        return "added"

    def co_facilitators(self, room_id: str) -> list[m.CoFacilitator]:
        """The room's co-facilitator keys, oldest first."""
        with self._session() as session:
            query = select(m.CoFacilitator).where(m.CoFacilitator.room_id == room_id)
            return list(session.exec(query.order_by(col(m.CoFacilitator.created_at), col(m.CoFacilitator.id))).all())

    def use_co_facilitator(self, room_id: str, token_hash: str, now: datetime) -> str | None:
        """The id of the room's co-facilitator key with this hash, noting its first use; None
        if there is none (never made, or revoked). Every key of the room is compared in
        constant time (app/tokens.py), as the facilitator's own is."""
        keys = table(m.CoFacilitator)
        with self.engine.begin() as db:
            query = select(keys.c.token_hash, keys.c.id, keys.c.used_at).where(keys.c.room_id == room_id)
            found = matching(token_hash, ((row.token_hash, row) for row in db.execute(query).all()))
            if found is None:
                return None
            if found.used_at is None:  # written once: later uses only read
                db.execute(update(keys).where(keys.c.id == found.id, keys.c.used_at.is_(None)).values(used_at=now))
        return str(found.id)

    def revoke_co_facilitator(self, room_id: str, co_facilitator_id: str) -> bool:
        """Delete the key: from now on nothing accepts it. False if the room had no such key."""
        keys = table(m.CoFacilitator)
        with self.engine.begin() as db:
            gone = db.execute(delete(keys).where(keys.c.room_id == room_id, keys.c.id == co_facilitator_id))
        return bool(gone.rowcount)

    # ------------------------------------------------------------ events
    #
    # The live room's writes, on the hot path of every note and join: SQLAlchemy Core on
    # one connection and transaction, no ORM session (its unit of work cost a few ms of
    # GIL-holding Python per note, measured in docs/performance.md).

    def commit_events(
        self,
        room_id: str,
        commands: Sequence[StoredCommand],
        seq: int,
        new_participants: Sequence[m.Participant] = (),
    ) -> None:
        """Write what the commands' events change, and their command ids, in one transaction."""
        with self.engine.begin() as db:
            self.write_events(db, room_id, commands, seq, new_participants)

    def write_events(
        self,
        db: Connection,
        room_id: str,
        commands: Sequence[StoredCommand],
        seq: int,
        new_participants: Sequence[m.Participant],
    ) -> None:
        if new_participants:
            db.execute(insert(table(m.Participant)), [row.model_dump() for row in new_participants])
        applied = []
        for command in commands:
            for event in command.events:
                for statement, parameters in event_writes(room_id, command.actor_id, event, self._note_upsert):
                    db.execute(statement, parameters)
            if command.cid is not None:
                applied.append({"room_id": room_id, "actor_id": command.actor_id, "cid": command.cid, "seq": seq})
        if applied:
            db.execute(insert(table(m.AppliedCommand)), applied)
        db.execute(update(m.Room).where(col(m.Room.id) == room_id, col(m.Room.seq) < seq).values(seq=seq))

    def flush_scores(self, room_id: str, changes: Mapping[ScoreRow, int | None], seq: int) -> None:
        """Write a batch of score changes in one transaction, straight to the driver:
        SQLAlchemy's per-row parameter handling cost more than the database's own work,
        under the GIL the event loop needs (docs/performance.md)."""
        cleared = [row for row, value in changes.items() if value is None]
        values = [(row, value) for row, value in changes.items() if value is not None]
        with self.engine.begin() as db:
            self._write_scores(db, room_id, values, cleared)
            db.execute(update(m.Room).where(col(m.Room.id) == room_id, col(m.Room.seq) < seq).values(seq=seq))
