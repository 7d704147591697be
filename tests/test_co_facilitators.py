"""Co-facilitator links against a real server (SQLite and PostgreSQL): each link's key runs
the room over a real socket and exports it, cannot delete the room or manage links, and
once revoked is closed at once (4014) and refused everywhere after."""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

import httpx
import pytest
import segno
from sqlalchemy import text

from app.client import CommandFailed, RoomClient
from app.db import make_engine
from app.tokens import hash_token, matching
from tests.conftest import MakeClient, NewRoom
from tests.servers import ServerProcess

# "At once": a revoked console is closed well within this (the "at once").
CLOSED_WITHIN_SECONDS = 1.0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def links(room: dict[str, Any]) -> str:
    return f"/api/rooms/{room['room_id']}/co-facilitators"


async def make_link(http: httpx.AsyncClient, room: dict[str, Any], label: str | None = None) -> dict[str, Any]:
    body = {"label": label} if label is not None else None
    response = await http.post(links(room), json=body, headers=bearer(room["facilitator_token"]))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def listed(http: httpx.AsyncClient, room: dict[str, Any]) -> list[dict[str, Any]]:
    response = await http.get(links(room), headers=bearer(room["facilitator_token"]))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def close_code_of(client: RoomClient, timeout: float = 5) -> int | None:
    """The code the server closed the client's socket with (waits for the close)."""
    with contextlib.suppress(ConnectionError):
        await client.wait_until(lambda: False, timeout)
    return client.close_code


def qr_of(text: str) -> str:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=10, xmldecl=False, dark="#000", light="#fff")
    return buffer.getvalue().decode()


def test_a_key_is_found_among_many_by_its_hash_alone() -> None:
    keys = [(hash_token(f"key-{i}"), f"cf_{i}") for i in range(20)]
    assert matching(hash_token("key-7"), keys) == "cf_7"
    assert matching(hash_token("key-77"), keys) is None
    assert matching(hash_token("key-1"), []) is None


async def test_a_co_facilitator_runs_the_room_on_the_socket_and_exports(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient, server: ServerProcess
) -> None:
    room = await new_room()
    made = await make_link(http, room, "Anna")
    assert made["label"] == "Anna" and made["used_at"] is None
    assert made["id"].startswith("cf_") and made["token"] != room["facilitator_token"]
    # Its own link to the console, the key in the fragment only; a QR code of exactly that.
    assert made["link"] == f"{server.base_url}/r/{room['room_id']}/present#token={made['token']}"
    assert made["qr_svg"] == qr_of(made["link"]) and made["token"] not in made["qr_svg"]
    person = clients(room["room_id"])
    await person.connect(name="Bo")
    await person.command("set_score", statement_id="s1", value=7)

    facilitator = clients(room["room_id"], room["facilitator_token"])
    seen_by_facilitator = await facilitator.connect()
    # The facilitator's own console is told it is the facilitator's, not a co-facilitator's.
    assert seen_by_facilitator["you"]["co_facilitator"] is False
    co = clients(room["room_id"], made["token"])
    welcome = await co.connect()
    assert welcome["you"]["role"] == "facilitator" and welcome["you"]["co_facilitator"] is True
    assert welcome["you"]["participant_id"] is None
    # It sees what the facilitator sees: everyone by name, and the same figures.
    assert [p["name"] for p in welcome["snapshot"]["participants"]] == ["Bo"]
    for part in ("participants", "spectrum", "settings"):
        assert welcome["snapshot"][part] == seen_by_facilitator["snapshot"][part], part
    # Every facilitator command: the phase, the reveal, the room's settings.
    await co.command("set_phase", phase="grade")
    await co.command("set_results_visible", visible=True)
    await co.command("update_room", title="Leds av två")
    await person.wait_until(lambda: person.settings.get("phase") == "grade")
    await person.wait_until(lambda: person.settings.get("title") == "Leds av två")

    exported = await http.get(f"/api/rooms/{room['room_id']}/export", headers=bearer(made["token"]))
    assert exported.status_code == 200, exported.text
    assert exported.json()["room"]["title"] == "Leds av två"
    used = await listed(http, room)
    assert [(entry["id"], entry["label"]) for entry in used] == [(made["id"], "Anna")]
    assert used[0]["used_at"] is not None, "its first use is noted"
    assert made["token"] not in server.log(), "a co-facilitator's key must never reach the log"


async def test_a_co_facilitator_cannot_delete_the_room_nor_manage_links(
    http: httpx.AsyncClient, new_room: NewRoom
) -> None:
    room = await new_room()
    made = await make_link(http, room)
    key = bearer(made["token"])
    refused = [
        await http.delete(f"/api/rooms/{room['room_id']}", headers=key),
        await http.post(links(room), json={"label": "Cecilia"}, headers=key),
        await http.get(links(room), headers=key),
        await http.delete(f"{links(room)}/{made['id']}", headers=key),
        await http.post(f"/api/rooms/{room['room_id']}/facilitator-link", headers=key),
    ]
    for response in refused:
        assert response.status_code == 403 and response.json()["code"] == "forbidden", response.text
        assert "token" not in response.json()
    # Nothing happened: the room is there, with one link, still working.
    assert [entry["id"] for entry in await listed(http, room)] == [made["id"]]
    assert (await http.get(f"/api/rooms/{room['room_id']}/export", headers=key)).status_code == 200
    # Neither may anyone without a key, nor the key of another room.
    other = await new_room()
    assert (await http.get(links(room))).status_code == 401
    assert (await http.get(links(room), headers=bearer(other["facilitator_token"]))).status_code == 403
    assert (await http.get(f"/api/rooms/{other['room_id']}/export", headers=key)).status_code == 403
    nowhere = await http.get("/api/rooms/no-such-room/co-facilitators", headers=bearer(room["facilitator_token"]))
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "room_not_found"


async def test_revoking_closes_its_consoles_at_once_and_refuses_every_later_use(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room = await new_room()
    anna, bo = await make_link(http, room, "Anna"), await make_link(http, room, "Bo")
    consoles = [clients(room["room_id"], anna["token"]) for _ in range(2)]
    for console in consoles:
        await console.connect()
    kept = clients(room["room_id"], bo["token"])
    await kept.connect()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()

    started = time.monotonic()
    revoked = await http.delete(f"{links(room)}/{anna['id']}", headers=bearer(room["facilitator_token"]))
    assert revoked.status_code == 204, revoked.text
    for console in consoles:
        assert await close_code_of(console) == 4014
    assert time.monotonic() - started < CLOSED_WITHIN_SECONDS
    # Only that key's consoles: the other co-facilitator and the facilitator run on.
    await kept.command("set_phase", phase="reflect")
    await facilitator.command("set_phase", phase="document")

    # Every later use fails: a hello, an export, revoking again.
    again = clients(room["room_id"], anna["token"])
    with pytest.raises(CommandFailed) as refused:
        await again.connect()
    assert refused.value.code == "unauthorized"
    assert await close_code_of(again) == 4001
    export = await http.get(f"/api/rooms/{room['room_id']}/export", headers=bearer(anna["token"]))
    assert export.status_code == 403 and export.json()["code"] == "forbidden"
    twice = await http.delete(f"{links(room)}/{anna['id']}", headers=bearer(room["facilitator_token"]))
    assert twice.status_code == 404 and twice.json()["code"] == "co_facilitator_not_found"
    assert [entry["label"] for entry in await listed(http, room)] == ["Bo"]


async def test_a_room_holds_twenty_links_and_says_so_at_the_twenty_first(
    http: httpx.AsyncClient, new_room: NewRoom
) -> None:
    room = await new_room()
    made = [await make_link(http, room, f"Person {i}") for i in range(20)]
    over = await http.post(links(room), json={"label": "En till"}, headers=bearer(room["facilitator_token"]))
    assert over.status_code == 409 and over.json()["code"] == "too_many_co_facilitators", over.text
    assert "20" in over.json()["message"]
    assert [entry["label"] for entry in await listed(http, room)] == [f"Person {i}" for i in range(20)]
    # Revoking one makes room for another.
    await http.delete(f"{links(room)}/{made[0]['id']}", headers=bearer(room["facilitator_token"]))
    await make_link(http, room, "En till")


async def test_a_label_is_optional_plain_text(http: httpx.AsyncClient, new_room: NewRoom) -> None:
    room = await new_room()
    headers = bearer(room["facilitator_token"])
    no_body = await http.post(links(room), headers=headers)
    assert no_body.status_code == 201 and no_body.json()["label"] is None
    blank = await http.post(links(room), json={"label": "  \u200b "}, headers=headers)
    assert blank.status_code == 201 and blank.json()["label"] is None
    assert (await make_link(http, room, "  Anna  "))["label"] == "Anna"
    for bad in ({"label": "x" * 61}, {"label": "An\x00na"}, {"label": 7}, {"name": "Anna"}, ["Anna"]):
        response = await http.post(links(room), json=bad, headers=headers)
        assert response.status_code == 422 and response.json()["code"] == "invalid_request", (bad, response.text)
    assert len(await listed(http, room)) == 3


async def test_answers_that_hold_or_list_keys_are_never_stored(http: httpx.AsyncClient, new_room: NewRoom) -> None:
    room = await new_room()
    made = await http.post(links(room), json={}, headers=bearer(room["facilitator_token"]))
    listing = await http.get(links(room), headers=bearer(room["facilitator_token"]))
    assert made.headers["cache-control"] == "no-store" and listing.headers["cache-control"] == "no-store"
    # Only by header: a key in a URL, which a browser's history or a proxy's log would keep, is no key.
    in_url = await http.get(links(room), params={"token": room["facilitator_token"]})
    assert in_url.status_code == 401 and in_url.json()["code"] == "unauthorized"


async def test_links_are_deleted_with_the_room(
    http: httpx.AsyncClient, new_room: NewRoom, server: ServerProcess
) -> None:
    room = await new_room()
    made = await make_link(http, room, "Anna")
    deleted = await http.delete(f"/api/rooms/{room['room_id']}", headers=bearer(room["facilitator_token"]))
    assert deleted.status_code == 204
    engine = make_engine(server.env["SAMSKAPA_DATABASE_URL"])
    try:
        with engine.connect() as db:
            query = text("SELECT count(*) FROM cofacilitator WHERE room_id = :room OR token_hash = :hash")
            left = db.execute(query, {"room": room["room_id"], "hash": hash_token(made["token"])}).scalar_one()
    finally:
        engine.dispose()
    assert left == 0


async def test_the_links_are_described_by_openapi(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    made = paths["/api/rooms/{room_id}/co-facilitators"]
    assert {"post", "get"} <= made.keys()
    assert {"201", "401", "403", "404", "409", "422"} <= made["post"]["responses"].keys()
    assert "delete" in paths["/api/rooms/{room_id}/co-facilitators/{co_facilitator_id}"]
