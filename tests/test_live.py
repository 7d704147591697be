"""The workshop over real sockets: a real server process, real WebSocket clients.

Runs once on SQLite and once on PostgreSQL (the `server` fixture is parametrised).
"""

from __future__ import annotations

import asyncio
import random
import statistics
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.client import CommandFailed, RoomClient
from tests.conftest import MakeClient, NewRoom

STATEMENTS = [f"s{i}" for i in range(1, 11)]


async def facilitator_and(
    room: dict[str, Any], clients: MakeClient, participants: int
) -> tuple[RoomClient, list[RoomClient]]:
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    people = [clients(room["room_id"]) for _ in range(participants)]
    await asyncio.gather(*(person.connect() for person in people))
    return facilitator, people


@pytest.mark.parametrize("participants", [2, 20])
async def test_everyone_sees_everyones_notes(new_room: NewRoom, clients: MakeClient, participants: int) -> None:
    room = await new_room()
    facilitator, people = await facilitator_and(room, clients, participants)
    areas = ["thoughts", "insights", "who", "now", "needed"]
    for index, person in enumerate(people):
        await person.command("add_note", area_id=areas[index % 5], text=f"Lapp {index} från deltagare")
    for viewer in [facilitator, *people]:

        def has_every_note(v: RoomClient = viewer) -> bool:
            return len(v.notes) == participants

        await viewer.wait_until(has_every_note)
        texts = sorted(note["text"] for note in viewer.notes.values())
        assert texts == sorted(f"Lapp {i} från deltagare" for i in range(participants))


async def test_scores_aggregate_exactly(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, people = await facilitator_and(room, clients, 12)
    rng = random.Random(7)
    for person in people:
        for statement in rng.sample(STATEMENTS, 6):
            await person.command("set_score", statement_id=statement, value=rng.randint(1, 10))
            await person.command("set_score", statement_id=statement, value=rng.randint(1, 10))
    # One answer is cleared again: it must leave every figure.
    answered = next(m["statement_id"] for m in people[0].messages if m["type"] == "score_set")
    ack = await people[0].command("set_score", statement_id=answered, value=None)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= ack["seq"])
    spectrum = facilitator.spectrum
    assert spectrum is not None
    expected = _scores_from_messages(people)
    for entry in spectrum["statements"]:
        values = expected[entry["statement_id"]]
        assert entry["n"] == len(values)
        assert entry["histogram"] == [values.count(v) for v in range(1, 11)]
        if values:
            assert entry["mean"] == pytest.approx(statistics.fmean(values))
            assert entry["median"] == pytest.approx(statistics.median(values))
            assert entry["sd"] == pytest.approx(statistics.pstdev(values))
        else:
            assert entry["mean"] is None and entry["median"] is None
    means = [statistics.fmean(v) for v in expected.values() if v]
    assert spectrum["overall"] == pytest.approx(statistics.fmean(means))
    assert spectrum["voters"] == 12


def _acked_scores(client: RoomClient) -> list[dict[str, Any]]:
    return [m for m in client.messages if m["type"] == "score_set"]


def _scores_from_messages(people: list[RoomClient]) -> dict[str, list[int]]:
    """Each participant's final answers, as its own score_set events told it."""
    result: dict[str, list[int]] = {s: [] for s in STATEMENTS}
    for person in people:
        final: dict[str, int | None] = {}
        for event in _acked_scores(person):
            final[event["statement_id"]] = event["value"]
        for statement, value in final.items():
            if value is not None:
                result[statement].append(value)
    return result


async def test_hidden_results_do_not_reach_participants(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice, bob) = await facilitator_and(room, clients, 2)
    await alice.command("set_score", statement_id="s1", value=3)
    ack = await bob.command("set_score", statement_id="s1", value=9)
    await bob.wait_until(lambda: bob.spectrum is not None and bob.spectrum["seq"] >= ack["seq"])
    for person in (alice, bob):
        for message in person.messages:
            if message["type"] == "spectrum":
                assert message["statements"] is None and message["overall"] is None
            if message["type"] == "score_set":
                assert message.get("value") in {3, 9}
        # Nobody learns another's score: only its own score_set events arrive.
        values = {m["value"] for m in person.messages if m["type"] == "score_set"}
        assert values == ({3} if person is alice else {9})
    assert bob.spectrum is not None and bob.spectrum["voters"] == 2
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= ack["seq"])
    assert facilitator.spectrum is not None and facilitator.spectrum["statements"][0]["n"] == 2

    reveal = await facilitator.command("set_results_visible", visible=True)
    await alice.wait_until(lambda: bool(alice.spectrum and alice.spectrum["statements"]))
    assert alice.spectrum is not None
    assert alice.spectrum["statements"][0]["histogram"][2] == 1
    assert alice.spectrum["statements"][0]["histogram"][8] == 1
    assert reveal["seq"] > ack["seq"]


async def test_facilitator_commands_are_refused_for_participants(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice,) = await facilitator_and(room, clients, 1)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("set_phase", {"phase": "closed"}),
        ("set_results_visible", {"visible": True}),
        ("set_voting_locked", {"locked": True}),
        ("set_timer", {"seconds": 60}),
        ("set_groups", {"groups": [{"id": "chefer", "name": "Chefer"}]}),
        ("update_room", {"title": "Kapad"}),
    ]
    for command, fields in attempts:
        with pytest.raises(CommandFailed) as refused:
            await alice.command(command, **fields)
        assert refused.value.code == "forbidden"
    # Nothing changed, and the facilitator may do each of them.
    assert alice.settings["phase"] == "lobby" and alice.settings["results_visible"] is False
    await facilitator.command("set_voting_locked", locked=True)
    with pytest.raises(CommandFailed) as locked:
        await alice.command("set_score", statement_id="s1", value=5)
    assert locked.value.code == "voting_locked"
    await facilitator.command("set_phase", phase="grade")
    await alice.wait_until(lambda: alice.settings["phase"] == "grade" and alice.settings["voting_locked"])


async def test_reconnect_returns_exactly_the_missing_events(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice, bob) = await facilitator_and(room, clients, 2)
    await alice.command("add_note", area_id="thoughts", text="Före avbrottet")
    await bob.wait_until(lambda: len(bob.notes) == 1)
    seen_before = bob.last_seq
    await bob.drop()

    added = await alice.command("add_note", area_id="insights", text="Medan Bob var borta")
    note_id = next(n["id"] for n in alice.notes.values() if n["text"] == "Medan Bob var borta")
    await alice.command("edit_note", note_id=note_id, text="Medan Bob var borta (ändrad)")
    await facilitator.command("set_phase", phase="document")
    await alice.command("set_score", statement_id="s2", value=4)  # private to Alice

    welcome = await bob.connect()
    assert welcome["snapshot"] is None, "a short gap is replayed, not re-sent whole"
    replayed = welcome["events"]
    assert [e["seq"] for e in replayed] == sorted(e["seq"] for e in replayed)
    assert all(e["seq"] > seen_before for e in replayed)
    assert [e["type"] for e in replayed] == ["note_added", "note_updated", "phase_changed"]
    assert replayed[0]["seq"] == added["seq"]
    assert bob.notes[note_id]["text"] == "Medan Bob var borta (ändrad)"
    assert bob.settings["phase"] == "document"

    # A client from another epoch or far behind gets a snapshot instead.
    stale = clients(room["room_id"], bob.token)
    stale.epoch, stale.last_seq = "not-this-epoch", 1
    welcome = await stale.connect()
    assert welcome["snapshot"] is not None and welcome["events"] is None
    assert {n["text"] for n in welcome["snapshot"]["notes"]} == {
        "Före avbrottet",
        "Medan Bob var borta (ändrad)",
    }


async def test_a_resent_command_is_applied_once(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    _facilitator, (alice, bob) = await facilitator_and(room, clients, 2)
    first = await alice.command("add_note", area_id="now", text="Starta en brukarpanel", cid="same-cid")
    await alice.drop()
    await alice.connect()
    again = await alice.command("add_note", area_id="now", text="Starta en brukarpanel", cid="same-cid")
    assert again["seq"] == first["seq"]
    note = next(iter(alice.notes.values()))
    await alice.command("vote_note", note_id=note["id"], voted=True, cid="vote-1")
    await alice.command("vote_note", note_id=note["id"], voted=True, cid="vote-1")
    await alice.command("vote_note", note_id=note["id"], voted=True, cid="vote-2")
    await bob.wait_until(lambda: bool(bob.notes) and next(iter(bob.notes.values()))["votes"] == 1)
    await asyncio.sleep(0)  # nothing else is queued behind: the count stays one
    assert len(bob.notes) == 1
    assert [m["type"] for m in bob.messages].count("note_added") == 1


async def test_notes_edit_move_delete_and_authorship(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice, bob) = await facilitator_and(room, clients, 2)
    for text in ("Ett", "Två", "Tre"):
        await alice.command("add_note", area_id="who", text=text)
    await bob.wait_until(lambda: len(bob.notes) == 3)
    by_text = {note["text"]: note["id"] for note in alice.notes.values()}

    with pytest.raises(CommandFailed) as not_author:
        await bob.command("edit_note", note_id=by_text["Ett"], text="Bob skriver om")
    assert not_author.value.code == "not_author"
    with pytest.raises(CommandFailed) as unknown:
        await bob.command("delete_note", note_id="n_finns_inte")
    assert unknown.value.code == "not_found"

    await alice.command("move_note", note_id=by_text["Tre"], area_id="needed", index=0)
    await alice.command("move_note", note_id=by_text["Två"], area_id="needed", index=0)
    await facilitator.command("edit_note", note_id=by_text["Ett"], text="Ett (förtydligad)")
    await facilitator.command("delete_note", note_id=by_text["Två"])
    ack = await alice.command("move_note", note_id=by_text["Ett"], area_id="needed", index=1)

    for viewer in (alice, bob, facilitator):

        def is_caught_up(v: RoomClient = viewer, seq: int = ack["seq"]) -> bool:
            return (v.last_seq or 0) >= seq

        await viewer.wait_until(is_caught_up)
        needed = sorted((n for n in viewer.notes.values() if n["area_id"] == "needed"), key=lambda n: n["position"])
        assert [n["text"] for n in needed] == ["Tre", "Ett (förtydligad)"]
        assert by_text["Två"] not in viewer.notes


async def test_server_restart_keeps_everything(database_url: str, tmp_path: Path) -> None:
    from tests.servers import ServerProcess

    server = ServerProcess(database_url, tmp_path)
    server.start()
    try:
        import httpx

        async with httpx.AsyncClient(base_url=server.base_url) as http:
            room = (await http.post("/api/rooms", json={"title": "Omstart"})).json()
        facilitator = RoomClient(server.base_url, room["room_id"], room["facilitator_token"])
        alice = RoomClient(server.base_url, room["room_id"])
        await facilitator.connect()
        await alice.connect(name="Alice")
        await facilitator.command("set_groups", groups=[{"id": "staff", "name": "Medarbetare"}])
        await alice.command("set_profile", name="Alice", group="staff")
        await facilitator.command("set_phase", phase="document")
        await facilitator.command("set_results_visible", visible=True)
        await facilitator.command("set_timer", seconds=600)
        await alice.command("add_note", area_id="insights", text="Värde skapas i användningen")
        note_id = next(iter(alice.notes))
        await alice.command("vote_note", note_id=note_id, voted=True)
        for statement, value in zip(STATEMENTS, range(1, 11), strict=True):
            await alice.command("set_score", statement_id=statement, value=value)
        acked = await alice.command("set_score", statement_id="s10", value=7)
        await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= acked["seq"])
        # Edited, deleted and cleared after they were stored: the later change must win.
        await alice.command("add_note", area_id="now", text="Ta bort mig")
        doomed = next(i for i, n in alice.notes.items() if n["text"] == "Ta bort mig")
        await _stored_score_row(database_url, room["room_id"], "s9")  # so clearing it deletes a row
        await alice.command("edit_note", note_id=note_id, text="Värdet skapas i användningen")
        await alice.command("delete_note", note_id=doomed)
        acked = await alice.command("set_score", statement_id="s9", value=None)
        await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= acked["seq"])

        server.stop()  # graceful: pending score batches are written on the way down
        await alice.wait_until(lambda: alice.close_code is not None)
        assert alice.close_code == 1012, "the documented close code of a restart: reconnect"
        server.start()

        await alice.connect()  # same token, old epoch: a fresh snapshot
        assert alice.welcome is not None
        snapshot = alice.welcome["snapshot"]
        assert alice.welcome["you"]["name"] == "Alice" and alice.welcome["you"]["group"] == "staff"
        assert snapshot["my_scores"] == {
            **{s: v for s, v in zip(STATEMENTS[:8], range(1, 9), strict=True)},
            "s10": 7,
        }
        assert snapshot["my_votes"] == [note_id]
        settings = snapshot["settings"]
        assert settings["phase"] == "document" and settings["results_visible"] is True
        assert settings["timer_ends_at"] is not None
        assert settings["groups"] == [{"id": "staff", "name": "Medarbetare"}]
        assert [n["text"] for n in snapshot["notes"]] == ["Värdet skapas i användningen"]
        assert snapshot["notes"][0]["votes"] == 1 and snapshot["notes"][0]["author_name"] == "Alice"
        assert snapshot["spectrum"]["statements"][9]["mean"] == 7
        await facilitator.connect()
        assert facilitator.role == "facilitator"
        await alice.close()
        await facilitator.close()
    finally:
        server.stop()


async def _stored_score_row(database_url: str, room_id: str, statement_id: str) -> None:
    """Wait (at most 5 s) until the score batch holding this answer is committed."""
    from sqlalchemy import text

    from app.db import make_engine

    engine = make_engine(database_url)
    query = text("SELECT count(*) FROM score WHERE room_id = :room AND statement_id = :statement")
    try:
        async with asyncio.timeout(5):
            while True:
                with engine.connect() as db:
                    if db.execute(query, {"room": room_id, "statement": statement_id}).scalar_one():
                        return
                await asyncio.sleep(0.05)
    finally:
        engine.dispose()


async def test_dont_know_is_an_answer_of_its_own(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice, bob, cecilia) = await facilitator_and(room, clients, 3)
    await alice.command("set_score", statement_id="s1", value="unknown")
    await bob.command("set_score", statement_id="s1", value=2)
    ack = await cecilia.command("set_score", statement_id="s1", value=4)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= ack["seq"])
    first = facilitator.spectrum["statements"][0]  # type: ignore[index]
    assert (first["n"], first["unknown"], first["mean"], first["histogram"][1]) == (2, 1, 3.0, 1)
    assert facilitator.spectrum["voters"] == 3  # type: ignore[index]
    with pytest.raises(CommandFailed) as refused:
        await alice.command("set_score", statement_id="s1", value="vet inte")
    assert refused.value.code == "invalid_message"
    cleared = await alice.command("set_score", statement_id="s1", value=None)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= cleared["seq"])
    assert facilitator.spectrum["statements"][0]["unknown"] == 0  # type: ignore[index]
    again = await alice.command("set_score", statement_id="s2", value="unknown")
    await alice.wait_until(lambda: (alice.last_seq or 0) >= again["seq"])
    await alice.drop()
    welcome = await alice.connect(resume=False)
    assert welcome["snapshot"]["my_scores"] == {"s2": "unknown"}


async def test_a_note_can_be_linked_to_a_statement(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    _facilitator, (alice, bob) = await facilitator_and(room, clients, 2)
    await alice.command("add_note", area_id="now", text="Fråga brukarna först", statement_id="s2")
    await alice.command("add_note", area_id="now", text="Olänkad")
    with pytest.raises(CommandFailed) as unknown:
        await alice.command("add_note", area_id="now", text="Fel", statement_id="s99")
    assert unknown.value.code == "not_found"
    await bob.wait_until(lambda: len(bob.notes) == 2)
    linked = next(n for n in bob.notes.values() if n["text"] == "Fråga brukarna först")
    assert linked["statement_id"] == "s2"
    other = next(n for n in alice.notes.values() if n["text"] == "Olänkad")
    await alice.command("edit_note", note_id=other["id"], statement_id="s7")
    await alice.command("edit_note", note_id=linked["id"], text="Fråga brukarna")  # link kept
    ack = await alice.command("edit_note", note_id=linked["id"], statement_id=None)
    await bob.wait_until(lambda: (bob.last_seq or 0) >= ack["seq"])
    assert {n["text"]: n["statement_id"] for n in bob.notes.values()} == {"Fråga brukarna": None, "Olänkad": "s7"}


async def test_a_second_round_keeps_the_first_and_shows_the_shift(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, people = await facilitator_and(room, clients, 4)
    first = [3, 4, 6, 8]
    second: list[int | str] = [5, 4, 2, "unknown"]  # right, stayed, left, don't know this time
    value: int | str
    for person, value in zip(people, first, strict=True):
        await person.command("set_score", statement_id="s1", value=value)
    started = await facilitator.command("start_round")
    for person in people:

        def knows_round_two(p: RoomClient = person) -> bool:
            return p.settings.get("round") == 2 or any(m["type"] == "round_started" for m in p.messages)

        await person.wait_until(knows_round_two)
    with pytest.raises(CommandFailed) as refused:
        await people[0].command("start_round")
    assert refused.value.code == "forbidden"
    last = started
    for person, value in zip(people, second, strict=True):
        last = await person.command("set_score", statement_id="s1", value=value)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= last["seq"])
    spectrum = facilitator.spectrum
    assert spectrum is not None and spectrum["round"] == 2 and spectrum["voters"] == 4
    s1 = spectrum["statements"][0]
    assert s1["n"] == 3 and s1["unknown"] == 1 and s1["mean"] == pytest.approx(11 / 3)
    shift = s1["previous"]
    assert shift["round"] == 1 and shift["n"] == 4 and shift["mean"] == pytest.approx(21 / 4)
    assert (shift["moved_left"], shift["moved_right"], shift["stayed"]) == (1, 1, 1)
    # Changing one's mind within round 2 moves the counts, it does not add to them.
    last = await people[2].command("set_score", statement_id="s1", value=9)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= last["seq"])
    shift = facilitator.spectrum["statements"][0]["previous"]  # type: ignore[index]
    assert (shift["moved_left"], shift["moved_right"], shift["stayed"]) == (0, 2, 1)
    # One who answered in round 1 takes the answer back in round 2: round 1 minus round 2
    # would be that person's answer (if the others kept theirs), so round 1 is held back.
    last = await people[0].command("set_score", statement_id="s1", value=None)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= last["seq"])
    shift = facilitator.spectrum["statements"][0]["previous"]  # type: ignore[index]
    assert shift["withheld"] == 4 and shift["n"] == 0 and shift["histogram"] == [0] * 10
    assert (shift["moved_left"], shift["moved_right"], shift["stayed"]) == (None, None, None)
    # A participant sees its own previous answer.
    await people[3].drop()
    welcome = await people[3].connect(resume=False)
    assert welcome["snapshot"]["my_previous_scores"] == {"s1": 8}
    assert welcome["snapshot"]["my_scores"] == {"s1": "unknown"}


async def test_a_new_round_is_graded_blind_until_revealed_again(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, people = await facilitator_and(room, clients, 3)
    for person, value in zip(people, [2, 5, 9], strict=True):
        await person.command("set_score", statement_id="s1", value=value)
    revealed = await facilitator.command("set_results_visible", visible=True)
    phone = people[0]
    await phone.wait_until(lambda: bool((phone.spectrum or {}).get("statements")))
    started = await facilitator.command("start_round")
    assert started["seq"] > revealed["seq"]
    await phone.wait_until(
        lambda: phone.settings.get("round") == 2 or any(m["type"] == "round_started" for m in phone.messages)
    )
    hidden = await phone.wait_for(lambda m: m["type"] == "results_visibility" and m["visible"] is False)
    assert hidden["seq"] == started["seq"], "the ack comes after both events of start_round"
    last = await people[1].command("set_score", statement_id="s1", value=4)
    await phone.wait_until(lambda: (phone.spectrum or {}).get("seq", 0) >= last["seq"])
    assert phone.spectrum is not None and phone.spectrum["statements"] is None and phone.spectrum["visible"] is False
    assert facilitator.spectrum is not None and facilitator.spectrum["statements"] is not None


async def test_a_small_group_is_never_shown_on_its_own(
    new_room: NewRoom, clients: MakeClient, http: httpx.AsyncClient
) -> None:
    room = await new_room()
    facilitator, people = await facilitator_and(room, clients, 7)
    groups = [
        {"id": "chefer", "name": "Chefer"},
        {"id": "staff", "name": "Medarbetare"},
        {"id": "brukare", "name": "Brukare"},
    ]
    await facilitator.command("set_groups", groups=groups)
    membership = ["chefer"] * 3 + ["staff"] * 3 + ["brukare"]
    for person, group in zip(people, membership, strict=True):
        await person.command("set_profile", group=group)
    await facilitator.command("set_results_visible", visible=True)
    last = None
    for index, person in enumerate(people):
        last = await person.command("set_score", statement_id="s1", value=1 + index)
    assert last is not None
    for viewer in [facilitator, *people]:

        def has_the_last_score(v: RoomClient = viewer, seq: int = last["seq"]) -> bool:
            return bool((v.spectrum or {}).get("seq", 0) >= seq)

        await viewer.wait_until(has_the_last_score)
    # One "brukare" voter is fewer than k = 3, and hiding only that group would let anyone
    # subtract it from the room's figures: so one more group is hidden with it.
    spectrum = facilitator.spectrum
    assert spectrum is not None and spectrum["hidden_groups"] == 2
    (shown,) = spectrum["groups"]
    members = {"chefer": slice(0, 3), "staff": slice(3, 6)}[shown["group_id"]]
    histogram = shown["statements"][0]["histogram"]
    assert histogram[members] == [1, 1, 1] and sum(histogram) == 3
    for viewer in [facilitator, *people]:
        for message in viewer.messages:
            for group in (message.get("groups") or []) if message["type"] == "spectrum" else []:
                assert group["group_id"] != "brukare", "a group of one was sent to a client"
    document = (
        await http.get(
            f"/api/rooms/{room['room_id']}/export",
            headers={"Authorization": f"Bearer {room['facilitator_token']}"},
        )
    ).json()
    assert [g["group_id"] for g in document["group_figures"]] == [shown["group_id"]]
    assert all(set(respondent) == {"id", "group_seal"} for respondent in document["respondents"])
    hidden_names = {"chefer": "Chefer", "staff": "Medarbetare"}
    hidden_names.pop(shown["group_id"])
    for fmt in ("csv", "md", "html"):
        text = (
            await http.get(
                f"/api/rooms/{room['room_id']}/export",
                params={"format": fmt},
                headers={"Authorization": f"Bearer {room['facilitator_token']}"},
            )
        ).text
        assert "Brukare" not in text and all(name not in text for name in hidden_names.values()), fmt
    # Two more "brukare" make three groups of three: every group is shown.
    newcomers = [clients(room["room_id"]) for _ in range(2)]
    for person in newcomers:
        await person.connect()
        await person.command("set_profile", group="brukare")
        last = await person.command("set_score", statement_id="s1", value=10)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= last["seq"])
    assert [g["group_id"] for g in facilitator.spectrum["groups"]] == ["chefer", "staff", "brukare"]  # type: ignore[index]
    assert facilitator.spectrum["hidden_groups"] == 0  # type: ignore[index]


async def test_today_and_desired_show_the_gap(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice, bob) = await facilitator_and(room, clients, 2)
    with pytest.raises(CommandFailed) as off:
        await alice.command("set_score", statement_id="s1", value=8, kind="desired")
    assert off.value.code == "not_enabled"
    await facilitator.command("update_room", desired_enabled=True)
    for person, today, desired in ((alice, 3, 8), (bob, 5, 9)):
        await person.command("set_score", statement_id="s1", value=today)
        last = await person.command("set_score", statement_id="s1", value=desired, kind="desired")
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= last["seq"])
    s1 = facilitator.spectrum["statements"][0]  # type: ignore[index]
    assert s1["mean"] == 4.0 and s1["desired"]["mean"] == 8.5 and s1["gap"] == pytest.approx(4.5)
    assert s1["desired"]["histogram"][7:9] == [1, 1]
    assert facilitator.spectrum["voters"] == 2  # type: ignore[index]
    await alice.drop()
    welcome = await alice.connect(resume=False)
    assert welcome["snapshot"]["my_scores"] == {"s1": 3}
    assert welcome["snapshot"]["my_desired_scores"] == {"s1": 8}
    assert welcome["snapshot"]["settings"]["desired_enabled"] is True
