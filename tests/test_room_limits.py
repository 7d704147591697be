"""Room creation and import within limits (issue 17, finding 5): a body limit on every
endpoint, the live room limits applied to imports, a per-address rate limit on creating
and importing rooms, and the join-code space, exhausted, against real servers."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from app import export_answers, join_codes
from app import models as m
from app.db import make_engine, migrate
from app.sealing import Sealer
from app.store import Store
from app.tokens import hash_token
from tests.conftest import MakeClient, NewRoom, require_postgres
from tests.servers import ServerProcess, fresh_postgres_database

TIMEOUT = 30.0
CORPUS = Path(__file__).parent / "export_corpus"


async def exported(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A small room (as POST /api/rooms answered) and its JSON export: two participants in
    a group, scores, a note."""
    room = await new_room(title="Förlaga")
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    await facilitator.command("set_groups", groups=[{"id": "chefer", "name": "Chefer"}])
    for name in ("Åsa", "Bo"):
        person = clients(room["room_id"])
        await person.connect(name=name)
        await person.command("set_profile", group="chefer")
        await person.command("set_score", statement_id="s1", value=7)
    await facilitator.command("add_note", area_id="now", text="En lapp")
    response = await http.get(
        f"/api/rooms/{room['room_id']}/export", headers={"Authorization": f"Bearer {room['facilitator_token']}"}
    )
    assert response.status_code == 200, response.text
    return room, response.json()


async def exported_room(http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient) -> dict[str, Any]:
    """The small room's JSON export."""
    return (await exported(http, new_room, clients))[1]


def many(document: dict[str, Any], participants: int = 0, notes: int = 0) -> dict[str, Any]:
    """The export with that many more participants (who joined and did nothing) and notes."""
    bigger = copy.deepcopy(document)
    bigger["participants"] += participants
    last = max(note["order"] for note in document["notes"] if note["area_id"] == document["notes"][0]["area_id"])
    bigger["notes"] += [
        {**document["notes"][0], "id": f"n-extra-{index}", "order": last + 1 + index} for index in range(notes)
    ]
    return bigger


async def test_an_import_beyond_the_live_limits_is_refused(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """Issue 17: an import of 45,000 notes and 60,000 participants was taken; a live room
    stops at 5,000 of each (SAMSKAPA_MAX_PARTICIPANTS_PER_ROOM, _NOTES_PER_ROOM)."""
    good = await exported_room(http, new_room, clients)
    at_the_limit = many(good, participants=5000 - good["participants"], notes=5000 - len(good["notes"]))
    accepted = await http.post("/api/rooms/import", content=json.dumps(at_the_limit), timeout=TIMEOUT)
    assert accepted.status_code == 201, accepted.text[:300]
    for bigger, field in ((many(at_the_limit, participants=1), "participants"), (many(at_the_limit, notes=1), "notes")):
        refused = await http.post("/api/rooms/import", content=json.dumps(bigger), timeout=TIMEOUT)
        assert refused.status_code == 422, refused.text[:300]
        body = refused.json()
        assert body["code"] == "limit_reached" and body["fields"][0]["field"] == field
        assert "5,001" in body["message"] and "5,000" in body["message"]


def set_in(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = path.split(".")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return changed


@dataclass(frozen=True)
class Original:
    """What whoever ran the exported room holds: its export, its facilitator token, and
    (as the deployment does) the key that seals its answers."""

    room: dict[str, Any]
    document: dict[str, Any]
    sealer: Sealer


def again(items: list[Any]) -> list[Any]:
    """The list with its first item once more, second: the repeat is at index 1."""
    return [items[0], *items]


def setting(path: str, value: Any) -> Callable[[Original], dict[str, Any]]:
    return lambda original: set_in(original.document, path, value)


def an_answer_sealed_twice(original: Original) -> dict[str, Any]:
    """The room's own answers, opened and sealed again for it by this deployment with one
    of them given twice: what `scores` twice was in version 2, a duplicate key for the
    database to refuse."""
    token_hash = hash_token(original.room["facilitator_token"])
    statement_ids = [statement["id"] for statement in original.document["template"]["statements"]]
    group_ids = [group["id"] for group in original.document["room"]["groups"]]
    opened = export_answers.open_answers(
        original.sealer, original.document["answers_sealed"], token_hash, statement_ids, group_ids
    )
    assert opened is not None and len(opened) == 2 and opened[0].answers, "the room's two answers"
    first, *rest = opened
    twice = export_answers.Respondent(first.group, (*first.answers, first.answers[0]))
    sealed = export_answers.seal_answers(
        original.sealer, original.room["room_id"], token_hash, statement_ids, group_ids, [twice, *rest]
    )
    return {**original.document, "answers_sealed": sealed}


def a_version_2_answer_twice(_: Original) -> dict[str, Any]:
    """A version-2 file (read as its server wrote it) whose first answer is there twice."""
    document = json.loads((CORPUS / "v2-grades-groups-round2.json").read_text(encoding="utf-8"))
    return {**document, "scores": again(document["scores"])}


@pytest.mark.parametrize(
    ("edit", "proven", "code", "field"),
    [
        pytest.param(
            setting("room.groups", [{"id": f"g{i}", "name": f"Grupp {i}"} for i in range(13)]),
            False,
            "limit_reached",
            "room.groups",
            id="13-groups",
        ),
        pytest.param(setting("room.group_min_size", 51), False, "invalid_export", "room.group_min_size", id="k-51"),
        pytest.param(setting("room.seq", 2**31), False, "invalid_export", "room.seq", id="seq-2**31"),
        pytest.param(setting("room.round", 2**40), False, "invalid_export", "room.round", id="round-2**40"),
        pytest.param(
            setting("notes.0.author_name", "Å" * 61), False, "invalid_export", "notes.0.author_name", id="name-61"
        ),
        # A seal is opaque, but still text: a NUL (a 500 on PostgreSQL before issue 17) is refused.
        pytest.param(
            lambda original: {**original.document, "answers_sealed": original.document["answers_sealed"] + "\u0000"},
            False,
            "invalid_export",
            "answers_sealed",
            id="seal-with-a-nul",
        ),
        # Opened with the token: one respondent more than the sealed answers hold.
        pytest.param(
            lambda original: {
                **original.document,
                "participants": original.document["participants"] + 1,
                "respondents": original.document["respondents"] + 1,
            },
            True,
            "invalid_export",
            "respondents",
            id="a-respondent-more-than-sealed",
        ),
        pytest.param(an_answer_sealed_twice, True, "invalid_export", "answers_sealed", id="an-answer-sealed-twice"),
        pytest.param(
            lambda original: {**original.document, "aggregates": again(original.document["aggregates"])},
            False,
            "invalid_export",
            "aggregates.1",
            id="figures-twice",
        ),
        pytest.param(a_version_2_answer_twice, False, "invalid_export", "open_answers.1", id="v2-answer-twice"),
    ],
)
async def test_an_import_no_live_room_could_have_made_is_refused_and_stores_nothing(
    server: ServerProcess,
    http: httpx.AsyncClient,
    new_room: NewRoom,
    clients: MakeClient,
    edit: Callable[[Original], dict[str, Any]],
    proven: bool,
    code: str,
    field: str,
) -> None:
    """Before, on PostgreSQL, each of these was a database error: a 500, or a 503
    `no_join_code` after twenty tries (a duplicate key looked like a taken code). `proven`:
    sent with the exported room's facilitator token, so that the import opens the seal."""
    room, document = await exported(http, new_room, clients)
    store = Store(make_engine(server.env["SAMSKAPA_DATABASE_URL"]))
    try:
        original = Original(room, document, Sealer(store.server_key("export-groups", never_made)))
        headers = {"Authorization": f"Bearer {room['facilitator_token']}"} if proven else {}
        bad = edit(original)
        before = room_ids(store)
        response = await http.post("/api/rooms/import", content=json.dumps(bad), headers=headers, timeout=TIMEOUT)
        assert response.status_code == 422, response.text[:300]
        assert response.json()["code"] == code and response.json()["fields"][0]["field"] == field, response.json()
        nothing = {"room": 0, "participant": 0, "note": 0, "vote": 0, "score": 0}
        assert rows_of_other_rooms(store, before) == nothing, "nothing of a refused file is stored"
    finally:
        store.close()


async def test_the_files_those_edits_start_from_import(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """The control: unedited, the export imports with its token (its answers opened from
    the seal) and without, and so does the version-2 file; a refusal above is its edit's."""
    room, document = await exported(http, new_room, clients)
    v2 = json.loads((CORPUS / "v2-grades-groups-round2.json").read_text(encoding="utf-8"))
    for body, headers, restored in (
        (document, {"Authorization": f"Bearer {room['facilitator_token']}"}, ("answers", 0)),
        (document, {}, ("figures", 2)),
        (v2, {}, ("answers", 7)),
    ):
        response = await http.post("/api/rooms/import", content=json.dumps(body), headers=headers, timeout=TIMEOUT)
        assert response.status_code == 201, response.text[:300]
        assert (response.json()["restored"], response.json()["groups_not_restored"]) == restored


def rows_of_other_rooms(store: Store, rooms: set[str]) -> dict[str, int]:
    """How many rows of a room not in `rooms` each table of a room's own holds (the room
    table too): what an import stored. Counted by room, as the live rooms keep writing."""
    tables = {"room": m.Room, "participant": m.Participant, "note": m.Note, "vote": m.NoteVote, "score": m.Score}
    with store.engine.connect() as connection:
        return {
            name: connection.execute(
                select(func.count())
                .select_from(model)
                .where(col(model.id if model is m.Room else model.room_id).not_in(rooms))  # type: ignore[attr-defined]
            ).scalar_one()
            for name, model in tables.items()
        }


def room_ids(store: Store) -> set[str]:
    with store.engine.connect() as connection:
        return set(connection.execute(select(m.Room.id)).scalars())


def never_made() -> bytes:
    raise AssertionError("the server made its key when it started")


# ---------------------------------------------------------------- bodies


async def send_head_only(server: ServerProcess, head: bytes) -> bytes:
    """Send a request head that promises a body, never the body; return the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(head)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.readuntil(b"\r\n\r\n") + await reader.read(500)
    finally:
        writer.close()


@pytest.mark.parametrize("path", ["/api/rooms", "/api/rooms/import", "/healthz", "/api/join/123456"])
async def test_a_body_declared_too_big_is_refused_before_it_is_sent(server: ServerProcess, path: str) -> None:
    """Issue 17: POST /api/rooms read and parsed a 200 MB body before refusing it."""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000000\r\n\r\n"
    answer = await send_head_only(server, head.encode())
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b'"code":"too_large"' in answer.replace(b" ", b"")


async def test_a_streamed_body_is_cut_off_at_the_limit(http: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> Any:
        nonlocal sent
        while sent < 50 * 1024 * 1024:
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    for path, limit in (("/api/rooms", 2), ("/api/rooms/import", 10)):
        sent = 0
        response = await http.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413 and response.json()["code"] == "too_large"
        assert f"{limit} MB" in response.json()["message"]


async def test_a_body_within_the_limit_still_makes_a_room(http: httpx.AsyncClient) -> None:
    padded = json.dumps({"title": "Stor mall", "language": "sv"}) + " " * (1024 * 1024)
    response = await http.post("/api/rooms", content=padded, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------- creating rooms, per address

CREATIONS = 3


@pytest.fixture(scope="module")
def creation_limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("creation")
    server = ServerProcess(f"sqlite:///{data / 'samskapa.db'}", data, rooms_created_per_hour=str(CREATIONS))
    server.start()
    yield server
    server.stop()


def from_address(server: ServerProcess, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT, transport=transport)


async def test_creating_and_importing_rooms_is_rate_limited_per_address(creation_limited_server: ServerProcess) -> None:
    """Issue 17: 326 rooms a second filled the million join codes in 46 minutes."""
    async with from_address(creation_limited_server, "127.0.0.5") as http:
        first = await http.post("/api/rooms", json={"title": "Ett"})
        assert first.status_code == 201
        document = (
            await http.get(
                f"/api/rooms/{first.json()['room_id']}/export",
                headers={"Authorization": f"Bearer {first.json()['facilitator_token']}"},
            )
        ).json()
        assert (await http.post("/api/rooms/import", content=json.dumps(document))).status_code == 201
        assert (await http.post("/api/rooms", json={"title": "Tre"})).status_code == 201
        for refused in (
            await http.post("/api/rooms", json={"title": "Fyra"}),
            await http.post("/api/rooms/import", content=json.dumps(document)),
        ):
            assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
            assert 1 <= int(refused.headers["retry-after"]) <= 3600
    async with from_address(creation_limited_server, "127.0.0.6") as other:
        assert (await other.post("/api/rooms", json={"title": "Någon annan"})).status_code == 201


# ---------------------------------------------------------------- the join-code space


def test_the_first_free_code_is_found_anywhere_and_wraps_round() -> None:
    taken = sorted(set(range(join_codes.SPACE)) - {5, 123_456, 999_999})

    def taken_from(first: str, limit: int) -> list[str]:
        start = bisect.bisect_left(taken, int(first))
        return [join_codes.as_code(code) for code in taken[start : start + limit]]

    assert join_codes.first_free(taken_from, 0) == "000005"
    assert join_codes.first_free(taken_from, 6) == "123456"
    assert join_codes.first_free(taken_from, 123_457) == "999999"
    bisect.insort(taken, 999_999)
    assert join_codes.first_free(taken_from, 123_457) == "000005", "wraps round past 999999"
    for code in (5, 123_456):
        bisect.insort(taken, code)
    assert join_codes.first_free(taken_from, 777) is None
    assert join_codes.first_free(lambda first, limit: [], 777) == "000777", "an empty space: the start"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_store_lists_taken_codes_in_order(backend: str, tmp_path: Path) -> None:
    """The walk's one query, on SQLite and PostgreSQL."""
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'codes.db'}"
        else:
            require_postgres()
            url = stack.enter_context(fresh_postgres_database())
        migrate(url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        store = Store(engine)
        stack.callback(store.close)
        fill(engine, [12, 7, 100_000, 999_999], live=True)
        assert store.join_codes_from("000008", 10) == ["000012", "100000", "999999"]
        assert store.join_codes_from("000000", 2) == ["000007", "000012"]


def fill(engine: Any, codes: list[int], live: bool) -> None:
    now = datetime.now(UTC)
    expires = now + (timedelta(days=30) if live else -timedelta(seconds=1))
    rows = [
        {
            "id": f"fill-{code}-{secrets.token_hex(4)}",
            "join_code": join_codes.as_code(code),
            "title": "Fyllnad",
            "language": "sv",
            "template_json": "{}",
            "phase": "lobby",
            "results_visible": False,
            "voting_locked": False,
            "groups_json": "[]",
            "group_min_size": 3,
            "desired_enabled": False,
            "round": 1,
            "seq": 0,
            "facilitator_token_hash": "",
            "created_at": now,
            "expires_at": expires,
        }
        for code in codes
    ]
    with engine.begin() as connection:
        connection.execute(m.Room.__table__.insert(), rows)  # type: ignore[attr-defined]


FREE = 424_242
EXPIRED = 777_777


@pytest.fixture(scope="module")
def full_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose database holds a live room for every join code but one."""
    data = tmp_path_factory.mktemp("full")
    database = data / "samskapa.db"
    migrate(f"sqlite:///{database}")
    with sqlite3.connect(database) as connection:
        connection.execute(
            """WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
            INSERT INTO room (id, join_code, title, language, template_json, phase, results_visible,
              voting_locked, groups_json, group_min_size, desired_enabled, round, seq,
              facilitator_token_hash, created_at, expires_at)
            SELECT 'fill' || i, printf('%06d', i), 'Fyllnad', 'sv', '{}', 'lobby', 0, 0, '[]', 3, 0, 1, 0, '',
              '2026-01-01 00:00:00.000000', '2999-01-01 00:00:00.000000'
            FROM n WHERE i NOT IN (?, ?)""",
            (FREE, EXPIRED),
        )
    server = ServerProcess(f"sqlite:///{database}", data)
    server.start()
    yield server
    server.stop()


async def test_an_exhausted_join_code_space_reuses_freed_codes_and_then_says_so(full_server: ServerProcess) -> None:
    engine = make_engine(full_server.env["SAMSKAPA_DATABASE_URL"])
    try:
        # A room that expired a moment ago: the hourly sweep has not deleted it yet.
        fill(engine, [EXPIRED], live=False)
    finally:
        engine.dispose()
    async with httpx.AsyncClient(base_url=full_server.base_url, timeout=TIMEOUT) as http:
        last = await http.post("/api/rooms", json={"title": "Den sista koden"})
        assert last.status_code == 201, last.text
        assert last.json()["join_code"] == join_codes.as_code(FREE)
        found = await http.get(f"/api/join/{join_codes.as_code(FREE)}")
        assert found.json()["room_id"] == last.json()["room_id"]
        reused = await http.post("/api/rooms", json={"title": "Ett utgånget rums kod"})
        assert reused.status_code == 201 and reused.json()["join_code"] == join_codes.as_code(EXPIRED)
        full = await http.post("/api/rooms", json={"title": "Ingen plats"})
        assert full.status_code == 503 and full.json()["code"] == "no_join_code"
        gone = await http.delete(
            f"/api/rooms/{last.json()['room_id']}",
            headers={"Authorization": f"Bearer {last.json()['facilitator_token']}"},
        )
        assert gone.status_code == 204
        again = await http.post("/api/rooms", json={"title": "Koden är fri igen"})
        assert again.status_code == 201 and again.json()["join_code"] == join_codes.as_code(FREE)
