"""The write path: the one owner of "store first, keep the stored order, then apply".

A live room hands the writer what its commands change (`Commit`s, each with the call that
applies it to the room once stored). The writer commits them, on the event loop when
SQLite is free (a small WAL transaction without a sync takes well under a millisecond,
less than the crossing to a thread and back under load, docs/performance.md) or else on
its writer thread(s), and applies each as soon as it is stored, in the order submitted. A
batch that fails is retried item by item, so one bad item never fails the others. Score
batches and any other write go through the same queue (`run`), so nothing overtakes what
was submitted before it.

One counter keeps the order: the writes handed to the thread(s) whose completion the loop
has not handled yet. While there are any, nothing is committed on the loop (it would be
applied first, out of the stored order). Everything here runs on the event loop but the
thread's own work. Knows the store's sync calls; knows nothing of boards, sockets or rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from app import metrics
from app import models as m
from app.store import Store, StoredCommand

log = logging.getLogger(__name__)

# A direct commit (on the loop) never checkpoints: that copies the WAL into the database
# file and syncs it, far too slow for the event loop. Every so many, the thread is asked to.
CHECKPOINT_EVERY_DIRECT_COMMITS = 256


class WriteFailed(Exception):
    """The store refused or could not be reached: nothing of the commit was stored."""


@dataclass
class Commit:
    """One command's (or one newcomer's) part of a transaction, and how to apply it."""

    commands: Sequence[StoredCommand]
    apply: Callable[[], None]
    new_participants: Sequence[m.Participant] = field(default_factory=tuple)

    @property
    def events(self) -> int:
        return sum(len(command.events) for command in self.commands)


# Per commit: None (stored and applied), WriteFailed (not stored), or what applying raised.
Outcome = BaseException | None


def _is_busy(error: BaseException) -> bool:
    """SQLite refused at once because another connection is writing (busy timeout 0)."""
    if not isinstance(error, OperationalError) or not isinstance(error.orig, sqlite3.OperationalError):
        return False
    primary = error.orig.sqlite_errorcode & 0xFF  # extended codes carry the primary one in the low byte
    return primary in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def _discard(db: Connection) -> None:
    """Close the loop's connection for good. Invalidated, not returned to the pool: with a
    busy timeout of 0, a writer thread given it would fail instead of waiting."""
    with contextlib.suppress(Exception):
        db.invalidate()
        db.close()


class StoreWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        sqlite = store.engine.dialect.name == "sqlite"
        # SQLite has one writer at a time anyway: with one thread, commits queue here instead
        # of polling SQLite's lock from several threads (its busy handler sleeps up to 100 ms
        # between tries). PostgreSQL takes writes side by side.
        self._threads = ThreadPoolExecutor(max_workers=1 if sqlite else 4, thread_name_prefix="samskapa-store")
        self._in_thread = 0  # handed to the thread(s), completion not yet handled on the loop
        # PostgreSQL is a network round trip away: always the thread(s).
        self.commits_directly = sqlite
        self._direct: Connection | None = None
        self._direct_commits = 0
        self._closed = False

    # ------------------------------------------------------------ commits

    async def commit(self, room_id: str, commits: Sequence[Commit], seq: int) -> list[Outcome]:
        """Store the commits (one transaction; item by item if that fails) and apply each
        stored one in order. `seq` is the room's seq before them; each is stored with the
        seq its last event will have (as far as the commits before it succeed)."""
        started = time.perf_counter()
        outcomes = await self._commit(room_id, commits, seq)
        failed = sum(isinstance(outcome, WriteFailed) for outcome in outcomes)
        metrics.commit_timed("events", time.perf_counter() - started, failed)
        return outcomes

    async def _commit(self, room_id: str, commits: Sequence[Commit], seq: int) -> list[Outcome]:
        if self._closed:
            return [WriteFailed("the server is stopping")] * len(commits)
        if self.commits_directly and not self._in_thread:
            try:
                committed = self._commit_now(room_id, commits, seq)
            except WriteFailed as failed:
                return [failed]
            if committed:
                return [self._applied(item) for item in commits]
        try:
            return await self._in_threads(room_id, commits, seq)
        except WriteFailed as failed:
            return [failed] * len(commits)

    def _commit_now(self, room_id: str, commits: Sequence[Commit], seq: int) -> bool:
        """The whole batch on the loop's own connection, if that can be done without waiting.
        False, with nothing written, when it cannot: the database is not fit for it, another
        connection holds the write lock, or a batch of several failed (the thread then
        stores them one by one). A lone commit that fails raises WriteFailed."""
        db = self._direct_connection()
        if db is None:
            return False
        try:
            with db.begin():  # rolled back on any error: a refused one leaves the connection clean
                self.store.write_events(db, room_id, *_joined(commits, seq))
        except Exception as error:
            if _is_busy(error):
                return False
            self._drop_direct()  # whatever went wrong, the next one starts afresh
            if len(commits) == 1:
                log.error("storing events for room %s failed", room_id, exc_info=error)
                raise WriteFailed(repr(error)) from error
            log.warning("a batch of %d for room %s failed (%r); storing each on its own", len(commits), room_id, error)
            return False
        self._direct_commits += 1
        if self._direct_commits % CHECKPOINT_EVERY_DIRECT_COMMITS == 0:
            try:
                self._submit(self._checkpoint)
            except WriteFailed:
                log.info("no checkpoint: the store is closing")
        return True

    async def _in_threads(self, room_id: str, commits: Sequence[Commit], seq: int) -> list[Outcome]:
        """On the writer thread; each stored commit is applied from the thread's completion
        callback, on the loop, not when the awaiting coroutine resumes a turn later: sooner
        under load, and applied even if that coroutine was cancelled meanwhile (what is
        stored is always also live)."""
        outcome: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()

        def on_loop(stored: list[BaseException | None] | BaseException) -> None:
            if isinstance(stored, BaseException):  # the thread's work itself was lost
                stored = [stored] * len(commits)
            applied = [
                self._applied(item) if error is None else error for item, error in zip(commits, stored, strict=True)
            ]
            if not outcome.done():
                outcome.set_result(applied)

        self._submit(self._store_each, room_id, commits, seq, on_loop=on_loop)
        return await outcome

    def _store_each(self, room_id: str, commits: Sequence[Commit], seq: int) -> list[BaseException | None]:
        """In the thread: the batch in one transaction, or, if it fails, each on its own."""
        try:
            self.store.commit_events(room_id, *_joined(commits, seq))
            return [None] * len(commits)
        except Exception as error:
            if len(commits) == 1:
                log.error("storing events for room %s failed", room_id, exc_info=error)
                return [WriteFailed(repr(error))]
            log.warning("a batch of %d for room %s failed (%r); storing each on its own", len(commits), room_id, error)
        outcomes: list[BaseException | None] = []
        for item in commits:
            seq += item.events
            try:
                self.store.commit_events(room_id, item.commands, seq, item.new_participants)
                outcomes.append(None)
            except Exception as error:
                log.error("storing events for room %s failed", room_id, exc_info=error)
                outcomes.append(WriteFailed(repr(error)))
        return outcomes

    @staticmethod
    def _applied(item: Commit) -> Outcome:
        try:
            item.apply()
        except Exception as error:  # a bug, not the store: it surfaces as it is
            log.exception("applying stored events failed")
            return error
        return None

    # ------------------------------------------------------------ other writes, in order

    async def run(self, call: Callable[..., None], *args: Any) -> None:
        """Any other write (a score batch, say) behind what was submitted before it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_loop(error: BaseException | None) -> None:
            if done.done():
                return
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

        def guarded() -> BaseException | None:
            try:
                call(*args)
            except Exception as error:
                return error
            return None

        started = time.perf_counter()
        self._submit(guarded, on_loop=on_loop)
        try:
            await done
        except Exception:
            metrics.commit_timed("other", time.perf_counter() - started, failed=1)
            raise
        metrics.commit_timed("other", time.perf_counter() - started)

    def _submit(self, call: Callable[..., Any], *args: Any, on_loop: Callable[[Any], None] | None = None) -> None:
        """Hand `call` to the thread(s); `on_loop` gets its result on the loop, in the
        callback that also lets direct commits go again once every hand-off is handled."""
        if self._closed:
            raise WriteFailed("the server is stopping")
        loop = asyncio.get_running_loop()

        def handled(work: Future[Any]) -> None:
            self._in_thread -= 1
            if work.cancelled():
                result: Any = WriteFailed("the write was cancelled (the server is stopping)")
            elif work.exception() is not None:
                result = WriteFailed(repr(work.exception()))
            else:
                result = work.result()
            if on_loop is not None:
                on_loop(result)

        def in_thread_done(work: Future[Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the server stopped
                loop.call_soon_threadsafe(handled, work)

        try:
            # In the submitter's context, so that what the thread logs names its room (app/logs.py).
            work = self._threads.submit(contextvars.copy_context().run, call, *args)
        except RuntimeError as error:  # shut down: close() is under way
            raise WriteFailed("the server is stopping") from error
        self._in_thread += 1
        work.add_done_callback(in_thread_done)

    # ------------------------------------------------------------ the loop's own connection

    def _direct_connection(self) -> Connection | None:
        """Opened once: it never waits for SQLite's lock and never checkpoints. None (and no
        more direct commits) where that cannot hold: a database not in WAL mode (each commit
        would sync the disk) or one in memory (every thread's connection is a database of
        its own)."""
        if self._direct is not None:
            return self._direct
        try:
            db = self.store.engine.connect()
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
        waiting for readers (PASSIVE); the thread's own commits checkpoint by themselves."""
        with self.store.engine.connect() as db:
            db.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        """After the rooms have drained: wait for the writes under way, then let go."""
        self._closed = True
        self._threads.shutdown(wait=True)
        self._drop_direct()


def _joined(commits: Sequence[Commit], seq: int) -> tuple[list[StoredCommand], int, list[m.Participant]]:
    """The commits as one transaction's commands, final seq and new participant rows."""
    commands = [command for item in commits for command in item.commands]
    newcomers = [row for item in commits for row in item.new_participants]
    return commands, seq + sum(item.events for item in commits), newcomers
