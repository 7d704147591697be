"""Fixtures: a real server per database backend (SQLite and PostgreSQL), HTTP helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest

from app.client import RoomClient
from tests.servers import IN_CI, ServerProcess, fresh_postgres_database, postgres_available

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# What the `new_room` and `clients` fixtures hand a test.
NewRoom = Callable[..., Coroutine[Any, Any, dict[str, Any]]]
MakeClient = Callable[..., RoomClient]


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}: the PostgreSQL run must not be skipped in CI")
    pytest.skip(reason)


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'samskapa.db'}"
        return
    require_postgres()
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(database_url, tmp_path_factory.mktemp("server"))
    process.start()
    yield process
    process.stop()


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        yield client


@pytest.fixture
async def new_room(http: httpx.AsyncClient) -> NewRoom:
    async def create(**body: Any) -> dict[str, Any]:
        body.setdefault("title", "Vårdenheten Solsidan")
        response = await http.post("/api/rooms", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return create


@pytest.fixture
async def clients(server: ServerProcess) -> AsyncIterator[MakeClient]:
    """Makes RoomClients for the test and closes every one of them afterwards."""
    made: list[RoomClient] = []

    def make(room_id: str, token: str | None = None) -> RoomClient:
        client = RoomClient(server.base_url, room_id, token)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
