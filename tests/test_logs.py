"""The server's log: with SAMSKAPA_LOG_FORMAT=json every line is a JSON object with its time,
level, logger and message, and the room and the instance where they are known; in either
format no line holds a token, a name, a note's text or a query string. A live server is
sent known secrets every way a client could send them, and its whole log is searched."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.client import connect

from app import logs
from app.client import CommandFailed, RoomClient
from tests.conftest import require_postgres
from tests.servers import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database

NOTE_TEXT = "HEMLIG-TEXT-123 om remissen"
NAME = "Hemliga Hedda Namnsson"
TITLE = "HEMLIG-TITEL-456"
FIELDS = {
    "timestamp",
    "level",
    "logger",
    "message",
    "room",
    "instance",
    "exception",
    "stack",
    "method",
    "path",
    "status",
}


def lines_of(server: ServerProcess) -> list[dict[str, Any]]:
    """Every line of the server's log (its stdout and stderr), each read as JSON."""
    read = []
    for line in server.log().splitlines():
        if line.strip():
            try:
                read.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"a log line that is not JSON: {line!r}")
    return read


def assert_no_secret(server: ServerProcess, secrets: list[str]) -> None:
    written = server.log()
    for secret in secrets:
        assert secret, "a secret to look for is empty"
        assert secret not in written, f"{secret!r} reached the log"


async def create_room(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.post("/api/rooms", json={"title": TITLE})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def json_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, tmp_path_factory.mktemp("json-log"), log_format="json")
    server.start()
    yield server
    server.stop()


async def send_secrets_every_way(server: ServerProcess) -> tuple[dict[str, Any], list[str]]:
    """A room used as a workshop would use it, plus what a careless or hostile client might
    do with its secrets (a token in a URL, a bad frame, a broken request); the secrets."""
    socket_base = server.base_url.replace("http://", "ws://")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        room = await create_room(http)
        room_id, token = room["room_id"], room["facilitator_token"]
        facilitator = RoomClient(server.base_url, room_id, token)
        person = RoomClient(server.base_url, room_id)
        try:
            await facilitator.connect()
            await person.connect(name=NAME)
            await person.command("add_note", area_id="thoughts", text=NOTE_TEXT)
            await person.command("set_profile", name=NAME + " igen")
            await person.command("set_score", statement_id="s1", value=4)
            # The facilitator's token where it never belongs: a page's and a socket's query
            # string, a header of a request that needs it, a hello to the wrong room.
            assert (await http.get(f"/r/{room_id}?token={token}&name={NAME}")).status_code == 200
            assert (await http.get(f"/r/{room_id}/present?token={token}")).status_code == 200
            link = await http.post(
                f"/api/rooms/{room_id}/facilitator-link", headers={"Authorization": f"Bearer {token}"}
            )
            assert link.status_code == 200
            assert (await http.get(f"/api/join/{room['join_code']}?token={token}")).status_code == 200
            async with connect(f"{socket_base}/ws/rooms/{room_id}?token={token}") as socket:
                await socket.send(json.dumps({"type": "hello", "token": token, "name": NAME}))
                await socket.recv()
                # Bad frames: not JSON (with a secret inside), an unknown type, a note too long.
                await socket.send("{not json " + NOTE_TEXT)
                await socket.send(json.dumps({"type": "shout", "cid": "c1", "text": NOTE_TEXT}))
                too_long = json.dumps({"type": "add_note", "cid": "c2", "area_id": "thoughts", "text": NOTE_TEXT * 40})
                await socket.send(too_long)
                # Each is answered with an error; ticks (presence, spectrum) may come between.
                errors = 0
                async with asyncio.timeout(10):
                    while errors < 3:
                        errors += json.loads(await socket.recv())["type"] == "error"
            other = await create_room(http)
            stranger = RoomClient(server.base_url, other["room_id"], token)
            with pytest.raises(CommandFailed):
                await stranger.connect()
            await stranger.close()
        finally:
            await facilitator.close()
            await person.close()
    # A request uvicorn cannot parse, a token in its path: a warning of uvicorn's own.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(f"GET /r/{room_id}?token={token} HTTP/1.1\r\nHost: x\r\nno colon here {NAME}\r\n\r\n".encode())
    await writer.drain()
    await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await asyncio.sleep(0.3)  # the last lines are written
    secrets = [token, NOTE_TEXT, NAME, TITLE, *(client.token or "" for client in (person,))]
    return room, secrets


async def test_every_line_is_json_and_holds_no_secret(json_server: ServerProcess) -> None:
    room, secrets = await send_secrets_every_way(json_server)
    assert_no_secret(json_server, secrets)
    lines = lines_of(json_server)
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= line.keys() <= FIELDS, line
        assert line["timestamp"].endswith("+00:00"), line
        for value in line.values():
            for secret in secrets:
                assert secret not in str(value), line
    # A line about the room says so in its own field; every line once the app runs, its instance.
    about_the_room = [line for line in lines if room["room_id"] in line["message"]]
    assert len(about_the_room) >= 3, "the room's page, socket and API requests"
    for line in about_the_room:
        assert line.get("room") == room["room_id"], line
    started = next(index for index, line in enumerate(lines) if line["message"] == "Application startup complete.")
    instances = {line.get("instance") for line in lines[started:]}
    assert len(instances) == 1 and None not in instances, instances
    # The access log keeps the request's path, not its query string.
    paths = [line["path"] for line in lines if line["logger"] == "uvicorn.access"]
    assert f"/r/{room['room_id']}?…" in paths
    assert any(line["logger"] == "uvicorn.error" and line["level"] == "WARNING" for line in lines), "the bad request"


async def test_text_lines_are_scrubbed_too(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'samskapa.db'}", tmp_path)
    server.start()
    try:
        _, secrets = await send_secrets_every_way(server)
    finally:
        server.stop()
    assert_no_secret(server, secrets)
    assert "Application startup complete." in server.log()
    assert not server.log().lstrip().startswith("{"), "text is the default"


@pytest.fixture
def failing_store(tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    require_postgres()
    with fresh_postgres_database() as database_url:
        server = ServerProcess(database_url, tmp_path, log_format="json")
        server.start()
        try:
            yield server, database_url.rsplit("/", 1)[1]
        finally:
            server.stop()


@pytest.mark.postgres
async def test_a_failed_write_names_its_room_and_not_its_text(failing_store: tuple[ServerProcess, str]) -> None:
    """The writer's thread logs the failure with its traceback and the statement; the line
    names the room in its field, and the note's text is in neither."""
    server, database = failing_store
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        room = await create_room(http)
    person = RoomClient(server.base_url, room["room_id"])
    try:
        await person.connect(name=NAME)
        # From now on the database refuses every write: its new sessions are read-only, and
        # the server's sessions are ended, so its pool opens new ones.
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
        with pytest.raises(CommandFailed) as refused:
            await person.command("add_note", area_id="thoughts", text=NOTE_TEXT)
        assert refused.value.code == "unavailable"
    finally:
        await person.close()
    await asyncio.sleep(0.3)
    assert_no_secret(server, [NOTE_TEXT, NAME, person.token or ""])
    failures = [line for line in lines_of(server) if line["message"].startswith("storing events for room")]
    assert failures, server.log()[-3000:]
    for line in failures:
        assert line["level"] == "ERROR" and line["room"] == room["room_id"], line
        assert "read-only" in line["exception"], line


# ---------------------------------------------------------------- the rules, without a server


def test_scrub_takes_out_query_strings_sql_parameters_and_validation_input() -> None:
    assert (
        logs.scrub('1.2.3.4:5 - "GET /r/abc?token=s3cret&x=1 HTTP/1.1" 200')
        == '1.2.3.4:5 - "GET /r/abc?… HTTP/1.1" 200'
    )
    assert logs.scrub("WebSocket /ws/rooms/abc?token=s3cret [accepted]") == "WebSocket /ws/rooms/abc?… [accepted]"
    assert logs.scrub("no query here? none at all") == "no query here? none at all"
    engine = create_engine("sqlite://")
    with engine.connect() as db:
        db.execute(text("CREATE TABLE note (text VARCHAR PRIMARY KEY)"))
        db.execute(text("INSERT INTO note VALUES (:t)"), {"t": NOTE_TEXT})
        with pytest.raises(SQLAlchemyError) as caught:
            db.execute(text("INSERT INTO note VALUES (:t)"), {"t": NOTE_TEXT})
    printed = str(caught.value)
    assert NOTE_TEXT in printed  # what SQLAlchemy prints, unless the engine hides its parameters
    # As logged with %s, and as repr() of that text (its newlines written as \n).
    for shown in (printed, f"a batch failed ({printed}); each on its own", repr(printed)):
        scrubbed = logs.scrub(shown)
        assert NOTE_TEXT not in scrubbed and "[parameters: hidden]" in scrubbed, scrubbed
        assert "INSERT INTO note" in scrubbed and "Background on this error" in scrubbed, scrubbed

    class Note(BaseModel):
        size: int

    with pytest.raises(ValidationError) as invalid:
        Note.model_validate({"size": NOTE_TEXT})
    assert NOTE_TEXT in str(invalid.value)
    assert NOTE_TEXT not in logs.scrub(str(invalid.value))


def test_a_record_is_scrubbed_with_its_traceback_and_stamped() -> None:
    logs.set_instance("i-test")
    bound = logs.bind_room("room-of-the-test")
    try:
        try:
            raise RuntimeError(f"failed at /r/x?token=abc [parameters: ('{NOTE_TEXT}',)]")
        except RuntimeError:
            record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "for %s", ("/p?token=abc",), sys.exc_info())
        assert logs.Redact().filter(record)
        line = json.loads(logs.JsonLines().format(record))
    finally:
        logs.unbind_room(bound)
        logs.set_instance(None)
    assert line["message"] == "for /p?…" and line["room"] == "room-of-the-test" and line["instance"] == "i-test"
    assert "RuntimeError" in line["exception"] and NOTE_TEXT not in line["exception"] and "abc" not in line["exception"]
    assert set(line) == {"timestamp", "level", "logger", "message", "room", "instance", "exception"}
