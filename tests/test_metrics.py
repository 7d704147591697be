"""GET /metrics over a real server: off without a token, refused without the right one, and
moving by what a workshop does, as a person would count it (worked out in each test). No
label value ever holds a room id, a token, a name or a note's text."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from app import metrics
from app.client import CommandFailed, RoomClient
from app.connection import DirectConnection
from app.main import create_api
from app.settings import Settings
from tests.conftest import require_postgres
from tests.servers import ServerProcess, fresh_postgres_database, running
from tests.test_cluster import REDIS_URL, require_redis
from tests.test_connection import FakeWriter

TOKEN = "metrics-token-" + "7" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NAMES = ["Agnes Hemligsson", "Bertil Namnlös", "Cissi Anonym"]
NOTE_TEXT = "HEMLIG-TEXT-123 om vårdkedjan"
JOIN_LOOKUPS_PER_MINUTE = 3
IDLE_UNLOAD_SECONDS = 1.0
# Every label of Samskapa's own metrics, and the values it may take: small fixed sets.
LABEL_VALUES = {
    "type": metrics.COMMAND_TYPES | metrics.SENT_TYPES | {metrics.OTHER},
    "role": set(metrics.ROLES),
    "limit": metrics.LIMITS | {metrics.OTHER},
    "write": metrics.WRITES | {metrics.OTHER},
    "change": metrics.LEASE_CHANGES | {metrics.OTHER},
}


class Scrape:
    """One scrape's samples, looked up by name and labels (0 for a series not there)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def labels(self) -> list[tuple[str, str, str]]:
        return [(name, key, value) for (name, labels), _ in self.samples.items() for key, value in labels]


async def scrape(server: ServerProcess) -> Scrape:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        response = await http.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return Scrape(response.text)


async def scrape_until(server: ServerProcess, done: Any, timeout: float = 10) -> Scrape:
    """Scrape until `done(scrape)` holds (what a timer or the flush period moves)."""
    async with asyncio.timeout(timeout):
        while True:
            found = await scrape(server)
            if done(found):
                return found
            await asyncio.sleep(0.05)


def moved(after: Scrape, before: Scrape, name: str, **labels: str) -> float:
    return after(name, **labels) - before(name, **labels)


async def create_room(server: ServerProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        response = await http.post("/api/rooms", json={"title": "Mätpunkten"})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def metered(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(
        database_url,
        tmp_path_factory.mktemp("metered"),
        metrics_token=TOKEN,
        room_idle_unload_seconds=str(IDLE_UNLOAD_SECONDS),
        join_lookups_per_minute=str(JOIN_LOOKUPS_PER_MINUTE),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def made(metered: ServerProcess) -> AsyncIterator[list[RoomClient]]:
    """The test's clients, closed afterwards."""
    clients: list[RoomClient] = []
    yield clients
    for client in clients:
        await client.close()


async def spectrum_since(client: RoomClient, seq: int) -> None:
    """Until the client holds a spectrum that counts the change of `seq`."""
    await client.wait_until(lambda: (client.spectrum or {}).get("seq", 0) >= seq)


# ---------------------------------------------------------------- off, and the token


async def test_there_is_no_metrics_route_without_a_token(tmp_path: Path) -> None:
    app = create_api(Settings(data_dir=tmp_path, metrics_token=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://samskapa") as http:
        for headers in ({}, AUTH):
            response = await http.get("/metrics", headers=headers)
            assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert "/metrics" not in json.dumps(app.openapi())


async def test_a_scrape_needs_the_token(metered: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=metered.base_url, timeout=10) as http:
        refused = [
            await http.get("/metrics"),
            await http.get("/metrics", headers={"Authorization": "Bearer wrong-token-of-some-length"}),
            await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}),
            await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}"}),
            await http.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}),
            await http.get("/metrics", headers={"Authorization": TOKEN}),
            await http.get(f"/metrics?token={TOKEN}"),
        ]
        for response in refused:
            assert response.status_code == 401, response.text
            assert response.json()["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
            assert "samskapa_" not in response.text
        # The scheme's name is case-insensitive (RFC 9110); the token is not.
        accepted = await http.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
        assert accepted.status_code == 200 and "samskapa_rooms_loaded" in accepted.text
        assert accepted.headers["cache-control"] == "no-store"
    assert TOKEN not in metered.log(), "the metrics token (sent in a query string once) must not reach the log"


# ---------------------------------------------------------------- a workshop


async def test_a_workshop_moves_the_metrics(metered: ServerProcess, made: list[RoomClient]) -> None:
    before = await scrape(metered)
    room = await create_room(metered)
    room_id = room["room_id"]
    facilitator = RoomClient(metered.base_url, room_id, room["facilitator_token"])
    made.append(facilitator)
    await facilitator.connect()
    people: list[RoomClient] = []
    for name in NAMES:  # one after the other: each newcomer is stored in a transaction of its own
        person = RoomClient(metered.base_url, room_id)
        made.append(person)
        await person.connect(name=name)
        people.append(person)

    joined = await scrape(metered)
    assert moved(joined, before, "samskapa_rooms_loaded") == 1
    assert moved(joined, before, "samskapa_connections", role="facilitator") == 1
    assert moved(joined, before, "samskapa_connections", role="participant") == len(NAMES)
    assert moved(joined, before, "samskapa_connections", role="screen") == 0
    assert moved(joined, before, "samskapa_participants_online") == len(NAMES)
    assert moved(joined, before, "samskapa_lease_changes_total", change="gained") == 1
    assert moved(joined, before, "samskapa_commit_seconds_count", write="events") == len(NAMES)
    assert moved(joined, before, "samskapa_commit_failures_total", write="events") == 0
    assert joined("samskapa_bus_connected") == 1

    # A screen is a connection of its own role, never a participant.
    screen = RoomClient(metered.base_url, room_id)
    made.append(screen)
    await screen.connect(screen=True)
    # Everyone grades s1; the first writes a note, which reaches everyone.
    acks = [
        await person.command("set_score", statement_id="s1", value=3 + index) for index, person in enumerate(people)
    ]
    await people[0].command("add_note", area_id="thoughts", text=NOTE_TEXT)
    for client in [facilitator, *people, screen]:
        await client.wait_for(lambda m: m["type"] == "note_added")
    worked = await scrape_until(
        metered, lambda now: moved(now, joined, "samskapa_commit_seconds_count", write="other") >= 1
    )
    assert moved(worked, joined, "samskapa_connections", role="screen") == 1
    assert moved(worked, joined, "samskapa_participants_online") == 0
    assert moved(worked, joined, "samskapa_commands_received_total", type="set_score") == len(people)
    assert moved(worked, joined, "samskapa_commands_received_total", type="add_note") == 1
    for other in metrics.COMMAND_TYPES - {"set_score", "add_note"} | {metrics.OTHER}:
        assert moved(worked, joined, "samskapa_commands_received_total", type=other) == 0, other
    # The note, stored alone; the slider moves in one or more batches of the flush period.
    assert moved(worked, joined, "samskapa_commit_seconds_count", write="events") == 1
    assert 1 <= moved(worked, joined, "samskapa_commit_seconds_count", write="other") <= len(acks)
    assert worked("samskapa_commit_seconds_sum", write="events") > before("samskapa_commit_seconds_sum", write="events")

    # The event loop is probed every LOOP_PROBE_SECONDS whatever happens.
    started = time.monotonic()
    probed = await scrape_until(
        metered, lambda now: moved(now, worked, "samskapa_event_loop_lag_seconds_count") >= 2, timeout=5
    )
    assert time.monotonic() - started >= metrics.LOOP_PROBE_SECONDS  # no probe ahead of its time
    assert probed("process_resident_memory_bytes") > 0 and probed("process_open_fds") > 0

    secrets = [room_id, room["facilitator_token"], NOTE_TEXT, *NAMES, *(person.token or "" for person in people)]
    assert all(secrets)
    for name, label, value in probed.labels():
        if label == "le":  # a histogram's bucket: a number of seconds, or +Inf
            assert float(value) > 0, (name, value)
        elif name.startswith("samskapa_"):
            assert value in LABEL_VALUES[label], (name, label, value)
    for secret in secrets:
        assert secret not in probed.text

    # Everyone leaves: the state goes back, the room is unloaded once idle and its lease given back.
    for client in made:
        await client.close()
    left = await scrape_until(
        metered,
        lambda now: now("samskapa_rooms_loaded") == before("samskapa_rooms_loaded"),
        timeout=IDLE_UNLOAD_SECONDS + 10,
    )
    for role in metrics.ROLES:
        assert left("samskapa_connections", role=role) == before("samskapa_connections", role=role), role
    assert left("samskapa_participants_online") == before("samskapa_participants_online")
    assert moved(left, before, "samskapa_lease_changes_total", change="released") == 1
    assert moved(left, before, "samskapa_lease_changes_total", change="lost") == 0


async def test_limits_are_counted_by_name(metered: ServerProcess, made: list[RoomClient]) -> None:
    before = await scrape(metered)
    room = await create_room(metered)
    socket_url = metered.base_url.replace("http://", "ws://") + f"/ws/rooms/{room['room_id']}"

    # A frame over SAMSKAPA_MAX_FRAME_BYTES (uvicorn refuses it: 1009).
    async with connect(socket_url, max_size=None) as socket:
        await socket.send(json.dumps({"type": "hello"}))
        await socket.recv()
        await socket.send("x" * (Settings().max_frame_bytes + 1))
        with pytest.raises(Exception):  # noqa: B017 - closed, however websockets words it
            while True:
                await socket.recv()
        assert socket.close_code == 1009
    # More frames at once than a socket's command burst: the rate limit closes it (4008).
    async with connect(socket_url, max_size=None) as socket:
        await socket.send(json.dumps({"type": "hello"}))
        await socket.recv()
        for index in range(Settings().command_burst + 20):
            try:
                await socket.send(json.dumps({"type": "ping", "cid": f"p{index}"}))
            except Exception:
                break
        with pytest.raises(Exception):  # noqa: B017
            while True:
                await socket.recv()
        assert socket.close_code == 4008
    # Join-code lookups beyond the address's budget: 429.
    async with httpx.AsyncClient(base_url=metered.base_url, timeout=10) as http:
        answers = [(await http.get(f"/api/join/{room['join_code']}")).status_code for _ in range(5)]
    assert answers.count(429) >= 5 - JOIN_LOOKUPS_PER_MINUTE, answers

    after = await scrape_until(
        metered, lambda now: moved(now, before, "samskapa_limit_refusals_total", limit="commands") >= 1
    )
    assert moved(after, before, "samskapa_limit_refusals_total", limit="frame_size") == 1
    assert moved(after, before, "samskapa_limit_refusals_total", limit="commands") == 1
    assert moved(after, before, "samskapa_limit_refusals_total", limit="join") == answers.count(429)
    for limit in metrics.LIMITS - {"frame_size", "commands", "join"} | {metrics.OTHER}:
        assert moved(after, before, "samskapa_limit_refusals_total", limit=limit) == 0, limit


async def test_a_client_that_stops_reading_is_dropped_and_counted(
    metered: ServerProcess, made: list[RoomClient]
) -> None:
    """A phone in a pocket: its socket stops reading, the room's notes keep coming; once more
    than SAMSKAPA_SEND_BUFFER_BYTES waits for it (beyond what the kernels hold), it is closed
    with 4009, and counted once."""
    before = await scrape(metered)
    room = await create_room(metered)
    socket_url = metered.base_url.replace("http://", "ws://") + f"/ws/rooms/{room['room_id']}"
    writers = [RoomClient(metered.base_url, room["room_id"]) for _ in range(8)]
    made.extend(writers)
    for writer in writers:
        await writer.connect()
    # websockets stops reading the socket once `max_queue` frames wait unread.
    async with connect(socket_url, max_size=None, max_queue=1) as pocket:
        await pocket.send(json.dumps({"type": "hello"}))
        text = "🌻" * 500  # 2 KB a frame
        sent = 0
        async with asyncio.timeout(60):
            while moved(await scrape(metered), before, "samskapa_slow_clients_dropped_total") == 0:
                assert sent < 4000, "never dropped"
                # Each writer within its command burst; then the burst refills.
                for writer in writers:
                    for _ in range(25):
                        await writer.send({"type": "add_note", "area_id": "thoughts", "text": text})
                        sent += 1
                await asyncio.sleep(25 / Settings().command_rate_per_second)
        await asyncio.sleep(0.5)  # anything counted twice would show by now
        after = await scrape(metered)
        assert moved(after, before, "samskapa_slow_clients_dropped_total") == 1
        with pytest.raises(Exception):  # noqa: B017
            while True:
                await pocket.recv()
        assert pocket.close_code == 4009
    for writer in writers:
        assert writer.close_code is None, "only the client that stopped reading is dropped"


def test_the_drop_is_counted_once_per_connection() -> None:
    """The same rule without sockets: the counter moves when the connection is closed for
    lagging, not again for what the room sends it afterwards."""
    registry = metrics.registry_for(metrics.Census)
    before = Scrape(metrics.exposition(registry)[0].decode())
    writer = FakeWriter()
    connection = DirectConnection(writer, 16 * 1024, close_grace_seconds=5)
    while writer.closed is None:
        connection.send("x" * 1000)
    for _ in range(10):
        connection.send("x" * 1000)
    after = Scrape(metrics.exposition(registry)[0].decode())
    assert moved(after, before, "samskapa_slow_clients_dropped_total") == 1


# ---------------------------------------------------------------- what the live room counts


async def test_events_sent_and_spectrum_ticks(metered: ServerProcess, made: list[RoomClient]) -> None:
    """An event counts once per client it is written to: a note reaches everyone, a score
    only its author; one score change is one tick, one spectrum frame to each connection."""
    room = await create_room(metered)
    facilitator = RoomClient(metered.base_url, room["room_id"], room["facilitator_token"])
    alice, bob = RoomClient(metered.base_url, room["room_id"]), RoomClient(metered.base_url, room["room_id"])
    made.extend([facilitator, alice, bob])
    for client in (facilitator, alice, bob):
        await client.connect()
    await asyncio.sleep(0.5)  # the presence ticks of the joins are over
    before = await scrape(metered)
    await alice.command("add_note", area_id="thoughts", text="En lapp")
    ack = await bob.command("set_score", statement_id="s1", value=7)
    for client in (facilitator, alice, bob):
        await spectrum_since(client, ack["seq"])
    after = await scrape_until(metered, lambda now: moved(now, before, "samskapa_spectrum_tick_seconds_count") >= 1)
    assert moved(after, before, "samskapa_events_sent_total", type="note_added") == 3
    assert moved(after, before, "samskapa_events_sent_total", type="score_set") == 1
    assert moved(after, before, "samskapa_events_sent_total", type="spectrum") == 3
    assert moved(after, before, "samskapa_spectrum_tick_seconds_count") == 1


# ---------------------------------------------------------------- two instances


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    require_redis()
    require_postgres()
    with fresh_postgres_database() as database_url:
        one = ServerProcess(database_url, tmp_path, redis_url=REDIS_URL, metrics_token=TOKEN)
        two = ServerProcess(database_url, tmp_path, redis_url=REDIS_URL, metrics_token=TOKEN)
        with running(one, two):
            yield one, two


@pytest.mark.postgres
async def test_two_instances_count_each_client_once_and_a_lost_bus_returns(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """A command counts where its socket is; a client, on the room's owner, wherever its
    socket is; so each counts once when Prometheus adds the instances up."""
    owner, other = pair
    before = [await scrape(owner), await scrape(other)]
    room = await create_room(owner)
    here = RoomClient(owner.base_url, room["room_id"])
    there = RoomClient(other.base_url, room["room_id"])
    try:
        await here.connect()  # the owner takes the room's lease
        await there.connect()  # relayed by the other instance
        await there.command("add_note", area_id="thoughts", text=NOTE_TEXT)
        now = [await scrape(owner), await scrape(other)]
        assert moved(now[0], before[0], "samskapa_rooms_loaded") == 1
        assert moved(now[1], before[1], "samskapa_rooms_loaded") == 0
        assert moved(now[0], before[0], "samskapa_connections", role="participant") == 2
        assert moved(now[1], before[1], "samskapa_connections", role="participant") == 0
        assert moved(now[0], before[0], "samskapa_participants_online") == 2
        assert moved(now[1], before[1], "samskapa_relayed_sockets") == 1
        assert moved(now[0], before[0], "samskapa_commands_received_total", type="add_note") == 0
        assert moved(now[1], before[1], "samskapa_commands_received_total", type="add_note") == 1
        assert moved(now[0], before[0], "samskapa_commit_seconds_count", write="events") == 3  # 2 joins, 1 note
        assert moved(now[0], before[0], "samskapa_lease_changes_total", change="gained") == 1
        assert moved(now[1], before[1], "samskapa_lease_changes_total", change="gained") == 0

        # Cut the other instance's Redis connections (only its own): its bus comes back by itself.
        assert other.process is not None
        ports = {
            f"127.0.0.1:{connection.laddr.port}"
            for connection in psutil.Process(other.process.pid).net_connections(kind="tcp")
            if connection.raddr and connection.raddr.port == 6379
        }
        assert ports
        with redis.Redis.from_url(REDIS_URL) as admin:
            for entry in admin.client_list():
                if entry["addr"] in ports:
                    admin.client_kill(entry["addr"])
        back = await scrape_until(
            other, lambda now: moved(now, before[1], "samskapa_bus_reconnects_total") >= 1, timeout=15
        )
        assert back("samskapa_bus_connected") == 1
        assert moved(back, before[1], "samskapa_bus_reconnects_total") == 1
        assert moved(await scrape(owner), before[0], "samskapa_bus_reconnects_total") == 0
    finally:
        await here.close()
        await there.close()


@pytest.fixture(scope="module")
def capped(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose rooms hold two participants and two notes."""
    server = ServerProcess(
        database_url,
        tmp_path_factory.mktemp("capped"),
        metrics_token=TOKEN,
        max_participants_per_room="2",
        max_notes_per_room="2",
    )
    server.start()
    yield server
    server.stop()


async def test_a_full_room_and_a_board_out_of_room_are_counted(capped: ServerProcess) -> None:
    before = await scrape(capped)
    room = await create_room(capped)
    people = [RoomClient(capped.base_url, room["room_id"]) for _ in range(3)]
    try:
        await people[0].connect()
        await people[1].connect()
        with pytest.raises(CommandFailed, match="limit_reached"):
            await people[2].connect()
        for text in ("Ett", "Två"):
            await people[0].command("add_note", area_id="thoughts", text=text)
        with pytest.raises(CommandFailed, match="limit_reached"):
            await people[1].command("add_note", area_id="thoughts", text="Tre")
    finally:
        for person in people:
            await person.close()
    after = await scrape(capped)
    assert moved(after, before, "samskapa_limit_refusals_total", limit="participants") == 1
    assert moved(after, before, "samskapa_limit_refusals_total", limit="notes") == 1
