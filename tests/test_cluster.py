"""Two app instances sharing PostgreSQL and Redis serve one room (real processes, real
Redis at 127.0.0.1:6379, a fresh PostgreSQL database). Under CI=true nothing here skips."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa

from app.client import CommandFailed, RoomClient
from app.db import make_engine
from tests.conftest import require_postgres
from tests.servers import IN_CI, ServerProcess, export_through, fresh_postgres_database, running

REDIS_URL = os.environ.get("SAMSKAPA_TEST_REDIS", "redis://127.0.0.1:6379/0")
STATEMENTS = [f"s{i}" for i in range(1, 11)]
K = 3  # group_min_size, k, of a new room
# How often a wait looks again at what it waits for (a server's reply or the database).
POLL_SECONDS = 0.05
# Between two attempts to connect to an instance that may not be serving the room yet.
RECONNECT_PAUSE_SECONDS = 0.3


def require_redis() -> None:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as probe:
            probe.ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"CI=true but Redis at {REDIS_URL} is not reachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {error}")


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    require_redis()
    require_postgres()
    with fresh_postgres_database() as database_url:
        one = ServerProcess(database_url, tmp_path, redis_url=REDIS_URL)
        two = ServerProcess(database_url, tmp_path, redis_url=REDIS_URL)
        with running(one, two):
            yield one, two


async def create_room(server: ServerProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/api/rooms", json={"title": "Två instanser"})
        assert response.status_code == 201
        return response.json()  # type: ignore[no-any-return]


async def connect_all(clients: list[RoomClient]) -> None:
    for client in clients:
        await client.connect()


async def reconnect(client: RoomClient) -> None:
    """Connect as soon as the instance serves the room again (it may be starting, or taking
    the room over), trying again until it does."""
    async with asyncio.timeout(30):
        while True:
            try:
                await client.connect()
                return
            except (CommandFailed, ConnectionError, OSError, TimeoutError):
                await asyncio.sleep(RECONNECT_PAUSE_SECONDS)


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Wait until `condition` holds, looking again every POLL_SECONDS; it runs in a thread,
    so it may ask the database. Fails naming `what` did not happen in time."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        await asyncio.sleep(POLL_SECONDS)


async def test_clients_on_both_instances_share_one_room(pair: tuple[ServerProcess, ServerProcess]) -> None:
    one, two = pair
    room = await create_room(one)
    facilitator = RoomClient(two.base_url, room["room_id"], room["facilitator_token"])
    people = [RoomClient((one, two)[i % 2].base_url, room["room_id"]) for i in range(8)]
    await connect_all([facilitator, *people])
    try:
        assert facilitator.settings["group_min_size"] == K
        await facilitator.command("set_results_visible", visible=True)
        rng = random.Random(3)
        expected: dict[str, list[int]] = {s: [] for s in STATEMENTS}
        last = 0
        for person in people:
            for statement in rng.sample(STATEMENTS, 5):
                value = rng.randint(1, 10)
                ack = await person.command("set_score", statement_id=statement, value=value)
                expected[statement].append(value)
                last = max(last, ack["seq"])
        # Revealed before anyone answered: each statement's figures move in steps of k
        # people's answers (docs/insight.md), so they show the first k, 2k, ... answers given.
        released = {s: values[: len(values) - len(values) % K] for s, values in expected.items()}
        assert any(released.values()) and any(len(v) % K for v in expected.values()), "both cases occur"
        for index, person in enumerate(people):
            await person.command("add_note", area_id="insights", text=f"Lapp {index}")
        for viewer in [facilitator, *people]:

            def has_everything(v: RoomClient = viewer) -> bool:
                return len(v.notes) == 8 and (v.spectrum or {}).get("seq", 0) >= last

            await viewer.wait_until(has_everything)
        orders = []
        for viewer in [facilitator, *people]:
            added = [m for m in viewer.messages if m["type"] == "note_added"]
            assert len(added) == 8, "each note exactly once"
            orders.append([m["note"]["text"] for m in added])
            seqs = [m["seq"] for m in viewer.messages if m.get("seq") and m["type"] not in {"spectrum", "ack"}]
            assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
            spectrum = viewer.spectrum
            assert spectrum is not None
            for entry in spectrum["statements"]:
                values = released[entry["statement_id"]]
                assert entry["withheld"] is None
                assert entry["n"] == len(values)
                assert entry["histogram"] == [values.count(v) for v in range(1, 11)]
                if values:
                    assert entry["mean"] == pytest.approx(statistics.fmean(values))
            assert spectrum["voters"] == 8
        assert all(order == orders[0] for order in orders), "one order on every instance"
        # The facilitator exports through the instance that does not own the room (the
        # facilitator's own, two, took it first): the owner answers over the bus.
        response = await export_through(one, room)
        assert response.status_code == 200, response.text
        exported = response.json()
        assert sorted(note["text"] for note in exported["notes"]) == sorted(f"Lapp {i}" for i in range(8))
        assert [a["n"] for a in exported["aggregates"]] == [len(released[s]) for s in STATEMENTS]
    finally:
        for client in [facilitator, *people]:
            await client.close()


async def test_an_instance_killed_mid_workshop_loses_nothing_acknowledged(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = pair
    room = await create_room(one)
    # The first client decides the owner: make it instance one, then kill it.
    owner_side = [RoomClient(one.base_url, room["room_id"]) for _ in range(3)]
    other_side = [RoomClient(two.base_url, room["room_id"]) for _ in range(3)]
    await connect_all(owner_side + other_side)
    acked: set[str] = set()
    for index, person in enumerate(owner_side + other_side):
        text = f"Före {index}"
        await person.command("add_note", area_id="thoughts", text=text)
        acked.add(text)
    last = await owner_side[0].command("set_score", statement_id="s1", value=4)
    # A score is acknowledged before its batch is written: kill the owner once it is stored.
    engine = make_engine(one.env["SAMSKAPA_DATABASE_URL"])

    def score_stored() -> bool:
        with engine.connect() as connection:
            stored = connection.execute(
                sa.text(
                    "SELECT value FROM score WHERE room_id = :room AND participant_id = :who AND statement_id = 's1'"
                ),
                {"room": room["room_id"], "who": owner_side[0].participant_id},
            ).scalar_one_or_none()
        return stored == 4

    try:
        await eventually(score_stored, "the score's batch reaching the database")
    finally:
        engine.dispose()
    one.stop(kill=True)

    # Clients of the dead instance come back through the other one, resuming by token.
    survivors = []
    for person in owner_side:
        moved = RoomClient(two.base_url, room["room_id"], person.token)
        moved.epoch, moved.last_seq = person.epoch, person.last_seq
        survivors.append(moved)
    for person in other_side:

        def is_closed(p: RoomClient = person) -> bool:
            return p.close_code is not None

        await person.wait_until(is_closed, timeout=15)
    everyone = survivors + [RoomClient(two.base_url, room["room_id"], p.token) for p in other_side]

    for client in everyone:
        await reconnect(client)
    try:
        for client in everyone:
            assert {n["text"] for n in client.notes.values()} == acked
        snapshot = survivors[0].welcome["snapshot"] if survivors[0].welcome else None
        assert snapshot is not None and snapshot["my_scores"] == {"s1": 4}
        assert last["seq"] > 0
        # A command re-sent after the failover, with the cid the dead instance acknowledged,
        # is applied once.
        resent = await everyone[0].command("add_note", area_id="thoughts", text="Före 0", cid=_first_cid(owner_side[0]))
        assert resent["type"] == "ack"
        await everyone[0].command("add_note", area_id="now", text="Efter bytet")
        for client in everyone:

            def has_the_new_note(c: RoomClient = client) -> bool:
                return len(c.notes) == len(acked) + 1

            await client.wait_until(has_the_new_note)

        # The killed instance restarts and catches up.
        one.start()
        late = RoomClient(one.base_url, room["room_id"], other_side[0].token)
        await reconnect(late)
        assert {n["text"] for n in late.notes.values()} == acked | {"Efter bytet"}
        await late.command("add_note", area_id="now", text="Från den omstartade")
        for client in everyone:

            def has_the_late_note(c: RoomClient = client) -> bool:
                return any(n["text"] == "Från den omstartade" for n in c.notes.values())

            await client.wait_until(has_the_late_note)
        await late.close()
    finally:
        for client in everyone:
            await client.close()


def _first_cid(client: RoomClient) -> str:
    cid: str = next(m["cid"] for m in client.messages if m["type"] == "ack")
    return cid


async def test_a_cut_redis_connection_makes_clients_resync_without_loss_or_duplicates(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    one, two = pair
    room = await create_room(one)
    people = [RoomClient((one, two)[i % 2].base_url, room["room_id"]) for i in range(4)]
    await connect_all(people)
    for index, person in enumerate(people):
        await person.command("add_note", area_id="insights", text=f"Innan {index}")
    with redis.Redis.from_url(REDIS_URL) as admin:
        admin.execute_command("CLIENT", "KILL", "SKIPME", "yes")  # every other Redis connection drops
    for person in people:

        def is_cut_off(p: RoomClient = person) -> bool:
            return p.close_code is not None

        await person.wait_until(is_cut_off, timeout=15)
    assert {p.close_code for p in people} <= {4012, 1006, 1011, 1012}

    for person in people:
        await reconnect(person)
    try:
        for person in people:
            assert sorted(n["text"] for n in person.notes.values()) == [f"Innan {i}" for i in range(4)]
        await people[1].command("add_note", area_id="now", text="Efter avbrottet")
        for person in people:

            def has_five_notes(p: RoomClient = person) -> bool:
                return len(p.notes) == 5

            await person.wait_until(has_five_notes)
            assert person.welcome is not None
            tail = person.messages[person.messages.index(person.welcome) :]
            assert sum(m["type"] == "note_added" for m in tail) == 1, "no event arrives twice"
    finally:
        for person in people:
            await person.close()
