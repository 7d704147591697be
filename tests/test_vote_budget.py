"""A dot-vote budget per person, and notes listed most votes first (issue 23's proof that a
room's contracts can change): over a real socket, and read by a client of the protocol as
it was before the change.

A budget forces a choice: with three votes each, a room of forty says which ten notes
matter. The facilitator sets it (0: no limit) and the order every board follows; a vote
beyond it is refused with `vote_budget_spent`, and taking one back frees it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.client import CommandFailed, RoomClient
from tests.conftest import MakeClient, NewRoom

TIMEOUT = 10.0
BEFORE = Path(__file__).parent / "protocol_corpus" / "protocol-1-before-vote-budgets.json"


async def notes_by(author: RoomClient, texts: list[str]) -> list[str]:
    """The ids of new notes of `author`'s, in the room's first area."""
    assert author.welcome is not None and author.welcome["snapshot"] is not None
    area = author.welcome["snapshot"]["template"]["areas"][0]["id"]
    for text in texts:
        await author.command("add_note", area_id=area, text=text)  # acked after its note_added
    return [next(n["id"] for n in author.notes.values() if n["text"] == text) for text in texts]


async def refused_code(client: RoomClient, command: str, **fields: Any) -> str:
    with pytest.raises(CommandFailed) as refused:
        await client.command(command, **fields)
    return str(refused.value.error["code"])


async def test_a_vote_beyond_the_budget_is_refused_and_one_taken_back_frees_it(
    new_room: NewRoom, clients: MakeClient
) -> None:
    room = await new_room()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    anna = clients(room["room_id"])
    bo = clients(room["room_id"])
    await facilitator.connect()
    await anna.connect(name="Anna")
    await bo.connect(name="Bo")
    assert anna.settings["votes_per_person"] == 0, "no limit unless the facilitator sets one"
    first, second, third, fourth = await notes_by(
        bo, ["Tid att reflektera", "Färre möten", "Fråga brukarna", "Dela data"]
    )

    await facilitator.command("update_room", votes_per_person=2)
    await anna.wait_until(lambda: anna.settings["votes_per_person"] == 2, TIMEOUT)
    await anna.command("vote_note", note_id=first, voted=True)
    await anna.command("vote_note", note_id=second, voted=True)
    assert await refused_code(anna, "vote_note", note_id=third, voted=True) == "vote_budget_spent"
    # Voting again for a note you already chose spends nothing; nor does taking a vote back.
    await anna.command("vote_note", note_id=second, voted=True)
    await anna.command("vote_note", note_id=first, voted=False)
    await anna.command("vote_note", note_id=third, voted=True)
    # Each person has their own budget, and the facilitator none.
    await bo.command("vote_note", note_id=first, voted=True)
    await bo.command("vote_note", note_id=third, voted=True)
    for note in (first, second, third, fourth):
        await facilitator.command("vote_note", note_id=note, voted=True)

    votes = {note: 0 for note in (first, second, third, fourth)}
    for voter_notes in ([second, third], [first, third], [first, second, third, fourth]):
        for note in voter_notes:
            votes[note] += 1
    await facilitator.wait_until(lambda: {n: facilitator.notes[n]["votes"] for n in votes} == votes, TIMEOUT)

    # A note deleted takes its votes with it: the vote on it is free again.
    await facilitator.command("delete_note", note_id=second)
    await anna.command("vote_note", note_id=fourth, voted=True)
    # Lowered below what someone has spent, the budget keeps their votes and takes no new one.
    await facilitator.command("update_room", votes_per_person=1)
    await anna.wait_until(lambda: anna.settings["votes_per_person"] == 1, TIMEOUT)
    assert await refused_code(anna, "vote_note", note_id=first, voted=True) == "vote_budget_spent"
    assert facilitator.notes[third]["votes"] == 3 and facilitator.notes[fourth]["votes"] == 2
    # 0 lifts the limit.
    await facilitator.command("update_room", votes_per_person=0)
    await anna.wait_until(lambda: anna.settings["votes_per_person"] == 0, TIMEOUT)
    await anna.command("vote_note", note_id=first, voted=True)


async def test_only_the_facilitator_sets_the_budget_and_the_order_and_everyone_follows(
    new_room: NewRoom, clients: MakeClient
) -> None:
    room = await new_room()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    anna = clients(room["room_id"])
    await facilitator.connect()
    await anna.connect()
    assert await refused_code(anna, "update_room", note_order="votes") == "forbidden"
    assert await refused_code(facilitator, "update_room", votes_per_person=21) == "invalid_message"
    assert await refused_code(facilitator, "update_room", note_order="alphabet") == "invalid_message"
    await facilitator.command("update_room", note_order="votes", votes_per_person=3)
    await anna.wait_until(lambda: anna.settings["note_order"] == "votes", TIMEOUT)
    # A newcomer gets both in its welcome.
    late = clients(room["room_id"])
    welcome = await late.connect()
    settings = welcome["snapshot"]["settings"]
    assert (settings["note_order"], settings["votes_per_person"]) == ("votes", 3)


async def test_the_budget_and_order_survive_an_export_and_its_import(
    new_room: NewRoom, clients: MakeClient, http: httpx.AsyncClient
) -> None:
    room = await new_room()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    await facilitator.command("update_room", note_order="votes", votes_per_person=5)
    headers = {"Authorization": f"Bearer {room['facilitator_token']}"}
    exported = (await http.get(f"/api/rooms/{room['room_id']}/export", headers=headers)).json()
    assert exported["schema_version"] == 4
    assert (exported["room"]["votes_per_person"], exported["room"]["note_order"]) == (5, "votes")
    imported = await http.post("/api/rooms/import", json=exported)
    assert imported.status_code == 201, imported.text
    again = clients(imported.json()["room_id"])
    settings = (await again.connect())["snapshot"]["settings"]
    assert (settings["votes_per_person"], settings["note_order"]) == (5, "votes")


# ---------------------------------------------------------------- a client of the protocol before


def read_as_before(document: dict[str, Any]) -> dict[str, Any]:
    """The protocol document as written before the change, read the way docs/protocol.md
    tells a client to read the server within a version: a field it does not know is
    ignored, an error code it does not know is shown by its message. Nothing else is
    relaxed: every field it knows must still be there, with its type."""
    relaxed = copy.deepcopy(document)

    def open_objects(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("additionalProperties") is False:
                del node["additionalProperties"]
            for value in node.values():
                open_objects(value)
        elif isinstance(node, list):
            for value in node:
                open_objects(value)

    open_objects(relaxed["components"]["schemas"])
    relaxed["components"]["schemas"]["ErrorCode"] = {"type": "string"}
    return relaxed


def validator_of(document: dict[str, Any], name: str) -> Draft202012Validator:
    uri = "urn:samskapa:protocol-before"
    registry: Registry[Any] = Registry().with_resource(uri, Resource.from_contents(document, DRAFT202012))
    return Draft202012Validator({"$ref": f"{uri}#/components/schemas/{name}"}, registry=registry)


async def test_a_client_of_the_protocol_before_the_budget_keeps_working(new_room: NewRoom, clients: MakeClient) -> None:
    """Every frame such a client sends is one the document before the change accepts, and
    every frame it receives in a room with a budget and votes first is one it can read:
    it adds notes and votes as before, and the vote beyond the budget reaches it as an
    error with its cid, which it shows by its message."""
    before = json.loads(BEFORE.read_text())
    assert "vote_budget_spent" not in json.dumps(before), "the document of the protocol before the change"
    assert "votes_per_person" not in json.dumps(before)
    strict = validator_of(before, "ServerMessage")
    tolerant = validator_of(read_as_before(before), "ServerMessage")
    commands = validator_of(before, "ClientMessage")

    room = await new_room()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    await facilitator.command("update_room", votes_per_person=1, note_order="votes")
    old = clients(room["room_id"])
    sent: list[dict[str, Any]] = []
    send_raw = old.send_raw

    async def recorded(frame: str | bytes) -> None:
        sent.append(json.loads(frame))
        await send_raw(frame)

    old.send_raw = recorded  # type: ignore[method-assign]
    # Its hello names no `protocols`: it was written before the server learnt to choose.
    await old.connect(name="Gammal")
    assert old.welcome is not None and old.welcome["protocol"] == 1
    first, second = await notes_by(old, ["Ett", "Två"])
    await old.command("vote_note", note_id=first, voted=True)
    with pytest.raises(CommandFailed) as refused:
        await old.command("vote_note", note_id=second, voted=True)
    assert refused.value.error["message"], "an unknown code is shown by its message"

    assert sent and "protocols" not in sent[0]
    for frame in sent:
        assert not list(commands.iter_errors(frame)), frame
    received = old.messages
    for frame in received:
        assert not list(tolerant.iter_errors(frame)), frame
    assert any(list(strict.iter_errors(frame)) for frame in received), (
        "the new settings are there for a client that knows them"
    )
    assert {"welcome", "note_added", "note_updated", "ack", "error", "my_vote"} <= {f["type"] for f in received}
