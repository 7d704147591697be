"""A live room (app/room.py) with in-memory connections and a real SQLite store whose writes
the test can hold back or break: acknowledged means stored, and stored means applied."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from app import models as m
from app import protocol as p
from app import writer as writer_module
from app.board import Board
from app.db import make_engine, migrate
from app.export_answers import seal_answers
from app.room import LiveRoom
from app.sealing import Sealer, new_key
from app.settings import Settings
from app.store import Store
from app.templates import DEFAULT_TEMPLATE_ID, builtin_templates
from app.writer import StoreWriter

TIMEOUT = 5.0


class FakeConnection:
    """A socket as the room sees it; frames are kept, parsed, in arrival order."""

    def __init__(self) -> None:
        self.role: p.Role = "participant"
        self.participant_id: str | None = None
        self.frames: list[dict[str, Any]] = []
        self.closed: int | None = None
        self.arrived = asyncio.Event()

    def identify(self, role: p.Role, participant_id: str | None) -> None:
        self.role, self.participant_id = role, participant_id

    def send(self, frame: str) -> None:
        self.frames.append(json.loads(frame))
        self.arrived.set()

    async def wait_for(self, kind: str) -> list[dict[str, Any]]:
        async with asyncio.timeout(TIMEOUT):
            while not self.of_type(kind):
                self.arrived.clear()
                await self.arrived.wait()
        return self.of_type(kind)

    def close(self, code: int, reason: str = "") -> None:
        self.closed = code

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [frame for frame in self.frames if frame["type"] == kind]


class ControlledStore(Store):
    """A real store whose event commits can be held at the door (on the writer thread) or
    made to fail (on either path)."""

    def __init__(self, url: str) -> None:
        super().__init__(make_engine(url))
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.failing = False
        self.poison: str | None = None  # a transaction holding a note with this text fails
        self.through_the_writer = 0
        self.stored_by_the_writer = 0

    def commit_events(self, *args: Any, **kwargs: Any) -> None:
        self.through_the_writer += 1
        self.entered.set()
        if not self.gate.wait(TIMEOUT):
            raise TimeoutError("the test never opened the gate")
        super().commit_events(*args, **kwargs)
        self.stored_by_the_writer += 1

    def write_events(self, db: Any, room_id: str, commands: Any, *args: Any, **kwargs: Any) -> None:
        if self.failing:
            raise OSError("disk full")
        texts = {event.note.text for command in commands for event in command.events if isinstance(event, p.NoteAdded)}
        if self.poison in texts:
            raise ValueError("the database refuses this text")  # as PostgreSQL refuses a NUL
        super().write_events(db, room_id, commands, *args, **kwargs)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ControlledStore]:
    url = f"sqlite:///{tmp_path / 'room.db'}"
    migrate(url)
    controlled = ControlledStore(url)
    now = datetime.now(UTC)
    controlled.create_room(
        m.Room(
            id="r1",
            join_code="123456",
            title="Rummet",
            language="sv",
            template_json=builtin_templates()[DEFAULT_TEMPLATE_ID].model_dump_json(),
            phase="document",
            results_visible=False,
            voting_locked=False,
            groups_json="[]",
            facilitator_token_hash="f" * 64,
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    )
    yield controlled
    controlled.gate.set()
    controlled.close()


@pytest.fixture
def writer(store: ControlledStore) -> Iterator[StoreWriter]:
    """The writer with direct commits off, so that every commit goes through the door; the
    tests of direct commits turn them on (the `direct` fixture)."""
    controlled = StoreWriter(store)
    controlled.commits_directly = False
    yield controlled
    store.gate.set()
    controlled.close()


@pytest.fixture
def direct(writer: StoreWriter) -> StoreWriter:
    """The writer as the app runs it on SQLite: commits on the loop when nothing else writes."""
    writer.commits_directly = True
    return writer


def live_room(writer: StoreWriter) -> LiveRoom:
    now = datetime.now(UTC)
    board = Board(
        room_id="r1",
        template=builtin_templates()[DEFAULT_TEMPLATE_ID],
        config=p.RoomConfig(title="Rummet", language="sv"),
        created_at=now,
        expires_at=now + timedelta(days=1),
        flow=p.RoomFlow(phase="document"),
    )
    sealed_for_this_room = partial(seal_answers, Sealer(new_key()), "r1", "f" * 64)
    return LiveRoom(board, 0, "f" * 64, {}, {}, writer, Settings(), seal_answers=sealed_for_this_room)


async def joined(room: LiveRoom) -> FakeConnection:
    connection = FakeConnection()
    await room.join(connection, p.Hello(type="hello"))
    return connection


def add_note(cid: str, text: str) -> p.Command:
    command = p.client_message_adapter.validate_python({"type": "add_note", "cid": cid, "area_id": "now", "text": text})
    assert isinstance(command, p.AddNote)
    return command


def stored_notes(store: Store) -> list[str]:
    loaded = store.load_room("r1")
    assert loaded is not None
    return [note.text for note in loaded.notes]


def occupy_the_writer(writer: StoreWriter) -> tuple[threading.Event, asyncio.Task[None]]:
    """Keep the writer thread busy until the returned event is set."""
    release = threading.Event()

    def held() -> None:
        release.wait(TIMEOUT)

    return release, asyncio.get_running_loop().create_task(writer.run(held))


async def held_at_the_door(
    store: ControlledStore, room: LiveRoom, connection: FakeConnection, command: p.Command
) -> asyncio.Task[None]:
    """Start handling `command` and return once its commit is inside the store, held there
    until the test sets `store.gate`."""
    store.gate.clear()
    store.entered.clear()
    handling = asyncio.create_task(room.handle(connection, command))
    assert await asyncio.to_thread(store.entered.wait, TIMEOUT)
    return handling


async def test_a_note_is_announced_only_once_it_is_stored(store: ControlledStore, writer: StoreWriter) -> None:
    room = live_room(writer)
    author, other = await joined(room), await joined(room)
    handling = await held_at_the_door(store, room, author, add_note("c1", "Fråga brukarna"))
    await asyncio.sleep(0)  # the loop is free while the commit waits
    assert not other.of_type("note_added") and not author.of_type("ack")
    store.gate.set()
    await asyncio.wait_for(handling, TIMEOUT)
    added = other.of_type("note_added")
    assert [event["note"]["text"] for event in added] == ["Fråga brukarna"]
    assert author.of_type("ack")[-1] == {"type": "ack", "cid": "c1", "seq": added[0]["seq"]}
    assert stored_notes(store) == ["Fråga brukarna"]


@pytest.mark.parametrize("directly", [False, True], ids=["through the writer", "directly"])
async def test_a_failed_store_is_refused_as_unavailable_and_changes_nothing(
    store: ControlledStore, writer: StoreWriter, directly: bool
) -> None:
    writer.commits_directly = directly
    room = live_room(writer)
    author, other = await joined(room), await joined(room)
    seq = room.seq
    store.failing = True
    await asyncio.wait_for(room.handle(author, add_note("c1", "Går förlorad?")), TIMEOUT)
    error = author.of_type("error")[-1]
    assert (error["code"], error["cid"]) == ("unavailable", "c1")
    assert not other.of_type("note_added") and not room.board.notes and room.seq == seq
    assert stored_notes(store) == []
    store.failing = False  # the disk has room again: the same command, re-sent, goes through
    await asyncio.wait_for(room.handle(author, add_note("c1", "Går förlorad?")), TIMEOUT)
    assert [event["note"]["text"] for event in other.of_type("note_added")] == ["Går förlorad?"]
    assert stored_notes(store) == ["Går förlorad?"]
    if directly:
        assert store.through_the_writer == 0


async def test_what_is_stored_is_applied_even_if_the_sender_went_away_meanwhile(
    store: ControlledStore, writer: StoreWriter
) -> None:
    room = live_room(writer)
    author, other = await joined(room), await joined(room)
    handling = await held_at_the_door(store, room, author, add_note("c1", "Skickad, sen borta"))
    handling.cancel()  # the sender's socket task ends while its note is being written
    store.gate.set()
    await other.wait_for("note_added")
    assert stored_notes(store) == ["Skickad, sen borta"]
    assert [note.text for note in room.board.notes.values()] == ["Skickad, sen borta"]


async def test_notes_that_arrive_together_are_stored_together_each_in_its_own_place(
    store: ControlledStore, writer: StoreWriter
) -> None:
    room = live_room(writer)
    people = [await joined(room) for _ in range(6)]
    watcher = await joined(room)
    first = await held_at_the_door(store, room, people[0], add_note("c0", "Först"))
    commits_before = store.through_the_writer
    burst = [
        asyncio.create_task(room.handle(person, add_note("c1", f"Lapp {i}"))) for i, person in enumerate(people[1:])
    ]
    await asyncio.sleep(0)
    store.gate.set()
    await asyncio.wait_for(asyncio.gather(first, *burst), TIMEOUT)
    assert store.through_the_writer - commits_before == 1, "the five that came meanwhile share one transaction"
    added = watcher.of_type("note_added")
    assert [event["note"]["text"] for event in added] == ["Först"] + [f"Lapp {i}" for i in range(5)]
    assert [event["note"]["position"] for event in added] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    seqs = [event["seq"] for event in added]
    assert seqs == sorted(seqs) and len(set(seqs)) == 6
    for person, event in zip(people, added, strict=True):
        assert person.of_type("ack")[-1]["seq"] == event["seq"]
    assert sorted(stored_notes(store)) == sorted(event["note"]["text"] for event in added)


async def test_a_failed_batch_of_notes_leaves_no_trace_and_frees_their_places(
    store: ControlledStore, writer: StoreWriter
) -> None:
    room = live_room(writer)
    author, other = await joined(room), await joined(room)
    store.failing = True
    await asyncio.wait_for(
        asyncio.gather(*(room.handle(author, add_note(f"c{i}", f"Borta {i}")) for i in range(3))), TIMEOUT
    )
    assert [error["code"] for error in author.of_type("error")] == ["unavailable"] * 3
    assert not other.of_type("note_added") and not room.board.notes and not room.board.reserved
    store.failing = False
    await asyncio.wait_for(room.handle(author, add_note("c9", "Nu går det")), TIMEOUT)
    assert [event["note"]["position"] for event in other.of_type("note_added")] == [1.0]


@pytest.mark.parametrize("directly", [False, True], ids=["through the writer", "directly"])
async def test_one_bad_note_in_a_batch_fails_alone(store: ControlledStore, writer: StoreWriter, directly: bool) -> None:
    """A batch whose transaction fails is stored again note by note: only the note the
    database refuses is refused, the others are stored, announced and acknowledged."""
    writer.commits_directly = directly
    room = live_room(writer)
    people = [await joined(room) for _ in range(5)]
    watcher = await joined(room)
    store.poison = "Gift"
    texts = ["Först", "Ett", "Gift", "Tre", "Fyra"]
    async with room.pipeline._lock:  # held, so that all but the first queue up for one batch
        burst = [
            asyncio.create_task(room.handle(person, add_note("c1", text)))
            for person, text in zip(people, texts, strict=True)
        ]
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*burst), TIMEOUT)
    assert [event["note"]["text"] for event in watcher.of_type("note_added")] == ["Först", "Ett", "Tre", "Fyra"]
    poisoned = people[2]
    assert [(e["code"], e["cid"]) for e in poisoned.of_type("error")] == [("unavailable", "c1")]
    assert not poisoned.of_type("ack")
    for person in (people[0], people[1], people[3], people[4]):
        assert person.of_type("ack") and not person.of_type("error")
    assert sorted(stored_notes(store)) == sorted(["Först", "Ett", "Tre", "Fyra"])
    assert not room.board.reserved


async def test_a_note_sent_twice_in_one_burst_is_stored_once(store: ControlledStore, writer: StoreWriter) -> None:
    room = live_room(writer)
    author, other = await joined(room), await joined(room)
    blocker = await held_at_the_door(store, room, other, add_note("b", "Håller dörren"))
    twice = [asyncio.create_task(room.handle(author, add_note("same", "En gång"))) for _ in range(2)]
    await asyncio.sleep(0)
    store.gate.set()
    await asyncio.wait_for(asyncio.gather(blocker, *twice), TIMEOUT)
    acks = author.of_type("ack")
    assert len(acks) == 2 and acks[0] == acks[1]
    assert [event["note"]["text"] for event in other.of_type("note_added")] == ["Håller dörren", "En gång"]


class StoredOnArrival(FakeConnection):
    """A connection that looks in the database the moment each note reaches it."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.stored_when_announced: list[bool] = []

    def send(self, frame: str) -> None:
        super().send(frame)
        if self.frames[-1]["type"] == "note_added":
            text = self.frames[-1]["note"]["text"]
            self.stored_when_announced.append(text in stored_notes(self.store))


async def test_with_nothing_else_writing_a_note_is_committed_and_announced_without_the_writer(
    store: ControlledStore, direct: StoreWriter
) -> None:
    room = live_room(direct)
    author = await joined(room)
    watcher = StoredOnArrival(store)
    await room.join(watcher, p.Hello(type="hello"))
    writer_calls = store.through_the_writer
    await asyncio.wait_for(room.handle(author, add_note("c1", "Direkt")), TIMEOUT)
    assert watcher.stored_when_announced == [True]
    assert author.of_type("ack")[-1] == {"type": "ack", "cid": "c1", "seq": watcher.of_type("note_added")[0]["seq"]}
    assert store.through_the_writer == writer_calls, "committed on the loop, not handed to the writer"


async def test_a_note_waits_for_the_writer_while_another_connection_holds_the_write_lock(
    store: ControlledStore, direct: StoreWriter, tmp_path: Path
) -> None:
    room = live_room(direct)
    author, other = await joined(room), await joined(room)
    other_writer = sqlite3.connect(tmp_path / "room.db", isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")  # as a room being created over HTTP would
    handling = asyncio.create_task(room.handle(author, add_note("c1", "Efter låset")))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.sleep(0.2)
    assert loop.time() - started < 1.0, "the loop must not wait for SQLite's lock"
    assert not other.of_type("note_added") and not author.of_type("ack") and not author.of_type("error")
    other_writer.execute("COMMIT")
    other_writer.close()
    await asyncio.wait_for(handling, TIMEOUT)
    assert [event["note"]["text"] for event in other.of_type("note_added")] == ["Efter låset"]
    assert store.through_the_writer == 1
    await asyncio.wait_for(room.handle(author, add_note("c2", "Direkt igen")), TIMEOUT)
    assert store.through_the_writer == 1, "with the lock free again, the next goes directly"
    assert sorted(stored_notes(store)) == ["Direkt igen", "Efter låset"]


async def test_a_note_is_committed_after_the_writes_submitted_before_it(
    store: ControlledStore, direct: StoreWriter
) -> None:
    room = live_room(direct)
    author, other = await joined(room), await joined(room)
    release, earlier = occupy_the_writer(direct)  # a score batch, say, still being written
    handling = asyncio.create_task(room.handle(author, add_note("c1", "I tur och ordning")))
    await asyncio.sleep(0.1)
    assert not other.of_type("note_added"), "it may not overtake what was submitted before it"
    release.set()
    await asyncio.wait_for(handling, TIMEOUT)
    assert earlier.done() and store.through_the_writer == 1
    assert [event["note"]["text"] for event in other.of_type("note_added")] == ["I tur och ordning"]


async def test_the_writer_checkpoints_what_direct_commits_leave_in_the_wal(
    store: ControlledStore, direct: StoreWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Direct commits never checkpoint (too slow for the loop); without the writer's
    checkpoints the notes would stay in the WAL and the WAL would grow for ever."""
    monkeypatch.setattr(writer_module, "CHECKPOINT_EVERY_DIRECT_COMMITS", 10)
    database = tmp_path / "room.db"
    room = live_room(direct)
    author = await joined(room)
    await asyncio.wait_for(direct.run(store.ping), TIMEOUT)  # whatever the fixture left is written
    size_before = database.stat().st_size
    for i in range(40):
        await room.handle(author, add_note(f"c{i}", f"{i} " + "lång lapp " * 45))
    await asyncio.wait_for(direct.run(store.ping), TIMEOUT)  # one writer, in order: its checkpoints are done
    assert database.stat().st_size > size_before, "the notes' pages reached the database file"


def hold_the_loop_until(condition: Callable[[], bool]) -> None:
    """Keep the event loop from running anything (callbacks from threads included) until
    `condition` holds: the window between a thread's commit and its apply on the loop."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.001)


async def test_a_direct_commit_is_not_applied_before_a_write_stored_ahead_of_it(
    store: ControlledStore, direct: StoreWriter
) -> None:
    """The writer has committed the first note, but the loop has not applied it yet, and its
    sender has gone (so the room's lock is free): the second note may not go first."""
    room = live_room(direct)
    author, other = await joined(room), await joined(room)
    release, _ = occupy_the_writer(direct)  # the writer is busy, so the first note queues behind it
    first = asyncio.create_task(room.handle(author, add_note("c1", "Först lagrad")))
    await asyncio.sleep(0.05)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    release.set()
    hold_the_loop_until(lambda: store.stored_by_the_writer == 1)
    # Awaited in place, not as a task: it starts before the loop runs the first note's apply.
    await room.handle(author, add_note("c2", "Sedan"))
    await other.wait_for("note_added")
    added = other.of_type("note_added")
    assert [event["note"]["text"] for event in added] == ["Först lagrad", "Sedan"]
    assert added[0]["seq"] < added[1]["seq"]
    assert sorted(stored_notes(store)) == ["Först lagrad", "Sedan"]


async def test_direct_commits_never_checkpoint_on_the_loop(
    store: ControlledStore, direct: StoreWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint writes the WAL into the database file and syncs it: not on the loop,
    however long the WAL gets (here far past SQLite's automatic 1,000 pages)."""
    monkeypatch.setattr(writer_module, "CHECKPOINT_EVERY_DIRECT_COMMITS", 10**9)
    database = tmp_path / "room.db"
    room = live_room(direct)
    author = await joined(room)
    await asyncio.wait_for(direct.run(store.ping), TIMEOUT)
    size_before = database.stat().st_size
    for i in range(300):
        await room.handle(author, add_note(f"c{i}", f"{i} " + "lång lapp " * 45))
    assert len(room.board.notes) == 300 and store.through_the_writer == 0
    assert database.stat().st_size == size_before, "everything is still in the WAL"


def test_a_database_in_memory_or_not_in_wal_mode_is_never_committed_to_from_the_loop() -> None:
    store = Store(make_engine("sqlite://"))  # in memory: no WAL, and a database per connection
    writer = StoreWriter(store)
    try:
        assert writer.commits_directly
        assert writer._direct_connection() is None
        assert not writer.commits_directly
    finally:
        writer.close()
        store.close()


async def test_a_closed_store_commits_nothing_directly(store: ControlledStore, direct: StoreWriter) -> None:
    room = live_room(direct)
    author = await joined(room)
    direct.close()
    await asyncio.wait_for(room.handle(author, add_note("c1", "För sent")), TIMEOUT)
    assert author.of_type("error")[-1]["code"] == "unavailable"
    assert not room.board.notes
