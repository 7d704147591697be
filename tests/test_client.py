"""app/client.py keeps the room's settings as the server sends them: a `room_updated` is the
whole configuration, so every field of p.RoomConfig reaches the client's settings, today's
and any added later, without the client listing them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from app import protocol as p
from app.client import EVENT_ENVELOPE, RoomClient
from tests.conftest import MakeClient, NewRoom

TIMEOUT = 10.0

# A value for every field of the room's configuration, none of them its default.
CHANGED: dict[str, Any] = {
    "title": "Solsidan, våren",
    "language": "en",
    "groups": [{"id": "staff", "name": "Medarbetare"}],
    "group_min_size": 4,
    "desired_enabled": True,
    "case_number": "KS 2026/123",
    "votes_per_person": 3,
    "note_order": "votes",
}


def welcomed() -> RoomClient:
    """A client that has applied a welcome whose snapshot holds a new room's settings."""
    client = RoomClient("http://127.0.0.1:1", "room")
    new = p.RoomSettings(title="Rummet", language="sv", join_code="123456", expires_at=datetime(2026, 6, 1, tzinfo=UTC))
    settings = new.model_dump(mode="json")
    you = {"role": "facilitator", "participant_id": None}
    snapshot: dict[str, Any] = {"notes": [], "spectrum": None, "settings": settings}
    client._apply({"type": "welcome", "epoch": "e", "seq": 3, "you": you, "snapshot": snapshot, "events": None})
    return client


def test_the_example_changes_every_field_of_the_room_config() -> None:
    assert set(CHANGED) == set(p.RoomConfig.model_fields), "give the new field a value in CHANGED"
    defaults = p.RoomConfig(title="Rummet", language="sv").model_dump(mode="json")
    assert all(CHANGED[name] != defaults[name] for name in CHANGED)


def test_the_envelope_the_client_leaves_out_is_what_room_updated_adds_to_the_config() -> None:
    assert set(p.RoomUpdated.model_fields) - set(p.RoomConfig.model_fields) == EVENT_ENVELOPE


def test_room_updated_brings_every_field_of_the_config_into_the_settings() -> None:
    client = welcomed()
    event = p.RoomUpdated.model_validate(CHANGED)
    event.seq = 4
    client._apply(json.loads(event.model_dump_json()))
    assert {name: client.settings[name] for name in CHANGED} == CHANGED
    assert client.settings["phase"] == "lobby", "the room's flow is not the event's to change"
    assert client.last_seq == 4
    assert "type" not in client.settings and "seq" not in client.settings


def test_a_field_the_client_has_never_heard_of_arrives_too() -> None:
    """A server one version ahead adds a room setting: the client keeps it as it comes."""
    client = welcomed()
    config = p.RoomConfig(title="Rummet", language="sv").model_dump(mode="json")
    client._apply({"type": "room_updated", "seq": 4, **config, "dot_budget": 5})
    assert client.settings["dot_budget"] == 5


async def test_a_case_number_set_live_reaches_every_client_s_settings(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    participant = clients(room["room_id"])
    await facilitator.connect()
    await participant.connect(name="Åsa")
    assert participant.settings["case_number"] is None
    await facilitator.command("update_room", case_number="KS 2026/17")
    await facilitator.wait_until(lambda: facilitator.settings["case_number"] == "KS 2026/17", TIMEOUT)
    await participant.wait_until(lambda: participant.settings["case_number"] == "KS 2026/17", TIMEOUT)
    await facilitator.command("update_room", case_number="")
    await participant.wait_until(lambda: participant.settings["case_number"] is None, TIMEOUT)
