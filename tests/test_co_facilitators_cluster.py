"""Co-facilitator links across two instances sharing PostgreSQL and Redis (real processes):
a key works through the instance that does not own the room, and revoking it, through
either instance, closes its consoles relayed by the other at once (4014) and refuses it on
both from then on. Under CI=true nothing here skips."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from app.client import CommandFailed, RoomClient
from tests.servers import ServerProcess
from tests.test_cluster import create_room, pair  # noqa: F401  (the fixture of two instances)
from tests.test_co_facilitators import CLOSED_WITHIN_SECONDS, bearer, close_code_of, links


async def make_link(server: ServerProcess, room: dict[str, Any], label: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(links(room), json={"label": label}, headers=bearer(room["facilitator_token"]))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def revoke(server: ServerProcess, room: dict[str, Any], link: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.delete(f"{links(room)}/{link['id']}", headers=bearer(room["facilitator_token"]))
    assert response.status_code == 204, response.text


async def test_revoking_closes_relayed_consoles_through_either_instance(
    pair: tuple[ServerProcess, ServerProcess],  # noqa: F811
) -> None:
    one, two = pair
    room = await create_room(one)
    # The first socket decides the owner: instance one. Every co-facilitator is on two,
    # relayed to one; the links are made through either.
    facilitator = RoomClient(one.base_url, room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    anna, bo = await make_link(two, room, "Anna"), await make_link(one, room, "Bo")
    relayed = {
        name: RoomClient(two.base_url, room["room_id"], link["token"]) for name, link in [("anna", anna), ("bo", bo)]
    }
    spare = RoomClient(two.base_url, room["room_id"], bo["token"])
    clients = [facilitator, *relayed.values(), spare]
    try:
        for client in (*relayed.values(), spare):
            welcome = await client.connect()
            assert welcome["you"]["role"] == "facilitator" and welcome["you"]["co_facilitator"] is True
        # A relayed co-facilitator runs the room: its command reaches the owner and everyone.
        await relayed["anna"].command("set_phase", phase="grade")
        await facilitator.wait_until(lambda: facilitator.settings.get("phase") == "grade")
        async with httpx.AsyncClient(base_url=two.base_url) as http:
            export = await http.get(f"/api/rooms/{room['room_id']}/export", headers=bearer(anna["token"]))
        assert export.status_code == 200, export.text

        # Revoked through two, which does not own the room: the owner hears it on the
        # room's channel and closes the relayed console through two.
        started = time.monotonic()
        await revoke(two, room, anna)
        assert await close_code_of(relayed["anna"]) == 4014
        assert time.monotonic() - started < CLOSED_WITHIN_SECONDS
        await relayed["bo"].command("set_phase", phase="reflect")  # the other key runs on
        # Revoked through one, the owner: its relayed consoles on two are closed too.
        started = time.monotonic()
        await revoke(one, room, bo)
        assert await close_code_of(relayed["bo"]) == 4014
        assert await close_code_of(spare) == 4014
        assert time.monotonic() - started < CLOSED_WITHIN_SECONDS
        await facilitator.command("set_phase", phase="document")  # the facilitator runs on

        # Every later use fails, on both instances.
        for server in (one, two):
            for link in (anna, bo):
                again = RoomClient(server.base_url, room["room_id"], link["token"])
                clients.append(again)
                with pytest.raises(CommandFailed) as refused:
                    await again.connect()
                assert refused.value.code == "unauthorized"
                assert await close_code_of(again) == 4001
                async with httpx.AsyncClient(base_url=server.base_url) as http:
                    export = await http.get(f"/api/rooms/{room['room_id']}/export", headers=bearer(link["token"]))
                assert export.status_code == 403
    finally:
        for client in clients:
            await client.close()
