"""Persistence: the room's events projected onto rows, and rooms loaded back from them.

Synchronous on purpose (SQLAlchemy's sync engine, called from a worker thread by the live
room): one code path for SQLite and PostgreSQL. Knows the tables and the protocol's event
types; knows nothing of sockets, rooms in memory or FastAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, col, select, text

from app import models as m
from app import protocol as p
from app.templates.model import Template

log = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    """Tokens are stored only as hashes: a leaked database leaks no way into a room."""
    return hashlib.sha256(token.encode()).hexdigest()


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in the app is UTC-aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Rows of an imported room by table, as column -> value dicts.
ImportedRows = dict[type[SQLModel], list[dict[str, object]]]


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


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


# A direct commit (on the caller's thread) never checkpoints: that copies the WAL into the
# database file and syncs it, far too slow for the event loop. Every so many of them, the
# writer thread is asked to.
CHECKPOINT_EVERY_DIRECT_COMMITS = 256


def _is_busy(error: OperationalError) -> bool:
    """SQLite refused at once because another connection is writing (busy timeout 0)."""
    if not isinstance(error.orig, sqlite3.OperationalError):
        return False
    primary = error.orig.sqlite_errorcode & 0xFF  # extended codes carry the primary one in the low byte
    return primary in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def _discard(db: Connection) -> None:
    """Close the loop's connection for good. Invalidated, not returned to the pool: with a
    busy timeout of 0, a writer thread given it would fail instead of waiting."""
    with contextlib.suppress(Exception):
        db.invalidate()
        db.close()


class JoinCodeTaken(Exception):
    """The random join code collided with a live room's; the caller draws another."""


@dataclass(frozen=True)
class StoredCommand:
    """One command's part of a transaction: who, its client id (None for joins), its events."""

    actor_id: str
    cid: str | None
    events: Sequence[p.Event]


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
        self._write_scores = _write_scores_postgres if engine.dialect.name == "postgresql" else _write_scores_sqlite
        # The live rooms' writes (notes, joins, score batches) run here, in order. SQLite has
        # one writer at a time anyway: with one thread, commits queue here instead of
        # polling SQLite's lock from several threads (its busy handler sleeps up to 100 ms
        # between tries). PostgreSQL takes writes side by side.
        writers = 1 if engine.dialect.name == "sqlite" else 4
        self._writes = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="samskapa-store")
        self._unfinished = 0  # writes submitted to the writer thread(s) and not yet done
        self._unfinished_lock = threading.Lock()
        # SQLite commits a small transaction in well under a millisecond (WAL, no sync on
        # commit), less than the two thread handoffs and the loop turn that the writer
        # thread costs a note under load (docs/performance.md). PostgreSQL is a network
        # round trip away: always the writer threads.
        self.commits_directly = engine.dialect.name == "sqlite"
        self._direct: Connection | None = None
        self._direct_commits = 0
        self._closed = False
        # Built once: constructing an upsert costs more than executing it (the profile).
        # An edit or a move may change every column of a note but its id and its room.
        notes = _table(m.Note)
        self._note_upsert = self._upsert(notes, [c.name for c in notes.columns if c.name not in {"id", "room_id"}])

    async def write(self, call: Callable[..., None], *args: Any) -> None:
        """Run a write of this store's on its writer thread(s), without blocking the loop."""
        await asyncio.wrap_future(self.submit(call, *args))

    def submit(self, call: Callable[..., None], *args: Any) -> Future[None]:
        """The same, for a caller that wants the thread's own future (and its callbacks)."""
        with self._unfinished_lock:
            self._unfinished += 1
        return self._writes.submit(self._counted, call, *args)

    def _counted(self, call: Callable[..., None], *args: Any) -> None:
        try:
            call(*args)
        finally:
            with self._unfinished_lock:
                self._unfinished -= 1

    def close(self) -> None:
        """After the rooms have drained: wait for the writes under way, then let go."""
        self._closed = True
        self._writes.shutdown(wait=True)
        self._drop_direct()
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

    def join_codes_from(self, first: str, limit: int) -> list[str]:
        """The join codes stored rooms hold, from `first` on, in order (app/join_codes.py)."""
        with self._session() as session:
            query = select(m.Room.join_code).where(col(m.Room.join_code) >= first)
            return list(session.exec(query.order_by(col(m.Room.join_code)).limit(limit)).all())

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
            self._write_events(db, room_id, commands, seq, new_participants)

    def commit_events_now(
        self,
        room_id: str,
        commands: Sequence[StoredCommand],
        seq: int,
        new_participants: Sequence[m.Participant] = (),
    ) -> bool:
        """`commit_events` on the calling thread, if that can be done without waiting.

        False, with nothing written, when it cannot: the database is PostgreSQL, a write
        submitted earlier has not finished (it must commit first: order is kept), or another
        connection holds SQLite's write lock (a room created over HTTP, say; this connection
        does not wait for it). The caller then submits `commit_events` to the writer."""
        if not self.commits_directly or self._unfinished or self._closed:
            return False
        db = self._direct_connection()
        if db is None:
            return False
        try:
            with db.begin():  # rolled back on any error: a refused one leaves the connection clean
                self._write_events(db, room_id, commands, seq, new_participants)
        except Exception as error:
            if isinstance(error, OperationalError) and _is_busy(error):
                return False
            self._drop_direct()  # whatever else went wrong, the next one starts afresh
            raise
        self._direct_commits += 1
        if self._direct_commits % CHECKPOINT_EVERY_DIRECT_COMMITS == 0:
            try:
                self.submit(self._checkpoint)
            except RuntimeError:  # the writer was shut down: close() is under way
                log.info("no checkpoint: the store is closing")
        return True

    def _direct_connection(self) -> Connection | None:
        """The loop's own connection, opened once: it never waits for SQLite's lock and never
        checkpoints. None (and no more direct commits) where that cannot hold: a database
        not in WAL mode (each commit would sync the disk) or one in memory (every thread's
        connection is a database of its own)."""
        if self._direct is not None:
            return self._direct
        try:
            db = self.engine.connect()
        except Exception:
            log.exception("no connection for direct commits; all commits go through the writer")
            self.commits_directly = False
            return None
        try:
            mode = db.exec_driver_sql("PRAGMA journal_mode").scalar()
            db.exec_driver_sql("PRAGMA busy_timeout=0")
            db.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            db.commit()
        except Exception:
            log.exception("could not set up direct commits; all commits go through the writer")
            mode = None
        if str(mode).lower() != "wal":
            if mode is not None:
                log.warning("SQLite journal mode is %s, not WAL: all commits go through the writer", mode)
            self.commits_directly = False
            _discard(db)
            return None
        self._direct = db
        return db

    def _drop_direct(self) -> None:
        db, self._direct = self._direct, None
        if db is not None:
            _discard(db)

    def _checkpoint(self) -> None:
        """Copy what the direct commits wrote to the WAL into the database file, without
        waiting for readers (PASSIVE); the writer's own commits checkpoint by themselves."""
        with self.engine.connect() as db:
            db.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _write_events(
        self,
        db: Connection,
        room_id: str,
        commands: Sequence[StoredCommand],
        seq: int,
        new_participants: Sequence[m.Participant],
    ) -> None:
        if new_participants:
            db.execute(insert(_table(m.Participant)), [row.model_dump() for row in new_participants])
        applied = []
        for command in commands:
            for event in command.events:
                self._project(db, room_id, command.actor_id, event)
            if command.cid is not None:
                applied.append({"room_id": room_id, "actor_id": command.actor_id, "cid": command.cid, "seq": seq})
        if applied:
            db.execute(insert(_table(m.AppliedCommand)), applied)
        db.execute(update(m.Room).where(col(m.Room.id) == room_id, col(m.Room.seq) < seq).values(seq=seq))

    def _project(self, db: Connection, room_id: str, actor_id: str, event: p.Event) -> None:
        room_values: dict[str, object] = {}
        votes = _table(m.NoteVote)
        match event:
            case p.NoteAdded(note=note) | p.NoteUpdated(note=note):
                row = {
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
                }
                db.execute(self._note_upsert, row)
            case p.NoteDeleted():
                db.execute(delete(votes).where(votes.c.note_id == event.note_id))
                db.execute(delete(m.Note).where(col(m.Note.id) == event.note_id))
            case p.MyVote():
                db.execute(delete(votes).where(votes.c.note_id == event.note_id, votes.c.voter_id == actor_id))
                if event.voted:
                    db.execute(insert(votes), {"note_id": event.note_id, "voter_id": actor_id, "room_id": room_id})
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
                db.execute(
                    update(m.Participant)
                    .where(col(m.Participant.room_id) == room_id, col(m.Participant.group).not_in(known))
                    .values(group=None)
                )
            case p.ParticipantUpdated(participant=who):
                db.execute(
                    update(m.Participant).where(col(m.Participant.id) == who.id).values(name=who.name, group=who.group)
                )
            case p.ParticipantJoined() | p.ScoreSet() | p.RoomDeleted():
                pass  # joins carry their row in commit_events; scores go in batches
        if room_values:
            db.execute(update(m.Room).where(col(m.Room.id) == room_id).values(**room_values))

    def flush_scores(self, room_id: str, changes: Mapping[ScoreRow, int | None], seq: int) -> None:
        """Write a batch of score changes in one transaction, straight to the driver:
        SQLAlchemy's per-row parameter handling cost more than the database's own work,
        under the GIL the event loop needs (docs/performance.md)."""
        cleared = [row for row, value in changes.items() if value is None]
        values = [(row, value) for row, value in changes.items() if value is not None]
        with self.engine.begin() as db:
            self._write_scores(db, room_id, values, cleared)
            db.execute(update(m.Room).where(col(m.Room.id) == room_id, col(m.Room.seq) < seq).values(seq=seq))
