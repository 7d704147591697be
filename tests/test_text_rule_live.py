"""The text rule's refusals of issue 22, against a real server on SQLite and PostgreSQL: DEL,
the C1 controls (U+009B, a terminal's CSI, among them) and the bidirectional embeddings,
overrides and isolates are refused in every text field, over HTTP (422 naming the field),
on the socket (`invalid_message` naming the field, the connection lives on, nothing is
stored) and in an import (422 `invalid_export` naming the field).

The import's file is a real export of a live room, fetched through the API, changed in one
field: so the test keeps working whatever the export's shape becomes.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.client import CommandFailed, Message, RoomClient
from app.db import make_engine
from app.templates import builtin_templates
from tests.conftest import MakeClient, NewRoom
from tests.servers import ServerProcess

TIMEOUT = 10.0
# One of each kind the rule now refuses: DEL, the first and last C1 controls and CSI, an
# embedding, the right-to-left override, an isolate and the isolate's end.
NEWLY_REFUSED = ["\x7f", "\x80", "\x9b", "\x9f", "\u202a", "\u202e", "\u2067", "\u2069"]
# Right-to-left text needs its direction marks: they stay allowed.
DIRECTION_MARKS = "\u200e\u200f"


def code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def is_error(cid: str) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "error" and m.get("cid") == cid


async def refusal(client: RoomClient, command: dict[str, Any]) -> Message:
    """Send a command as raw JSON (so nothing on our side touches the text) and return the
    error it earns."""
    cid = f"c-{secrets.token_hex(4)}"
    since = len(client.messages)
    await client.send_raw(json.dumps({**command, "cid": cid}))
    return await client.wait_for(is_error(cid), TIMEOUT, since)


# ---------------------------------------------------------------- HTTP


@pytest.mark.parametrize("bad", NEWLY_REFUSED, ids=code_point)
async def test_a_room_title_or_template_text_holding_one_is_refused_naming_the_field(
    http: httpx.AsyncClient, bad: str
) -> None:
    titled = await http.post("/api/rooms", json={"title": f"Rum{bad}met"})
    assert titled.status_code == 422, titled.text
    assert titled.json()["code"] == "invalid_request"
    assert [problem["field"] for problem in titled.json()["fields"]] == ["title"]
    assert code_point(bad) in titled.json()["message"]
    template = copy.deepcopy(builtin_templates()["tjanstelogik"].model_dump(mode="json"))
    template["statements"][0]["right"]["en"] = f"Right{bad}pole"
    refused = await http.post("/api/rooms", json={"title": "Mall", "template": template})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_template", refused.text
    assert "template.statements.0.right.en" in [problem["field"] for problem in refused.json()["fields"]]


async def test_direction_marks_are_still_taken(http: httpx.AsyncClient) -> None:
    title = f"שלום{DIRECTION_MARKS[1]} (Solsidan){DIRECTION_MARKS[0]}"
    created = await http.post("/api/rooms", json={"title": title})
    assert created.status_code == 201, created.text
    found = await http.get(f"/api/join/{created.json()['join_code']}")
    assert found.json()["title"] == title


# ---------------------------------------------------------------- the socket


@pytest.mark.parametrize("bad", NEWLY_REFUSED, ids=code_point)
async def test_every_text_on_the_socket_holding_one_is_refused_and_nothing_is_stored(
    new_room: NewRoom, clients: MakeClient, bad: str
) -> None:
    room = await new_room()
    author = clients(room["room_id"])
    await author.connect(name="Abbe")
    await author.command("add_note", area_id="now", text="Min lapp")
    note_id = next(iter(author.notes))
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()

    participant_texts: list[tuple[dict[str, Any], str]] = [
        ({"type": "add_note", "area_id": "now", "text": f"Före{bad}efter"}, "text"),
        ({"type": "edit_note", "note_id": note_id, "text": f"Än{bad}drad"}, "text"),
        ({"type": "set_profile", "name": f"B{bad}o"}, "name"),
    ]
    facilitator_texts: list[tuple[dict[str, Any], str]] = [
        ({"type": "update_room", "title": f"Rum{bad}met"}, "title"),
        ({"type": "update_room", "case_number": f"KS 2026{bad}/17"}, "case_number"),
        ({"type": "set_groups", "groups": [{"id": "chefer", "name": f"Che{bad}fer"}]}, "groups.0.name"),
        ({"type": "add_note", "area_id": "now", "text": f"Processledarens{bad}lapp"}, "text"),
    ]
    for client, commands in ((author, participant_texts), (facilitator, facilitator_texts)):
        for command, field in commands:
            error = await refusal(client, command)
            assert error["code"] == "invalid_message", (command, error)
            assert error["message"].startswith(f"{field}:"), error["message"]
            assert code_point(bad) in error["message"], error["message"]

    # Both connections live on and are served; a newcomer's snapshot holds none of it.
    ack = await author.command("add_note", area_id="now", text="Fortfarande här")
    await facilitator.wait_for(lambda m: m["type"] == "note_added" and m["seq"] == ack["seq"], TIMEOUT)
    await facilitator.command("update_room", title="Nytt namn")
    newcomer = clients(room["room_id"], room["facilitator_token"])
    await newcomer.connect()
    assert sorted(note["text"] for note in newcomer.notes.values()) == ["Fortfarande här", "Min lapp"]
    assert newcomer.notes[note_id]["version"] == 1
    assert newcomer.settings["title"] == "Nytt namn" and newcomer.settings["groups"] == []
    assert newcomer.settings["case_number"] is None
    assert [person["name"] for person in newcomer.participants.values()] == ["Abbe"]
    assert author.close_code is None and facilitator.close_code is None


@pytest.mark.parametrize("bad", ["\x9b", "\u202e"], ids=code_point)
async def test_a_hello_whose_name_holds_one_is_refused_and_a_clean_one_joins(
    new_room: NewRoom, server: ServerProcess, bad: str
) -> None:
    room = await new_room()
    person = RoomClient(server.base_url, room["room_id"])
    try:
        with pytest.raises(CommandFailed) as refused:
            await person.connect(name=f"E{bad}va")
        assert refused.value.code == "invalid_message" and refused.value.error["message"].startswith("name:")
        assert person.close_code is None, "the connection waits for a valid hello"
        await person.send_raw(json.dumps({"type": "hello", "name": f"Eva{DIRECTION_MARKS[0]}"}))
        welcome = await person.wait_for(lambda m: m["type"] == "welcome", TIMEOUT)
        assert welcome["you"]["name"] == f"Eva{DIRECTION_MARKS[0]}"
    finally:
        await person.close()


# ---------------------------------------------------------------- the import


@pytest.fixture
def rooms_stored(server: ServerProcess) -> Iterator[Callable[[], int]]:
    engine = make_engine(server.env["SAMSKAPA_DATABASE_URL"])

    def count() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM room")).scalar_one())

    yield count
    engine.dispose()


async def test_an_export_holding_one_in_any_text_is_refused_naming_the_field_and_leaves_nothing(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient, rooms_stored: Callable[[], int]
) -> None:
    room = await new_room(title="Exporterat rum")
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    await facilitator.command("set_groups", groups=[{"id": "chefer", "name": "Chefer"}])
    await facilitator.command("update_room", case_number="KS 2026/17")
    author = clients(room["room_id"])
    await author.connect(name="Åsa")
    await author.command("add_note", area_id="now", text="Lapp att exportera")
    exported = await http.get(
        f"/api/rooms/{room['room_id']}/export",
        params={"format": "json"},
        headers={"Authorization": f"Bearer {room['facilitator_token']}"},
    )
    assert exported.status_code == 200, exported.text
    good: dict[str, Any] = exported.json()
    # The file as it is imports: whatever refuses the changed ones below is the character.
    clean = await http.post("/api/rooms/import", content=json.dumps(good))
    assert clean.status_code == 201, clean.text

    def changed(path: str, bad: str) -> dict[str, Any]:
        """The export with `bad` put into the text at `path` (dotted, list indexes as numbers)."""
        document = copy.deepcopy(good)
        *parents, last = path.split(".")
        holder: Any = document
        for part in parents:
            holder = holder[int(part)] if isinstance(holder, list) else holder[part]
        key: Any = int(last) if isinstance(holder, list) else last
        assert isinstance(holder[key], str), f"{path} is no text in the export: {holder[key]!r}"
        value: str = holder[key]
        holder[key] = value[:1] + bad + value[1:]
        return document

    paths = [
        "room.title",
        "room.case_number",
        "room.groups.0.name",
        "notes.0.text",
        "notes.0.author_name",
        "template.statements.0.left.sv",
    ]
    before = rooms_stored()
    for path in paths:
        for bad in NEWLY_REFUSED:
            response = await http.post("/api/rooms/import", content=json.dumps(changed(path, bad)))
            assert response.status_code == 422, (path, code_point(bad), response.text[:300])
            body = response.json()
            assert body["code"] == "invalid_export", (path, body)
            assert path in body["message"] and code_point(bad) in body["message"], (path, body["message"])
            assert path in [problem["field"] for problem in body["fields"]], (path, body["fields"])
    assert rooms_stored() == before, "nothing half-imported remains"
