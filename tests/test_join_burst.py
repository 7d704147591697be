"""A room filling in a burst, as when a conference hall scans the QR code at once: over real
sockets, on SQLite and PostgreSQL. Newcomers are stored in batches (app/batching.py); each
must still get an identity of its own that survives a restart, and the room's limit holds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.client import CommandFailed, RoomClient
from tests.servers import ServerProcess

LIMIT = 30
ARRIVING = 45


@pytest.fixture
def small_room_server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, tmp_path, MAX_PARTICIPANTS_PER_ROOM=str(LIMIT))
    server.start()
    yield server
    server.stop()


async def test_a_burst_of_newcomers_fills_the_room_to_its_limit_and_no_further(
    small_room_server: ServerProcess,
) -> None:
    server = small_room_server
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        room = (await http.post("/api/rooms", json={"title": "Konferens"})).json()
    facilitator = RoomClient(server.base_url, room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    arriving = [RoomClient(server.base_url, room["room_id"]) for _ in range(ARRIVING)]
    outcomes = await asyncio.gather(*(client.connect() for client in arriving), return_exceptions=True)
    try:
        admitted = [client for client, outcome in zip(arriving, outcomes, strict=True) if isinstance(outcome, dict)]
        refused = [outcome for outcome in outcomes if isinstance(outcome, CommandFailed)]
        assert len(admitted) == LIMIT and len(refused) == ARRIVING - LIMIT, outcomes
        assert all(error.code == "limit_reached" for error in refused)
        for client, outcome in zip(arriving, outcomes, strict=True):
            if isinstance(outcome, CommandFailed):

                def is_closed(c: RoomClient = client) -> bool:
                    return c.close_code is not None

                await client.wait_until(is_closed)
                assert client.close_code == 4013
        identities = {client.participant_id for client in admitted}
        tokens = {client.token for client in admitted}
        assert len(identities) == LIMIT and len(tokens) == LIMIT and None not in tokens
        await facilitator.wait_until(lambda: _joined(facilitator) == identities)

        server.stop()
        server.start()
        for client in admitted:
            await client.drop()
            welcome = await client.connect()
            assert welcome["you"]["participant_id"] == client.participant_id, "the token resumes its identity"
        assert len({client.participant_id for client in admitted}) == LIMIT
    finally:
        await facilitator.close()
        for client in arriving:
            await client.close()


def _joined(client: RoomClient) -> set[str]:
    return {m["participant"]["id"] for m in client.messages if m["type"] == "participant_joined"}
