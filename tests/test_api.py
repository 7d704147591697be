"""The HTTP API against a real server: rooms, templates, join codes, QR, deletion, expiry."""

from __future__ import annotations

import asyncio
import copy
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.client import CommandFailed, RoomClient
from app.templates import builtin_templates
from tests.conftest import NewRoom
from tests.servers import ServerProcess


async def test_health_answers_when_the_store_does(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_templates_are_listed_and_fetched(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/api/templates")).json()
    assert [t["id"] for t in listed] == ["tjanstelogik"]
    one = await http.get("/api/templates/tjanstelogik")
    assert one.json()["statements"][0]["left"]["sv"] == "Vi erbjuder en produkt"
    missing = await http.get("/api/templates/finns-inte")
    assert missing.status_code == 404 and missing.json()["code"] == "template_not_found"


async def test_creating_a_room_gives_links_code_and_a_secret(http: httpx.AsyncClient, server: ServerProcess) -> None:
    response = await http.post("/api/rooms", json={"title": "Skolan i Kil", "language": "en"})
    assert response.status_code == 201
    room = response.json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", room["room_id"])  # 144 random bits
    assert re.fullmatch(r"\d{6}", room["join_code"])
    assert room["participant_url"] == f"{server.base_url}/r/{room['room_id']}"
    assert room["facilitator_url"].endswith("#token=" + room["facilitator_token"])
    assert len(room["facilitator_token"]) >= 40
    found = (await http.get(f"/api/join/{room['join_code']}")).json()
    assert found == {"room_id": room["room_id"], "title": "Skolan i Kil"}


async def test_join_codes_are_distinct_among_live_rooms(http: httpx.AsyncClient) -> None:
    rooms = await asyncio.gather(*(http.post("/api/rooms", json={"title": f"Rum {i}"}) for i in range(40)))
    codes = [r.json()["join_code"] for r in rooms]
    assert len(set(codes)) == len(codes)


async def test_a_custom_template_becomes_the_rooms_own_copy(http: httpx.AsyncClient, server: ServerProcess) -> None:
    template: dict[str, Any] = {
        "id": "egen",
        "name": {"sv": "Vår egen mall"},
        "languages": ["sv"],
        "grading": {
            "title": {"sv": "Hur gör vi?"},
            "left_label": {"sv": "Förr"},
            "right_label": {"sv": "Nu"},
        },
        "statements": [{"id": "a", "left": {"sv": "Vi gissar"}, "right": {"sv": "Vi frågar"}}],
        "areas": [{"id": "ideer", "title": {"sv": "Idéer"}}],
    }
    room = (await http.post("/api/rooms", json={"title": "Eget", "template": template})).json()
    client = RoomClient(server.base_url, room["room_id"])
    try:
        welcome = await client.connect()
        snapshot = welcome["snapshot"]
        assert [s["id"] for s in snapshot["template"]["statements"]] == ["a"]
        await client.command("set_score", statement_id="a", value=6)
        await client.command("add_note", area_id="ideer", text="Fråga brukarna")
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("breakage", "field"),
    [
        (lambda t: t["statements"][0].pop("right"), "template.statements.0.right"),
        (lambda t: t.__setitem__("statements", []), "template.statements"),
        (lambda t: t["areas"][0].__setitem__("kind", "kolumn"), "template.areas.0.kind"),
        (lambda t: t.__setitem__("languages", ["de"]), "template.languages.0"),
    ],
)
async def test_a_broken_template_is_refused_naming_the_field(
    http: httpx.AsyncClient, breakage: Any, field: str
) -> None:
    template = copy.deepcopy(builtin_templates()["tjanstelogik"].model_dump(mode="json"))
    breakage(template)
    response = await http.post("/api/rooms", json={"title": "Trasig", "template": template})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_template"
    assert field in [problem["field"] for problem in body["fields"]]
    assert field in body["message"]


async def test_bad_room_requests_get_clear_errors(http: httpx.AsyncClient) -> None:
    empty_title = await http.post("/api/rooms", json={"title": "   "})
    assert empty_title.status_code == 422 and empty_title.json()["fields"][0]["field"] == "title"
    unknown = await http.post("/api/rooms", json={"title": "X", "template": "finns-inte"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "template_not_found"
    not_json = await http.post("/api/rooms", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["code"] == "invalid_request"


async def test_join_code_lookup_errors(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/join/12ab56")).json()["code"] == "invalid_join_code"
    missing = await http.get("/api/join/000000")
    # 000000 may exist by chance in a long run; either way the answer is well-formed.
    assert missing.status_code in {200, 404}


async def test_qr_code_is_an_svg_of_the_participant_link(http: httpx.AsyncClient, new_room: NewRoom) -> None:
    room = await new_room()
    response = await http.get(f"/api/rooms/{room['room_id']}/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.lstrip().startswith("<svg") and room["participant_url"] in response.text
    assert (await http.get("/api/rooms/nope/qr.svg")).status_code == 404


async def test_deleting_a_room_needs_its_facilitator_and_removes_it(
    http: httpx.AsyncClient, new_room: NewRoom, server: ServerProcess
) -> None:
    room = await new_room()
    alice = RoomClient(server.base_url, room["room_id"])
    await alice.connect()
    await alice.command("add_note", area_id="thoughts", text="Snart borta")
    url = f"/api/rooms/{room['room_id']}"
    assert (await http.delete(url)).json()["code"] == "unauthorized"
    wrong = await http.delete(url, headers={"Authorization": f"Bearer {alice.token}"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "forbidden"
    gone = await http.delete(url, headers={"Authorization": f"Bearer {room['facilitator_token']}"})
    assert gone.status_code == 204
    await alice.wait_for(lambda m: m["type"] == "room_deleted")
    await alice.wait_until(lambda: alice.close_code is not None)
    assert alice.close_code == 4010
    assert (await http.get(f"/api/join/{room['join_code']}")).status_code == 404
    assert (await http.get(f"{url}/qr.svg")).status_code == 404
    again = RoomClient(server.base_url, room["room_id"], alice.token)
    with pytest.raises(CommandFailed) as refused:
        await again.connect()
    assert refused.value.code == "not_found"
    await again.wait_until(lambda: again.close_code is not None)
    assert again.close_code == 4004


async def test_openapi_lists_every_endpoint(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    for path in ("/healthz", "/api/templates", "/api/templates/{template_id}", "/api/rooms"):
        assert path in paths
    assert {"/api/join/{join_code}", "/api/rooms/{room_id}/qr.svg", "/api/rooms/{room_id}"} <= set(paths)


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with a tiny join-lookup budget and rooms that expire within a second."""
    data = tmp_path_factory.mktemp("strict")
    process = ServerProcess(
        f"sqlite:///{Path(data) / 'strict.db'}",
        data,
        join_lookups_per_minute="5",
        room_ttl_days=str(1.5 / 86400),
        expiry_sweep_seconds="0.2",
    )
    process.start()
    yield process
    process.stop()


async def test_guessing_join_codes_is_rate_limited(strict_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=strict_server.base_url) as http:
        answers = [(await http.get(f"/api/join/{code:06d}")).status_code for code in range(7)]
        assert answers[:5] == [404] * 5 and answers[5:] == [429, 429]
        limited = await http.get("/api/join/123456")
        assert limited.json()["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1


async def test_rooms_expire_and_their_data_goes(strict_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=strict_server.base_url) as http:
        room = (await http.post("/api/rooms", json={"title": "Kortlivat"})).json()
        alice = RoomClient(strict_server.base_url, room["room_id"])
        await alice.connect()
        await alice.command("add_note", area_id="thoughts", text="Kortlivad lapp")
        await alice.close()
    database = strict_server.env["SAMSKAPA_DATABASE_URL"].removeprefix("sqlite:///")

    def rows_left() -> int:
        with sqlite3.connect(database) as connection:
            return sum(
                connection.execute(f"SELECT count(*) FROM {table} WHERE {key} = ?", (room["room_id"],)).fetchone()[0]
                for table, key in (("room", "id"), ("note", "room_id"), ("participant", "room_id"))
            )

    assert rows_left() > 0
    async with asyncio.timeout(10):
        while rows_left():  # noqa: ASYNC110 - another process; the sweeper deletes, not hides
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("bad", ["\x00", "\x08", "\x1b"], ids=["NUL", "BS", "ESC"])
async def test_a_control_character_in_a_room_or_template_text_is_refused_naming_the_field(
    http: httpx.AsyncClient, bad: str
) -> None:
    """On PostgreSQL a NUL in the title was a 500 (issue 17): now a 422 that names the field."""
    titled = await http.post("/api/rooms", json={"title": f"Rum{bad}met"})
    assert titled.status_code == 422, titled.text
    assert titled.json()["fields"][0]["field"] == "title"
    assert "control characters" in titled.json()["message"]
    template = copy.deepcopy(builtin_templates()["tjanstelogik"].model_dump(mode="json"))
    template["statements"][2]["left"]["sv"] = f"Vänster{bad}pol"
    refused = await http.post("/api/rooms", json={"title": "Mall", "template": template})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_template"
    assert "template.statements.2.left.sv" in [problem["field"] for problem in refused.json()["fields"]]


async def test_an_invisible_title_is_refused_like_an_empty_one(http: httpx.AsyncClient) -> None:
    for invisible in ("\u200b", "\u2060\ufeff", " \u200d "):
        response = await http.post("/api/rooms", json={"title": invisible})
        assert response.status_code == 422 and response.json()["fields"][0]["field"] == "title"
    assert (await http.post("/api/rooms", json={"title": "Synlig\u200b"})).status_code == 201


async def test_a_nesting_bomb_for_a_room_is_refused_not_a_server_error(http: httpx.AsyncClient) -> None:
    for body in (b"[" * 100_000, b'{"title": "Bomb", "template": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"):
        response = await http.post("/api/rooms", content=body, headers={"content-type": "application/json"})
        assert response.status_code in {400, 422}, response.text
        assert response.json()["code"] in {"invalid_request", "invalid_json"}


@pytest.mark.parametrize("room_id", ["%00", "a%00b", "%1B%5B31m", "%ED%BF%BF", "x" * 2000])
async def test_a_room_id_no_room_can_have_is_not_found_not_a_server_error(
    http: httpx.AsyncClient, server: ServerProcess, room_id: str
) -> None:
    bearer = {"Authorization": "Bearer x"}
    for method, path in (
        ("GET", f"/api/rooms/{room_id}/qr.svg"),
        ("GET", f"/api/rooms/{room_id}/export"),
        ("DELETE", f"/api/rooms/{room_id}"),
    ):
        response = await http.request(method, path, headers=bearer)
        assert response.status_code == 404, (method, path, response.status_code, response.text[:200])
    socket = RoomClient(server.base_url, room_id)
    with pytest.raises(CommandFailed) as refused:
        await socket.connect()
    assert refused.value.code == "not_found"
    await socket.wait_until(lambda: socket.close_code is not None)
    assert socket.close_code == 4004
