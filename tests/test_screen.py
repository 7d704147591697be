"""The room's screen over a real socket: a read-only view with no key and no identity, that
sees what participants see, follows the console's choice, and is counted as a screen."""

from __future__ import annotations

from typing import Any

import pytest

from app.client import CommandFailed, RoomClient
from tests.conftest import MakeClient, NewRoom


async def screen(clients: MakeClient, room: dict[str, Any]) -> RoomClient:
    view = clients(room["room_id"])
    await view.connect(screen=True)
    return view


async def test_a_screen_needs_no_key_and_becomes_nobody(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    view = await screen(clients, room)
    assert view.welcome is not None
    you = view.welcome["you"]
    assert (you["role"], you["participant_id"], you["token"]) == ("screen", None, None)
    assert view.welcome["snapshot"]["settings"]["screen"] == {"view": "code", "statement_id": None, "question": 0}
    assert view.welcome["snapshot"]["settings"]["join_code"] == room["join_code"]
    with pytest.raises(CommandFailed) as refused:
        await view.command("add_note", area_id="now", text="Från väggen")
    assert refused.value.code == "forbidden"
    with pytest.raises(CommandFailed) as refused:
        await view.command("set_screen", view="board")
    assert refused.value.code == "forbidden"


async def test_presence_counts_people_consoles_and_screens_apart(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    consoles = [clients(room["room_id"], room["facilitator_token"]) for _ in range(2)]
    for console in consoles:
        await console.connect()
    alice = clients(room["room_id"])
    await alice.connect(name="Alice")
    second_tab = clients(room["room_id"], alice.token)
    await second_tab.connect()
    await screen(clients, room)
    await screen(clients, room)

    def counted() -> bool:
        presence = next((m for m in reversed(consoles[0].messages) if m["type"] == "presence"), None)
        return presence is not None and (presence["online"], presence["consoles"], presence["screens"]) == (1, 2, 2)

    await consoles[0].wait_until(counted)
    presence = next(m for m in reversed(consoles[0].messages) if m["type"] == "presence")
    assert presence["participants"] == 1, "a screen is no participant, and two tabs are one person"


async def test_the_screen_sees_what_participants_see_and_follows_the_console(
    new_room: NewRoom, clients: MakeClient
) -> None:
    room = await new_room()
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    view = await screen(clients, room)
    people = [clients(room["room_id"]) for _ in range(3)]
    for person in people:
        await person.connect()
    last: dict[str, Any] = {}
    for person, value in zip(people, [2, 5, 9], strict=True):
        last = await person.command("set_score", statement_id="s1", value=value)
    await view.wait_until(lambda: (view.spectrum or {}).get("seq", 0) >= last["seq"])
    assert view.spectrum is not None and view.spectrum["statements"] is None, "blind while hidden"
    assert view.spectrum["voters"] == 3, "but how many have answered is shown"
    revealed = await facilitator.command("set_results_visible", visible=True)
    await view.wait_until(lambda: bool((view.spectrum or {}).get("statements")))
    assert view.spectrum["statements"][0]["histogram"][1] == 1  # type: ignore[index]

    chosen = await facilitator.command("set_screen", view="statement", statement_id="s4")
    changed = await view.wait_for(lambda m: m["type"] == "screen_changed")
    assert changed["seq"] == chosen["seq"] > revealed["seq"]
    assert changed["screen"] == {"view": "statement", "statement_id": "s4", "question": 0}
    await facilitator.command("set_screen", view="questions", question=2, statement_id="s4")
    changed = await view.wait_for(lambda m: m["type"] == "screen_changed" and m["screen"]["view"] == "questions")
    assert changed["screen"] == {"view": "questions", "statement_id": None, "question": 2}, "only what the view uses"
    for bad, code in (
        ({"view": "statement"}, "invalid_message"),
        ({"view": "statement", "statement_id": "s99"}, "not_found"),
        ({"view": "questions", "question": 19}, "not_found"),
    ):
        with pytest.raises(CommandFailed) as refused:
            await facilitator.command("set_screen", **bad)
        assert refused.value.code == code, bad
    again = await screen(clients, room)
    assert again.welcome is not None
    assert again.welcome["snapshot"]["settings"]["screen"]["view"] == "questions", "a new screen starts where it is"
    private = {"score_set", "my_vote", "participant_joined"}
    assert not [m for m in view.messages if m["type"] in private], "a screen gets nobody's own events"
