"""docs/protocol.md against what a real server sends: every JSON example of a server message
has the shape of a message the server really sent in a workshop played here (the same keys,
all the way down), so the doc cannot drift from the server while its examples stay valid.

tests/test_protocol_doc.py checks the examples against the models; this checks them against
the wire.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from pydantic import ValidationError

from app import protocol as p
from app.client import CommandFailed, RoomClient
from tests.conftest import MakeClient, NewRoom
from tests.test_protocol_doc import SERVER_TYPES, typed_examples

# Keys that are data, not shape: texts by language, answers by statement id.
DATA_KEY = re.compile(r"^(sv|en|fi|s\d+)$")


def shape(value: Any) -> Any:
    """The keys of a message all the way down; lists by their first item; maps keyed by
    language or statement id as one opaque "map"."""
    if isinstance(value, dict):
        if value and all(DATA_KEY.match(key) for key in value):
            return "map"
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "value"


def compatible(documented: Any, real: Any) -> bool:
    """Everything the example shows, the real message has, with the same keys at every level
    (where the example shows an empty list, a map or a plain value, anything goes)."""
    if isinstance(documented, dict):
        return (
            isinstance(real, dict)
            and documented.keys() == real.keys()
            and all(compatible(documented[k], real[k]) for k in documented)
        )
    if isinstance(documented, list) and documented:
        return isinstance(real, list) and bool(real) and compatible(documented[0], real[0])
    return True


async def play_a_workshop(new_room: NewRoom, clients: MakeClient) -> list[dict[str, Any]]:
    """Every server message type, as a facilitator and three participants receive them."""
    room = await new_room()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    alice, bob, cleo = (clients(room["room_id"]) for _ in range(3))
    await alice.connect(name="Alice")
    await bob.connect()
    await cleo.connect()
    await facilitator.command("update_room", desired_enabled=True, case_number="KS 2026/1")
    await facilitator.command("set_groups", groups=[{"id": "staff", "name": "Medarbetare"}])
    for person in (alice, bob, cleo):
        await person.command("set_profile", group="staff")
    await facilitator.command("set_phase", phase="grade")
    await facilitator.command("set_screen", view="statement", statement_id="s1")
    await facilitator.command("set_timer", seconds=300)
    for round_number in (1, 2):
        for index, person in enumerate((alice, bob, cleo)):
            await person.command("set_score", statement_id="s1", value=3 + index + round_number)
            await person.command("set_score", statement_id="s1", value=8, kind="desired")
            await person.command("set_score", statement_id="s2", value="unknown" if index == 0 else 4)
        await facilitator.command("set_results_visible", visible=True)
        if round_number == 1:
            await facilitator.command("start_round")
    last = await facilitator.command("set_voting_locked", locked=True)
    await facilitator.wait_until(
        lambda: (facilitator.spectrum or {}).get("seq", 0) >= 0 and facilitator.last_seq == last["seq"]
    )
    note = await alice.command("add_note", area_id="now", text="Fråga brukarna först", statement_id="s1")
    added = next(n for n in alice.notes.values())
    await bob.command("vote_note", note_id=added["id"], voted=True)
    await alice.command("edit_note", note_id=added["id"], text="Fråga brukarna", base_version=1)
    with pytest.raises(CommandFailed):
        await bob.command("delete_note", note_id=added["id"])
    await bob.send({"type": "ping", "cid": "p-1"})
    await bob.wait_for(lambda m: m["type"] == "pong")
    await bob.drop()
    await alice.command("add_note", area_id="now", text="Medan Bo var borta")
    await bob.connect()  # resumes: a welcome with the events it missed
    await alice.command("delete_note", note_id=added["id"])
    assert note["seq"] > 0
    people: list[RoomClient] = [facilitator, alice, bob, cleo]
    await facilitator.command("set_phase", phase="closed")
    await asyncio.sleep(0)
    deleted = await facilitator_http_delete(facilitator, room)
    for person in people:
        await person.wait_for(lambda m: m["type"] == "room_deleted")
    assert deleted
    return [message for person in people for message in person.messages]


async def facilitator_http_delete(facilitator: RoomClient, room: dict[str, Any]) -> bool:
    import httpx

    base = facilitator.url.replace("ws://", "http://").split("/ws/", 1)[0]
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.delete(
            f"/api/rooms/{room['room_id']}", headers={"Authorization": f"Bearer {room['facilitator_token']}"}
        )
    return response.status_code == 204


async def test_every_documented_server_message_has_the_shape_of_a_real_one(
    new_room: NewRoom, clients: MakeClient
) -> None:
    sent = await play_a_workshop(new_room, clients)
    real: dict[str, list[Any]] = {}
    for message in sent:
        real.setdefault(message["type"], []).append(shape(message))
        for event in message.get("events") or []:
            real.setdefault(event["type"], []).append(shape(event))
    assert set(SERVER_TYPES) <= set(real), f"the workshop never produced {set(SERVER_TYPES) - set(real)}"
    for example in typed_examples():
        if example["type"] not in SERVER_TYPES:
            continue
        documented = shape(example)
        assert any(compatible(documented, candidate) for candidate in real[example["type"]]), (
            f"docs/protocol.md shows a {example['type']!r} the server never sends:\n{documented}\n"
            f"the server sent, e.g.:\n{real[example['type']][-1]}"
        )


def test_update_room_changes_every_setting_but_the_groups_within_the_setting_s_own_limits() -> None:
    """Made from RoomConfig: a setting added there is one `update_room` can change, with the
    same limits, and nothing else is accepted."""
    assert set(p.UpdateRoom.model_fields) == set(p.RoomConfig.model_fields) - {"groups"} | {"type", "cid"}
    left_out = p.UpdateRoom.model_validate({"type": "update_room", "cid": "c1"})
    assert all(getattr(left_out, name) is None for name in p.RoomConfig.model_fields if name != "groups")
    for name in p.RoomConfig.model_fields:
        if name == "groups":
            continue
        schema = p.RoomConfig.model_json_schema()["properties"][name]
        limits = {key: schema[key] for key in ("minimum", "maximum", "maxLength", "enum") if key in schema}
        given = p.UpdateRoom.model_json_schema()["properties"][name]
        assert any(all(option.get(key) == value for key, value in limits.items()) for option in given["anyOf"]), (
            name,
            given,
        )
    refusals: list[dict[str, Any]] = [
        {"group_min_size": 1},
        {"votes_per_person": 21},
        {"note_order": "x"},
        {"groups": []},
    ]
    for refused in refusals:
        with pytest.raises(ValidationError):
            p.UpdateRoom.model_validate({"type": "update_room", "cid": "c1", **refused})
