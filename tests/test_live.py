"""The workshop over real sockets: a real server process, real WebSocket clients.

Runs once on SQLite and once on PostgreSQL (the `server` fixture is parametrised).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.client import CommandFailed, Message, RoomClient
from tests.conftest import MakeClient, NewRoom

STATEMENTS = [f"s{i}" for i in range(1, 11)]
K = 3  # group_min_size, k, of a new room
HIDDEN = {"statements": None, "overall": None, "groups": None, "hidden_groups": 0}


async def facilitator_and(
    room: dict[str, Any], clients: MakeClient, participants: int
) -> tuple[RoomClient, list[RoomClient]]:
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    people = [clients(room["room_id"]) for _ in range(participants)]
    await asyncio.gather(*(person.connect() for person in people))
    return facilitator, people


def expect_figures(entry: Message, answers: Sequence[int | str], k: int = K, shown: bool | None = None) -> None:
    """`entry` holds exactly the figures of `answers` (grades 1-10 and "unknown"), worked
    out here; or, held back (by default when fewer than k are grades), only their number."""
    grades = [answer for answer in answers if isinstance(answer, int)]
    if shown is None:
        shown = len(grades) >= k
    figures = (entry["withheld"], entry["n"], entry["unknown"], entry["histogram"])
    if answers and not shown:
        assert figures == (len(answers), 0, 0, [0] * 10), entry
        assert (entry["mean"], entry["median"], entry["sd"]) == (None, None, None), entry
        return
    histogram = [grades.count(value) for value in range(1, 11)]
    assert figures == (None, len(grades), len(answers) - len(grades), histogram), entry
    if grades:
        assert entry["mean"] == pytest.approx(statistics.fmean(grades))
        assert entry["median"] == pytest.approx(statistics.median(grades))
        assert entry["sd"] == pytest.approx(statistics.pstdev(grades))
    else:
        assert (entry["mean"], entry["median"], entry["sd"]) == (None, None, None), entry


def spectra(client: RoomClient) -> list[Message]:
    """Every spectrum the client received, its welcome snapshot's first."""
    received = [m for m in client.messages if m["type"] == "spectrum"]
    welcomes = [m["snapshot"]["spectrum"] for m in client.messages if m["type"] == "welcome" and m["snapshot"]]
    return welcomes + received


async def spectrum_after(client: RoomClient, event_type: str, seq: int) -> Message:
    """The first spectrum sent to `client` after the event (its `seq`): computed once the
    event had taken effect."""
    event = await client.wait_for(lambda m: m["type"] == event_type and m.get("seq") == seq)
    return await client.wait_for(lambda m: m["type"] == "spectrum", since=client.messages.index(event) + 1)


async def spectrum_covering(client: RoomClient, ack: Message) -> Message:
    """The client's spectrum once it counts the acknowledged answer."""
    await client.wait_until(lambda: (client.spectrum or {}).get("seq", 0) >= ack["seq"])
    assert client.spectrum is not None
    return client.spectrum


async def reveal(facilitator: RoomClient, *viewers: RoomClient) -> list[Message]:
    """Reveal the results; the first spectrum each of the facilitator and `viewers` got after it."""
    revealed = await facilitator.command("set_results_visible", visible=True)
    return [await spectrum_after(v, "results_visibility", revealed["seq"]) for v in (facilitator, *viewers)]


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
    assert (await spectrum_covering(facilitator, ack))["statements"] is None, "no figures before the reveal"
    (spectrum,) = await reveal(facilitator)
    expected = _scores_from_messages(people)
    assert any(len(values) >= K for values in expected.values())
    for entry in spectrum["statements"]:
        expect_figures(entry, expected[entry["statement_id"]])
    means = [statistics.fmean(v) for v in expected.values() if len(v) >= K]
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


async def test_hidden_results_reach_nobody_the_facilitator_included(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice, bob) = await facilitator_and(room, clients, 2)
    await facilitator.command("update_room", group_min_size=2)  # figures of two people need k = 2
    await alice.command("set_score", statement_id="s1", value=3)
    ack = await bob.command("set_score", statement_id="s1", value=9)
    for viewer in (alice, bob, facilitator):
        counted = await spectrum_covering(viewer, ack)
        assert counted["voters"] == 2, "how many answered is shown"
        for message in viewer.messages:
            if message["type"] == "score_set":
                assert message.get("value") in {3, 9}
        for received in spectra(viewer):
            assert {name: received[name] for name in HIDDEN} == HIDDEN, received
    for person in (alice, bob):
        # Nobody learns another's score: only its own score_set events arrive.
        values = {m["value"] for m in person.messages if m["type"] == "score_set"}
        assert values == ({3} if person is alice else {9})

    revealed = await reveal(facilitator, alice, bob)
    for spectrum in revealed:
        expect_figures(spectrum["statements"][0], [3, 9], k=2)
    assert revealed[1] == revealed[0] == revealed[2], "once revealed, everyone sees the same"


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
        bo = RoomClient(server.base_url, room["room_id"])
        await facilitator.connect()
        await alice.connect(name="Alice")
        await bo.connect()
        await facilitator.command("update_room", group_min_size=2)  # figures of two people
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
        await alice.command("set_score", statement_id="s10", value=7)
        # Revealed before anyone answered: s10 shows once k = 2 people answered it.
        acked = await bo.command("set_score", statement_id="s10", value=9)
        expect_figures((await spectrum_covering(facilitator, acked))["statements"][9], [7, 9], k=2)
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
        expect_figures(snapshot["spectrum"]["statements"][9], [7, 9], k=2)
        # Alice's lone grade of s1 is counted, never shown.
        expect_figures(snapshot["spectrum"]["statements"][0], [1], k=2)
        await facilitator.connect()
        assert facilitator.role == "facilitator"
        await bo.close()
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
    await cecilia.command("set_score", statement_id="s1", value=4)
    with pytest.raises(CommandFailed) as refused:
        await alice.command("set_score", statement_id="s1", value="vet inte")
    assert refused.value.code == "invalid_message"
    (spectrum,) = await reveal(facilitator)
    # Three answers but two grades: "don't know" does not count toward k = 3.
    expect_figures(spectrum["statements"][0], ["unknown", 2, 4])
    assert spectrum["statements"][0]["withheld"] == 3 and spectrum["voters"] == 3
    updated = await facilitator.command("update_room", group_min_size=2)
    spectrum = await spectrum_after(facilitator, "room_updated", updated["seq"])
    first = spectrum["statements"][0]
    assert (first["n"], first["unknown"], first["mean"], first["histogram"][1]) == (2, 1, 3.0, 1)
    expect_figures(first, ["unknown", 2, 4], k=2)
    # Cleared after the reveal: one person's change waits for k - 1 = 1 more.
    cleared = await alice.command("set_score", statement_id="s1", value=None)
    expect_figures((await spectrum_covering(facilitator, cleared))["statements"][0], ["unknown", 2, 4], k=2)
    moved = await bob.command("set_score", statement_id="s1", value=6)
    expect_figures((await spectrum_covering(facilitator, moved))["statements"][0], [6, 4], k=2)
    assert facilitator.spectrum is not None and facilitator.spectrum["statements"][0]["unknown"] == 0
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
    assert (await spectrum_covering(facilitator, last))["statements"] is None, "nothing before the reveal"
    # Revealed in round 2: both rounds are released at once.
    (spectrum,) = await reveal(facilitator)
    assert spectrum["round"] == 2 and spectrum["voters"] == 4
    s1 = spectrum["statements"][0]
    expect_figures(s1, second)
    assert s1["n"] == 3 and s1["unknown"] == 1 and s1["mean"] == pytest.approx(11 / 3)
    shift = s1["previous"]
    expect_figures(shift, first)
    assert shift["round"] == 1 and shift["n"] == 4 and shift["mean"] == pytest.approx(21 / 4)
    # Counted over those who graded both rounds; the "don't know" did not grade again.
    assert (shift["moved_left"], shift["moved_right"], shift["stayed"], shift["not_again"]) == (1, 1, 1, 1)
    # After the reveal, changes show once k = 3 people made them: one changes their mind,
    # one takes the answer back, and the figures wait ...
    held = {"statements": spectrum["statements"], "overall": spectrum["overall"]}
    for person, changed in ((people[2], 9), (people[0], None)):
        last = await person.command("set_score", statement_id="s1", value=changed)
        waiting = await spectrum_covering(facilitator, last)
        assert {"statements": waiting["statements"], "overall": waiting["overall"]} == held
    # ... until the third: the "don't know" becomes a 10. Round 1 stays as it was shown
    # (quantities are not combined), and the shift moves rather than adds up.
    last = await people[3].command("set_score", statement_id="s1", value=10)
    s1 = (await spectrum_covering(facilitator, last))["statements"][0]
    expect_figures(s1, [4, 9, 10])
    expect_figures(s1["previous"], first)
    shift = s1["previous"]
    assert (shift["moved_left"], shift["moved_right"], shift["stayed"], shift["not_again"]) == (0, 2, 1, 1)
    # A participant sees its own previous answer.
    await people[3].drop()
    welcome = await people[3].connect(resume=False)
    assert welcome["snapshot"]["my_previous_scores"] == {"s1": 8}
    assert welcome["snapshot"]["my_scores"] == {"s1": 10}


async def test_a_new_round_is_graded_blind_until_revealed_again(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, people = await facilitator_and(room, clients, 3)
    for person, value in zip(people, [2, 5, 9], strict=True):
        await person.command("set_score", statement_id="s1", value=value)
    revealed = await facilitator.command("set_results_visible", visible=True)
    phone = people[0]
    expect_figures((await spectrum_after(phone, "results_visibility", revealed["seq"]))["statements"][0], [2, 5, 9])
    started = await facilitator.command("start_round")
    assert started["seq"] > revealed["seq"]
    await phone.wait_until(
        lambda: phone.settings.get("round") == 2 or any(m["type"] == "round_started" for m in phone.messages)
    )
    hidden = await phone.wait_for(lambda m: m["type"] == "results_visibility" and m["visible"] is False)
    assert hidden["seq"] == started["seq"], "the ack comes after both events of start_round"
    last = await people[1].command("set_score", statement_id="s1", value=4)
    for viewer in (phone, facilitator):
        blind = await spectrum_covering(viewer, last)
        assert blind["visible"] is False and blind["round"] == 2
        assert {name: blind[name] for name in HIDDEN} == HIDDEN, "the console is blind too"
    # Revealed again: this round's figures, last round's, and how people moved.
    for person, value in ((people[0], 3), (people[2], 8)):
        last = await person.command("set_score", statement_id="s1", value=value)
    again = await reveal(facilitator, phone)
    for viewer, spectrum in zip((facilitator, phone), again, strict=True):
        s1 = spectrum["statements"][0]
        expect_figures(s1, [3, 4, 8])
        expect_figures(s1["previous"], [2, 5, 9])
        assert (s1["previous"]["moved_left"], s1["previous"]["moved_right"], s1["previous"]["stayed"]) == (2, 1, 0)
        start = viewer.messages.index(next(m for m in viewer.messages if m["type"] == "round_started"))
        blind_frames = [m for m in viewer.messages[start:] if m["type"] == "spectrum" and not m["visible"]]
        assert blind_frames and all(m["statements"] is None for m in blind_frames)


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
    answers = [1 + index for index in range(len(people))]
    for person, value in zip(people, answers, strict=True):
        await person.command("set_score", statement_id="s1", value=value)
    revealed = await reveal(facilitator, *people)
    assert all(spectrum == revealed[0] for spectrum in revealed), "everyone sees the same"
    # One "brukare" voter is fewer than k = 3, and hiding only that group would let anyone
    # subtract it from the room's figures: so one more group is hidden with it.
    spectrum = revealed[0]
    expect_figures(spectrum["statements"][0], answers)
    assert spectrum["hidden_groups"] == 2
    (shown,) = spectrum["groups"]
    members = {"chefer": slice(0, 3), "staff": slice(3, 6)}[shown["group_id"]]
    expect_figures(shown["statements"][0], answers[members])
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
    # Nothing answer-level to partition by the group figures: the answers travel sealed.
    assert document["respondents"] == 7 and isinstance(document["answers_sealed"], str)
    assert document.get("open_answers") is None
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
    # Three more "brukare": the figures move only when they are k = 3 in every group that
    # changed, and then every group is shown.
    newcomers = [clients(room["room_id"]) for _ in range(3)]
    for index, person in enumerate(newcomers):
        await person.connect()
        await person.command("set_profile", group="brukare")
        last = await person.command("set_score", statement_id="s1", value=10)
        now = await spectrum_covering(facilitator, last)
        if index < len(newcomers) - 1:
            assert {"statements": now["statements"], "groups": now["groups"]} == {
                "statements": spectrum["statements"],
                "groups": spectrum["groups"],
            }
            assert now["hidden_groups"] == 2
    assert [g["group_id"] for g in now["groups"]] == ["chefer", "staff", "brukare"]
    assert now["hidden_groups"] == 0
    everyone = [*answers, 10, 10, 10]
    expect_figures(now["statements"][0], everyone)
    for group, members in zip(now["groups"], (slice(0, 3), slice(3, 6), slice(6, 10)), strict=True):
        expect_figures(group["statements"][0], everyone[members])


async def test_today_and_desired_show_the_gap(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice, bob) = await facilitator_and(room, clients, 2)
    with pytest.raises(CommandFailed) as off:
        await alice.command("set_score", statement_id="s1", value=8, kind="desired")
    assert off.value.code == "not_enabled"
    await facilitator.command("update_room", desired_enabled=True)
    await facilitator.command("update_room", group_min_size=2)  # figures of two people
    for person, today, desired in ((alice, 3, 8), (bob, 5, 9)):
        await person.command("set_score", statement_id="s1", value=today)
        last = await person.command("set_score", statement_id="s1", value=desired, kind="desired")
    assert (await spectrum_covering(facilitator, last))["statements"] is None, "nothing before the reveal"
    (spectrum,) = await reveal(facilitator)
    s1 = spectrum["statements"][0]
    assert s1["mean"] == 4.0 and s1["desired"]["mean"] == 8.5 and s1["gap"] == pytest.approx(4.5)
    expect_figures(s1, [3, 5], k=2)
    expect_figures(s1["desired"], [8, 9], k=2)
    assert spectrum["voters"] == 2
    await alice.drop()
    welcome = await alice.connect(resume=False)
    assert welcome["snapshot"]["my_scores"] == {"s1": 3}
    assert welcome["snapshot"]["my_desired_scores"] == {"s1": 8}
    assert welcome["snapshot"]["settings"]["desired_enabled"] is True


def _histograms(spectrum: Message, statement_ids: Sequence[str]) -> dict[str, list[int]]:
    entries = {entry["statement_id"]: entry for entry in spectrum["statements"]}
    return {statement_id: entries[statement_id]["histogram"] for statement_id in statement_ids}


async def test_a_late_named_answer_is_shown_only_with_k_changes_and_the_name_never(
    new_room: NewRoom, clients: MakeClient
) -> None:
    """A name arriving after the reveal, and the figures changing at that moment, would say
    what that person answered: the name reaches only the facilitators, and the figures move
    only once k people changed."""
    room = await new_room()
    facilitator, early = await facilitator_and(room, clients, 4)
    screen = clients(room["room_id"])
    await screen.connect(screen=True)
    given: dict[str, list[int | str]] = {"s1": [2, 4, 6, 8], "s2": [5, 5, 7, 9]}
    for index, person in enumerate(early):
        for statement_id, values in given.items():
            await person.command("set_score", statement_id=statement_id, value=values[index])
    watchers = [facilitator, screen, *early]
    revealed = await reveal(facilitator, screen, *early)
    for spectrum in revealed:
        expect_figures(spectrum["statements"][0], given["s1"])
        expect_figures(spectrum["statements"][1], given["s2"])
    at_reveal = _histograms(revealed[0], ["s1", "s2"])

    dora = clients(room["room_id"])
    welcome = await dora.connect(name="Dora")
    assert welcome["you"]["name"] == "Dora"
    assert welcome["snapshot"]["participants"] == [{"id": dora.participant_id, "name": "Dora", "group": None}]
    joined = await facilitator.wait_for(
        lambda m: m["type"] == "participant_joined" and m["participant"]["id"] == dora.participant_id
    )
    assert joined["participant"] == {"id": dora.participant_id, "name": "Dora", "group": None}
    await dora.command("set_score", statement_id="s1", value=10)
    mine = await dora.command("set_score", statement_id="s2", value=10)
    for viewer in [*watchers, dora]:
        after_dora = await spectrum_covering(viewer, mine)
        assert after_dora["voters"] == 5, "that someone answered is counted at once"
        assert _histograms(after_dora, ["s1", "s2"]) == at_reveal, "one answer is not shown on its own"

    # k - 1 = 2 others change their minds on s1: the first leaves the figures as they were,
    # the second completes a step of k = 3 people and they move once, holding all three.
    given["s1"][0] = 9
    first = await early[0].command("set_score", statement_id="s1", value=9)
    assert _histograms(await spectrum_covering(facilitator, first), ["s1"]) == {"s1": at_reveal["s1"]}
    given["s1"][1] = 1
    step = await early[1].command("set_score", statement_id="s1", value=1)
    for viewer in [*watchers, dora]:
        moved = await spectrum_covering(viewer, step)
        expect_figures(moved["statements"][0], [*given["s1"], 10])
        expect_figures(moved["statements"][1], given["s2"])  # Dora's s2 still waits for k - 1 more
        # Every frame since the reveal showed the figures at the reveal or after the step.
        for spectrum in spectra(viewer):
            if not spectrum["visible"]:
                continue
            if spectrum["seq"] < step["seq"]:
                assert _histograms(spectrum, ["s1", "s2"]) == at_reveal
            else:
                assert _histograms(spectrum, ["s1", "s2"]) == _histograms(moved, ["s1", "s2"])

    # Nobody but Dora and the facilitators got her name, in any message.
    for viewer in [screen, *early]:
        assert viewer.messages and all("Dora" not in json.dumps(m) for m in viewer.messages)
        assert dora.participant_id not in viewer.participants
        assert not [m for m in viewer.messages if m["type"] in {"participant_joined", "participant_updated"}]
    assert facilitator.participants[dora.participant_id or ""]["name"] == "Dora"


async def test_the_console_gets_no_figures_before_the_reveal_and_all_of_them_at_it(
    new_room: NewRoom, clients: MakeClient, http: httpx.AsyncClient
) -> None:
    room = await new_room()
    link = await http.post(
        f"/api/rooms/{room['room_id']}/co-facilitators",
        headers={"Authorization": f"Bearer {room['facilitator_token']}"},
    )
    assert link.status_code == 201, link.text
    facilitator, people = await facilitator_and(room, clients, 6)
    groups = [{"id": "chefer", "name": "Chefer"}, {"id": "staff", "name": "Medarbetare"}]
    await facilitator.command("set_groups", groups=groups)
    for person, group in zip(people, ["chefer"] * 3 + ["staff"] * 3, strict=True):
        await person.command("set_profile", group=group)
    given: dict[str, list[int | str | None]] = {
        "s1": [1, 2, 3, 8, 9, 10],  # every figure shown, both groups'
        "s2": [5, 5, 5, 6, 6, "unknown"],  # the room's; chefer would leave 2 grades outside
        "s3": [4, None, None, 7, None, None],  # two answers: held back
    }
    last = None
    for index, person in enumerate(people):
        for statement_id, values in given.items():
            if values[index] is not None:
                last = await person.command("set_score", statement_id=statement_id, value=values[index])
    assert last is not None
    # A second console, a co-facilitator's, opens after the answers: its welcome is blind too.
    co = clients(room["room_id"], link.json()["token"])
    await co.connect()
    consoles = [facilitator, co]
    for console in consoles:
        counted = await spectrum_covering(console, last)
        assert (counted["voters"], counted["completed"]) == (6, 0)
        for spectrum in spectra(console):
            assert {name: spectrum[name] for name in HIDDEN} == HIDDEN, spectrum

    revealed = await reveal(facilitator, co, people[0])
    assert revealed[0] == revealed[1] == revealed[2], "the consoles see what everyone sees"
    spectrum = revealed[0]
    answers = {s: [v for v in values if v is not None] for s, values in given.items()}
    for entry in spectrum["statements"]:
        expect_figures(entry, answers.get(entry["statement_id"], []))
    assert spectrum["overall"] == pytest.approx((5.5 + 5.4) / 2)
    assert [group["group_id"] for group in spectrum["groups"]] == ["chefer", "staff"]
    assert spectrum["hidden_groups"] == 0
    for group, members in zip(spectrum["groups"], (slice(0, 3), slice(3, 6)), strict=True):
        assert group["voters"] == 3
        by_id = {entry["statement_id"]: entry for entry in group["statements"]}
        expect_figures(by_id["s1"], answers["s1"][members])
        mine = [v for v in given["s2"][members] if v is not None]
        expect_figures(by_id["s2"], mine, shown=False)  # what is left outside would be < k grades
        expect_figures(by_id["s3"], [v for v in given["s3"][members] if v is not None], shown=False)


async def test_a_group_is_chosen_before_answering_and_fixed_after(new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room()
    facilitator, (alice, bo, cecilia) = await facilitator_and(room, clients, 3)
    groups = [{"id": "chefer", "name": "Chefer"}, {"id": "staff", "name": "Medarbetare"}]
    await facilitator.command("set_groups", groups=groups)
    # Before answering, the group can be chosen and chosen again.
    await alice.command("set_profile", group="staff")
    await alice.command("set_profile", group=None)
    await alice.command("set_profile", group="chefer")
    for person, value in ((alice, 2), (bo, 5), (cecilia, 9)):
        if person is not alice:
            await person.command("set_profile", group="chefer")
        await person.command("set_score", statement_id="s1", value=value)
    for group in ("staff", None):
        with pytest.raises(CommandFailed) as fixed:
            await alice.command("set_profile", group=group)
        assert fixed.value.code == "group_fixed"
    # The same group, or only a name, is still welcome.
    renamed = await alice.command("set_profile", name="Alice", group="chefer")
    told = await facilitator.wait_for(lambda m: m["type"] == "participant_updated" and m["seq"] == renamed["seq"])
    assert told["participant"] == {"id": alice.participant_id, "name": "Alice", "group": "chefer"}
    (spectrum,) = await reveal(facilitator)
    (chefer,) = spectrum["groups"]
    assert chefer["group_id"] == "chefer" and chefer["voters"] == 3
    expect_figures(chefer["statements"][0], [2, 5, 9])
    await alice.drop()
    welcome = await alice.connect(resume=False)
    assert (welcome["you"]["name"], welcome["you"]["group"]) == ("Alice", "chefer")
