"""A room's pages answer as its socket does (issue 22), against a real server on SQLite and
PostgreSQL: the participant page, the console, the projector and the board page of a room
that was deleted or never existed answer 404, of one that has expired 410, with a small
page saying so in Swedish, English and Finnish; a live room's pages are served, revalidated
and answered 304 as before. An id of no room's shape is answered without a query.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.client import CommandFailed, RoomClient
from tests.conftest import MakeClient, NewRoom
from tests.servers import ServerProcess

PAGES = ("", "/present", "/screen", "/board")
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}
IDENTITY = {"Accept-Encoding": "identity"}
NOT_FOUND_WORDS = ("Rummet finns inte", "There is no such room", "Huonetta ei ole")
EXPIRED_WORDS = ("Rummet har gått ut", "The room has expired", "Huone on vanhentunut")
# Ids no room can have: a NUL (which PostgreSQL cannot even be asked about), an escape
# sequence, a lone surrogate, one far too long.
MISSHAPEN_IDS = ("%00", "a%00b", "%1B%5B31m", "%ED%BF%BF", "x" * 2000)


def paths(room_id: str) -> list[str]:
    return [f"/r/{room_id}{page}" for page in PAGES]


def assert_gone_page(response: httpx.Response, status: int, words: tuple[str, ...]) -> None:
    """The small page that says the room is not there, in each language, never kept."""
    assert response.status_code == status, (response.request.url, response.status_code)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store" and "etag" not in response.headers
    page = response.text
    assert '<html lang="sv">' in page and 'lang="en"' in page and 'lang="fi"' in page
    for text in words:
        assert text in page, text
    assert "<script" not in page, "nothing in it needs a script, nor the room's socket"


async def test_a_live_rooms_pages_are_served_and_revalidated_as_before(
    http: httpx.AsyncClient, new_room: NewRoom
) -> None:
    room = await new_room()
    for path in paths(room["room_id"]):
        for encoding in (BROWSER, IDENTITY):
            first = await http.get(path, headers=encoding)
            assert first.status_code == 200, path
            assert first.headers["content-type"].startswith("text/html")
            assert first.headers["cache-control"] == "no-cache"
            again = await http.get(path, headers=encoding | {"If-None-Match": first.headers["etag"]})
            assert again.status_code == 304 and again.content == b"", path
            assert again.headers["etag"] == first.headers["etag"]


async def test_a_deleted_rooms_pages_are_404_even_to_a_browser_that_kept_them(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room = await new_room()
    kept = {path: (await http.get(path, headers=BROWSER)).headers["etag"] for path in paths(room["room_id"])}
    present = clients(room["room_id"])
    await present.connect()  # so that the room is in the server's memory when it goes
    deleted = await http.delete(
        f"/api/rooms/{room['room_id']}", headers={"Authorization": f"Bearer {room['facilitator_token']}"}
    )
    assert deleted.status_code == 204
    for path, etag in kept.items():
        for headers in (BROWSER, BROWSER | {"If-None-Match": etag}, IDENTITY):
            assert_gone_page(await http.get(path, headers=headers), 404, NOT_FOUND_WORDS)
    # As the socket says.
    again = clients(room["room_id"])
    with pytest.raises(CommandFailed) as refused:
        await again.connect()
    assert refused.value.code == "not_found"


async def test_a_room_never_made_and_an_id_no_room_can_have_are_404(http: httpx.AsyncClient) -> None:
    for room_id in ("A" * 24, "no-such-room", *MISSHAPEN_IDS):
        for path in paths(room_id):
            assert_gone_page(await http.get(path), 404, NOT_FOUND_WORDS)


# ---------------------------------------------------------------- expired


@pytest.fixture(scope="module")
def expiring_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Rooms that expire within two seconds, and a sweeper that will not come for an hour:
    an expired room's rows are still there, so the server can tell it from a deleted one."""
    data = tmp_path_factory.mktemp("expiring")
    process = ServerProcess(
        f"sqlite:///{data / 'expiring.db'}", data, room_ttl_days=str(2 / 86400), expiry_sweep_seconds="3600"
    )
    process.start()
    yield process
    process.stop()


async def test_an_expired_rooms_pages_are_410_as_its_socket_says_not_found(expiring_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=expiring_server.base_url, timeout=10) as http:
        room = (await http.post("/api/rooms", json={"title": "Kortlivat"})).json()
        async with asyncio.timeout(10):
            while (await http.get(f"/api/join/{room['join_code']}")).status_code == 200:  # noqa: ASYNC110 - the clock expires it
                await asyncio.sleep(0.2)
        for path in paths(room["room_id"]):
            for headers in (BROWSER, IDENTITY):
                assert_gone_page(await http.get(path, headers=headers), 410, EXPIRED_WORDS)
    socket = RoomClient(expiring_server.base_url, room["room_id"])
    with pytest.raises(CommandFailed) as refused:
        await socket.connect()
    assert refused.value.code == "not_found"
    await socket.wait_until(lambda: socket.close_code is not None)
    assert socket.close_code == 4004


# ---------------------------------------------------------------- what a page asks the store


async def test_an_id_of_no_rooms_shape_costs_no_query_and_a_store_that_fails_costs_no_page(
    tmp_path: Path,
) -> None:
    """With the room table out of the server's reach, every question to the store fails: an
    id of no room's shape is still answered 404 (it was never asked), and a room's page is
    still served (its socket will say what it finds), with a line in the log."""
    database = tmp_path / "samskapa.db"
    server = ServerProcess(f"sqlite:///{database}", tmp_path)
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            well_shaped = "B" * 24
            assert (await http.get(f"/r/{well_shaped}")).status_code == 404
            with sqlite3.connect(database) as admin:
                admin.execute("ALTER TABLE room RENAME TO room_out_of_reach")
            try:
                for room_id in MISSHAPEN_IDS:
                    assert_gone_page(await http.get(f"/r/{room_id}/screen"), 404, NOT_FOUND_WORDS)
                served = await http.get(f"/r/{well_shaped}")
                assert served.status_code == 200 and served.headers["cache-control"] == "no-cache"
                assert "could not tell whether a room is there (OperationalError)" in server.log()
            finally:
                with sqlite3.connect(database) as admin:
                    admin.execute("ALTER TABLE room_out_of_reach RENAME TO room")
            assert (await http.get(f"/r/{well_shaped}")).status_code == 404
    finally:
        server.stop()
