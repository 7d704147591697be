"""The room's rules, without a server: `Board.decide` refuses or emits, `Board.evolve` applies.

Each command is decided and its events evolved the way the live room does it, so every
assertion here is about what a participant or the facilitator would see in the room.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from app import figures
from app import protocol as p
from app.aggregates import AggregateKey
from app.board import MIN_POSITION_GAP, Actor, Board, DomainError, Emitted
from app.templates import builtin_templates

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
P1 = Actor("participant", "p_1")
P2 = Actor("participant", "p_2")
FACILITATOR = Actor("facilitator", None)
STATEMENTS = [f"s{i}" for i in range(1, 11)]

_commands: TypeAdapter[p.Command] = TypeAdapter(p.Command)
_cids = itertools.count(1)


def new_board(room_id: str = "r_solsidan", **fields: Any) -> Board:
    """A room on the built-in template with participants p_1 and p_2 joined."""
    flow = {name: fields.pop(name) for name in list(fields) if name in p.RoomFlow.model_fields}
    board = Board(
        room_id=room_id,
        template=builtin_templates()["tjanstelogik"],
        config=p.RoomConfig(title="Vårdenheten Solsidan", language="sv"),
        created_at=NOW,
        expires_at=NOW + timedelta(days=30),
        flow=p.RoomFlow(**flow),
        **fields,
    )
    for actor in (P1, P2):
        assert actor.participant_id is not None
        apply(board, board.decide_join(actor.participant_id, None), actor)
    return board


def command(type_: str, cid: str | None = None, **fields: Any) -> p.Command:
    return _commands.validate_python({"type": type_, "cid": cid or f"c{next(_cids)}", **fields})


def apply(board: Board, emitted: list[Emitted], actor: Actor) -> None:
    """As app/room.py does: evolve every emitted event in order, as the acting actor."""
    for item in emitted:
        board.evolve(item.event, actor)


def run(board: Board, actor: Actor, type_: str, cid: str | None = None, **fields: Any) -> list[Emitted]:
    emitted = board.decide(command(type_, cid, **fields), actor, NOW)
    apply(board, emitted, actor)
    return emitted


def refused(board: Board, actor: Actor, type_: str, **fields: Any) -> p.ErrorCode:
    """Decide a command that must be refused; return the error code the client would get."""
    before = copy.deepcopy(board)
    with pytest.raises(DomainError) as caught:
        board.decide(command(type_, **fields), actor, NOW)
    assert board == before, "a refused command changed the room"
    return caught.value.code


def add_note(board: Board, actor: Actor, text: str, area_id: str = "thoughts") -> str:
    (emitted,) = run(board, actor, "add_note", area_id=area_id, text=text)
    assert isinstance(emitted.event, p.NoteAdded)
    return emitted.event.note.id


def texts_in(board: Board, area_id: str) -> list[str]:
    return [note.text for note in board.ordered_notes() if note.area_id == area_id]


def positions_in(board: Board, area_id: str) -> list[float]:
    return [note.position for note in board.ordered_notes() if note.area_id == area_id]


def votes(board: Board, note_id: str) -> int:
    return board.public_note(board.notes[note_id]).votes


def key(statement_id: str, round_: int = 1) -> AggregateKey:
    return AggregateKey(round_, "today", statement_id)


# ------------------------------------------------------------------ roles

FACILITATOR_ONLY: dict[str, dict[str, Any]] = {
    "set_phase": {"phase": "grade"},
    "set_results_visible": {"visible": True},
    "set_voting_locked": {"locked": True},
    "set_timer": {"seconds": 300},
    "set_groups": {"groups": [{"id": "chefer", "name": "Chefer"}]},
    "update_room": {"title": "Nytt namn", "language": "fi"},
    "start_round": {},
    "set_screen": {"view": "board"},
}


def test_the_table_covers_every_facilitator_command() -> None:
    assert set(FACILITATOR_ONLY) == p.FACILITATOR_COMMANDS


@pytest.mark.parametrize("type_", sorted(p.FACILITATOR_COMMANDS))
def test_participants_may_not_run_facilitator_commands(type_: str) -> None:
    board = new_board()
    assert refused(board, P1, type_, **FACILITATOR_ONLY[type_]) == p.ErrorCode.FORBIDDEN


@pytest.mark.parametrize(
    ("type_", "seen"),
    [
        ("set_phase", lambda b: b.flow.phase == "grade"),
        ("set_results_visible", lambda b: b.flow.results_visible is True),
        ("set_voting_locked", lambda b: b.flow.voting_locked is True),
        ("set_timer", lambda b: b.flow.timer_ends_at == NOW + timedelta(seconds=300)),
        ("set_groups", lambda b: [g.id for g in b.config.groups] == ["chefer"]),
        ("update_room", lambda b: (b.config.title, b.config.language) == ("Nytt namn", "fi")),
        ("set_screen", lambda b: b.flow.screen.view == "board"),
    ],
)
def test_facilitator_commands_take_effect(type_: str, seen: Callable[[Board], bool]) -> None:
    board = new_board()
    emitted = run(board, FACILITATOR, type_, **FACILITATOR_ONLY[type_])
    assert all(item.audience.everyone for item in emitted)
    assert seen(board)


def test_stopping_the_timer_clears_it() -> None:
    board = new_board()
    run(board, FACILITATOR, "set_timer", seconds=60)
    run(board, FACILITATOR, "set_timer", seconds=None)
    assert board.flow.timer_ends_at is None


def test_repeated_group_ids_are_refused() -> None:
    board = new_board()
    groups = [{"id": "chefer", "name": "Chefer"}, {"id": "chefer", "name": "Chefer igen"}]
    assert refused(board, FACILITATOR, "set_groups", groups=groups) == p.ErrorCode.INVALID_MESSAGE


def test_removing_a_group_takes_its_members_out_of_it() -> None:
    board = new_board()
    run(board, FACILITATOR, "set_groups", groups=[{"id": "chefer", "name": "Chefer"}])
    run(board, P1, "set_profile", group="chefer")
    assert board.participants["p_1"].group == "chefer"
    run(board, FACILITATOR, "set_groups", groups=[])
    assert board.participants["p_1"].group is None


def test_the_facilitator_does_not_grade_or_have_a_profile() -> None:
    board = new_board()
    assert refused(board, FACILITATOR, "set_score", statement_id="s1", value=5) == p.ErrorCode.FORBIDDEN
    assert refused(board, FACILITATOR, "set_profile", name="Anna") == p.ErrorCode.FORBIDDEN


# ------------------------------------------------------------------ voting locked, room closed


def test_locked_voting_refuses_grades_until_unlocked() -> None:
    board = new_board()
    run(board, P1, "set_score", statement_id="s1", value=4)
    run(board, FACILITATOR, "set_voting_locked", locked=True)
    assert refused(board, P1, "set_score", statement_id="s1", value=8) == p.ErrorCode.VOTING_LOCKED
    assert refused(board, P1, "set_score", statement_id="s1", value=None) == p.ErrorCode.VOTING_LOCKED
    assert refused(board, P2, "set_score", statement_id="s2", value=8) == p.ErrorCode.VOTING_LOCKED
    assert board.my_scores("p_1") == {"s1": 4}
    run(board, FACILITATOR, "set_voting_locked", locked=False)
    run(board, P1, "set_score", statement_id="s1", value=8)
    assert board.my_scores("p_1") == {"s1": 8}


def test_locked_voting_still_lets_participants_write_notes() -> None:
    board = new_board()
    run(board, FACILITATOR, "set_voting_locked", locked=True)
    add_note(board, P1, "Vi mäter det som är lätt att mäta")
    assert texts_in(board, "thoughts") == ["Vi mäter det som är lätt att mäta"]


def closed_board() -> tuple[Board, str]:
    board = new_board()
    note_id = add_note(board, P1, "Brukaren är en resurs")
    run(board, FACILITATOR, "set_phase", phase="closed")
    return board, note_id


PARTICIPANT_WRITES: list[tuple[str, dict[str, Any]]] = [
    ("set_score", {"statement_id": "s1", "value": 6}),
    ("add_note", {"area_id": "insights", "text": "Sent påkommen tanke"}),
    ("edit_note", {"note_id": "NOTE", "text": "Ändrad"}),
    ("move_note", {"note_id": "NOTE", "area_id": "insights", "index": 0}),
    ("delete_note", {"note_id": "NOTE"}),
    ("vote_note", {"note_id": "NOTE", "voted": True}),
]


def with_note(fields: dict[str, Any], note_id: str) -> dict[str, Any]:
    return {name: note_id if value == "NOTE" else value for name, value in fields.items()}


@pytest.mark.parametrize(("type_", "fields"), PARTICIPANT_WRITES, ids=[t for t, _ in PARTICIPANT_WRITES])
def test_a_closed_room_refuses_participant_writes(type_: str, fields: dict[str, Any]) -> None:
    board, note_id = closed_board()
    assert refused(board, P1, type_, **with_note(fields, note_id)) == p.ErrorCode.ROOM_CLOSED


@pytest.mark.parametrize(
    ("type_", "fields"),
    [item for item in PARTICIPANT_WRITES if item[0] != "set_score"],
    ids=[t for t, _ in PARTICIPANT_WRITES if t != "set_score"],
)
def test_the_facilitator_may_still_tidy_a_closed_room(type_: str, fields: dict[str, Any]) -> None:
    board, note_id = closed_board()
    emitted = run(board, FACILITATOR, type_, **with_note(fields, note_id))
    assert emitted
    assert board.flow.phase == "closed"


def test_the_facilitator_can_reopen_a_closed_room() -> None:
    board, _ = closed_board()
    run(board, FACILITATOR, "set_phase", phase="document")
    add_note(board, P1, "Nu går det igen")
    assert "Nu går det igen" in texts_in(board, "thoughts")


# ------------------------------------------------------------------ not found, not author, conflict


@pytest.mark.parametrize(
    ("type_", "fields"),
    [
        ("set_score", {"statement_id": "s11", "value": 5}),
        ("add_note", {"area_id": "nowhere", "text": "Vart tog jag vägen?"}),
        ("edit_note", {"note_id": "n_missing", "text": "Ändrad"}),
        ("move_note", {"note_id": "n_missing", "area_id": "thoughts", "index": 0}),
        ("move_note", {"note_id": "NOTE", "area_id": "nowhere", "index": 0}),
        ("delete_note", {"note_id": "n_missing"}),
        ("vote_note", {"note_id": "n_missing", "voted": True}),
        ("set_profile", {"group": "no-such-group"}),
    ],
    ids=[
        "statement",
        "area",
        "edit-note",
        "move-note",
        "move-to-area",
        "delete-note",
        "vote-note",
        "group",
    ],
)
def test_unknown_things_are_not_found(type_: str, fields: dict[str, Any]) -> None:
    board = new_board()
    note_id = add_note(board, P1, "Finns")
    assert refused(board, P1, type_, **with_note(fields, note_id)) == p.ErrorCode.NOT_FOUND


@pytest.mark.parametrize(
    ("type_", "fields"),
    [
        ("edit_note", {"text": "Inte din lapp"}),
        ("edit_note", {"color": "pink"}),
        ("move_note", {"area_id": "insights", "index": 0}),
        ("delete_note", {}),
    ],
    ids=["edit-text", "edit-color", "move", "delete"],
)
def test_only_the_author_or_the_facilitator_changes_a_note(type_: str, fields: dict[str, Any]) -> None:
    board = new_board()
    note_id = add_note(board, P1, "Min lapp")
    assert refused(board, P2, type_, note_id=note_id, **fields) == p.ErrorCode.NOT_AUTHOR
    run(board, FACILITATOR, type_, note_id=note_id, **fields)
    if type_ == "delete_note":
        assert note_id not in board.notes
    else:
        assert board.notes[note_id].version == 2


def test_the_author_edits_moves_and_deletes_its_own_note() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Utkast")
    run(board, P1, "edit_note", note_id=note_id, text="Färdig tanke", color="green")
    note = board.notes[note_id]
    assert (note.text, note.color, note.version) == ("Färdig tanke", "green", 2)
    run(board, P1, "move_note", note_id=note_id, area_id="needed", index=0)
    assert texts_in(board, "needed") == ["Färdig tanke"]
    assert texts_in(board, "thoughts") == []
    run(board, P1, "delete_note", note_id=note_id)
    assert board.notes == {}


def test_editing_only_the_color_keeps_the_text() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Behåll texten")
    run(board, P1, "edit_note", note_id=note_id, color="blue")
    assert (board.notes[note_id].text, board.notes[note_id].color) == ("Behåll texten", "blue")


def test_an_edit_based_on_an_old_version_is_a_conflict() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Första versionen")
    run(board, FACILITATOR, "edit_note", note_id=note_id, text="Processledarens version", base_version=1)
    assert board.notes[note_id].version == 2
    code = refused(board, P1, "edit_note", note_id=note_id, text="Min version", base_version=1)
    assert code == p.ErrorCode.CONFLICT
    assert board.notes[note_id].text == "Processledarens version"
    run(board, P1, "edit_note", note_id=note_id, text="Min version", base_version=2)
    assert (board.notes[note_id].text, board.notes[note_id].version) == ("Min version", 3)


def test_an_edit_without_base_version_always_applies() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Ett")
    run(board, FACILITATOR, "edit_note", note_id=note_id, text="Två")
    run(board, P1, "edit_note", note_id=note_id, text="Tre")
    assert board.notes[note_id].text == "Tre"


# ------------------------------------------------------------------ decide is pure


def crowded_board() -> tuple[Board, list[str]]:
    """Three notes whose first two are closer than MIN_POSITION_GAP: a move between them renumbers."""
    board = new_board()
    ids = [add_note(board, P1, text) for text in ("A", "B", "C")]
    board.notes[ids[0]].position = 1.0
    board.notes[ids[1]].position = 1.0 + MIN_POSITION_GAP / 2
    board.notes[ids[2]].position = 5.0
    return board, ids


PURE_CASES: list[tuple[Actor, str, dict[str, Any]]] = [
    (P1, "set_score", {"statement_id": "s1", "value": 9}),
    (P1, "set_score", {"statement_id": "s2", "value": None}),
    (P1, "set_profile", {"name": "Anna"}),
    (P1, "add_note", {"area_id": "now", "text": "Ny"}),
    (P1, "edit_note", {"note_id": "A", "text": "Ändrad", "color": "purple"}),
    (P1, "move_note", {"note_id": "C", "area_id": "thoughts", "index": 1}),
    (P1, "move_note", {"note_id": "A", "area_id": "who", "index": 0}),
    (P1, "delete_note", {"note_id": "B"}),
    (P2, "vote_note", {"note_id": "A", "voted": True}),
    (P2, "vote_note", {"note_id": "B", "voted": False}),
    (FACILITATOR, "vote_note", {"note_id": "A", "voted": True}),
    *((FACILITATOR, type_, fields) for type_, fields in FACILITATOR_ONLY.items()),
]


@pytest.mark.parametrize(
    ("actor", "type_", "fields"),
    PURE_CASES,
    ids=[f"{a.id}-{t}-{i}" for i, (a, t, _) in enumerate(PURE_CASES)],
)
def test_decide_changes_nothing_until_events_are_evolved(actor: Actor, type_: str, fields: dict[str, Any]) -> None:
    board, ids = crowded_board()
    run(board, P1, "set_score", statement_id="s2", value=3)
    run(board, P2, "vote_note", note_id=ids[1], voted=True)
    names = dict(zip("ABC", ids, strict=True))
    fields = {name: names.get(value, value) if name == "note_id" else value for name, value in fields.items()}
    before = copy.deepcopy(board)
    emitted = board.decide(command(type_, **fields), actor, NOW)
    assert emitted
    assert board == before


def test_decide_on_a_renumbering_move_changes_nothing() -> None:
    board, ids = crowded_board()
    before = copy.deepcopy(board)
    emitted = board.decide(command("move_note", note_id=ids[2], area_id="thoughts", index=1), P1, NOW)
    assert len(emitted) == 3
    assert board == before


# ------------------------------------------------------------------ note ids


def test_note_ids_are_deterministic_per_room_actor_and_cid() -> None:
    def note_id(room_id: str, actor: Actor, cid: str) -> str:
        board = new_board(room_id)
        (emitted,) = board.decide(command("add_note", cid=cid, area_id="thoughts", text="x"), actor, NOW)
        assert isinstance(emitted.event, p.NoteAdded)
        return emitted.event.note.id

    first = note_id("r_1", P1, "c-1")
    assert note_id("r_1", P1, "c-1") == first
    others = {note_id("r_2", P1, "c-1"), note_id("r_1", P2, "c-1"), note_id("r_1", FACILITATOR, "c-1")}
    others.add(note_id("r_1", P1, "c-2"))
    assert first not in others
    assert len(others) == 4


def test_a_resent_add_note_does_not_create_a_second_note() -> None:
    board = new_board()
    run(board, P1, "add_note", cid="same", area_id="thoughts", text="Bara en gång")
    run(board, P1, "add_note", cid="same", area_id="thoughts", text="Bara en gång")
    assert texts_in(board, "thoughts") == ["Bara en gång"]


def test_new_notes_go_last_in_their_area() -> None:
    board = new_board()
    for text in ("Ett", "Två", "Tre"):
        add_note(board, P1, text)
    add_note(board, P2, "Annan yta", area_id="insights")
    add_note(board, P2, "Fyra")
    assert texts_in(board, "thoughts") == ["Ett", "Två", "Tre", "Fyra"]
    assert texts_in(board, "insights") == ["Annan yta"]


def test_a_note_added_after_moves_to_the_front_still_goes_last() -> None:
    board = new_board()
    first = add_note(board, P1, "Ett")
    second = add_note(board, P1, "Två")
    run(board, P1, "move_note", note_id=second, area_id="thoughts", index=0)
    run(board, P1, "move_note", note_id=first, area_id="thoughts", index=0)
    add_note(board, P1, "Tre")
    assert texts_in(board, "thoughts") == ["Ett", "Två", "Tre"]


def test_the_note_limit_is_enforced() -> None:
    board = new_board(max_notes=2)
    add_note(board, P1, "Ett")
    add_note(board, P2, "Två")
    code = refused(board, P1, "add_note", area_id="thoughts", text="Tre")
    assert code == p.ErrorCode.LIMIT_REACHED


# ------------------------------------------------------------------ moving notes


@pytest.mark.parametrize(
    ("note", "area_id", "index", "thoughts", "insights"),
    [
        ("C", "thoughts", 0, "CAB", "DE"),
        ("A", "thoughts", 1, "BAC", "DE"),
        ("C", "thoughts", 1, "ACB", "DE"),
        ("A", "thoughts", 2, "BCA", "DE"),
        ("A", "thoughts", 99, "BCA", "DE"),
        ("B", "thoughts", 1, "ABC", "DE"),
        ("A", "insights", 0, "BC", "ADE"),
        ("B", "insights", 1, "AC", "DBE"),
        ("C", "insights", 2, "AB", "DEC"),
        ("C", "insights", 50, "AB", "DEC"),
        ("D", "thoughts", 0, "DABC", "E"),
        ("E", "thoughts", 3, "ABCE", "D"),
    ],
)
def test_move_note_puts_the_note_at_the_index(
    note: str, area_id: str, index: int, thoughts: str, insights: str
) -> None:
    board = new_board()
    ids = {text: add_note(board, P1, text) for text in "ABC"}
    ids |= {text: add_note(board, P1, text, area_id="insights") for text in "DE"}
    run(board, P1, "move_note", note_id=ids[note], area_id=area_id, index=index)
    assert "".join(texts_in(board, "thoughts")) == thoughts
    assert "".join(texts_in(board, "insights")) == insights
    assert board.notes[ids[note]].area_id == area_id


def test_moving_into_an_empty_area_works() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Ensam")
    run(board, P1, "move_note", note_id=note_id, area_id="now", index=3)
    assert texts_in(board, "now") == ["Ensam"]
    assert texts_in(board, "thoughts") == []


@pytest.mark.parametrize("index", [0, 1, 2])
def test_inserting_at_the_same_index_many_times_keeps_the_order(index: int) -> None:
    board = new_board()
    add_note(board, P1, "first")
    add_note(board, P1, "last")
    expected = ["first", "last"]
    renumbered = 0
    for number in range(60):
        text = f"n{number}"
        note_id = add_note(board, P1, text)
        emitted = run(board, P1, "move_note", note_id=note_id, area_id="thoughts", index=index)
        renumbered += len(emitted) > 1
        expected.insert(index, text)
        assert texts_in(board, "thoughts") == expected
        positions = positions_in(board, "thoughts")
        assert all(a < b for a, b in itertools.pairwise(positions)), positions
    if index == 1:
        assert renumbered >= 2, "the gap never got small enough to renumber"


def test_renumbering_keeps_every_note_and_bumps_only_the_moved_notes_version() -> None:
    board, ids = crowded_board()
    versions = {note_id: board.notes[note_id].version for note_id in ids}
    emitted = run(board, P1, "move_note", note_id=ids[2], area_id="thoughts", index=1)
    assert {item.event.note.id for item in emitted if isinstance(item.event, p.NoteUpdated)} == set(ids)
    assert texts_in(board, "thoughts") == ["A", "C", "B"]
    assert positions_in(board, "thoughts") == [1.0, 2.0, 3.0]
    # Renumbering is bookkeeping: only the note a person moved counts as changed.
    assert board.notes[ids[2]].version == versions[ids[2]] + 1
    assert all(board.notes[note_id].version == versions[note_id] for note_id in ids if note_id != ids[2])


# ------------------------------------------------------------------ dot votes


def test_voting_twice_counts_once() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Rösta på mig")
    for _ in range(2):
        emitted = run(board, P2, "vote_note", note_id=note_id, voted=True)
        assert isinstance(emitted[0].event, p.NoteUpdated)
        assert emitted[0].event.note.votes == 1
    assert votes(board, note_id) == 1


def test_taking_a_vote_back_removes_it() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Rösta på mig")
    run(board, P2, "vote_note", note_id=note_id, voted=True)
    run(board, P2, "vote_note", note_id=note_id, voted=False)
    assert votes(board, note_id) == 0
    run(board, P2, "vote_note", note_id=note_id, voted=False)
    assert votes(board, note_id) == 0


def test_votes_from_different_people_add_up() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Populär")
    run(board, P1, "vote_note", note_id=note_id, voted=True)
    run(board, P2, "vote_note", note_id=note_id, voted=True)
    assert votes(board, note_id) == 2
    run(board, FACILITATOR, "vote_note", note_id=note_id, voted=True)
    assert votes(board, note_id) == 3
    run(board, P1, "vote_note", note_id=note_id, voted=False)
    assert votes(board, note_id) == 2
    assert board.notes[note_id].voters == {"p_2", "facilitator"}


def test_who_voted_is_told_only_to_the_voter() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Hemlig röst")
    public, mine = run(board, P2, "vote_note", note_id=note_id, voted=True)
    assert public.audience.everyone
    assert isinstance(mine.event, p.MyVote)
    assert mine.audience.includes("participant", "p_2")
    assert not mine.audience.includes("participant", "p_1")
    assert not mine.audience.includes("facilitator", None)


def test_votes_survive_an_edit_of_the_note() -> None:
    board = new_board()
    note_id = add_note(board, P1, "Före")
    run(board, P2, "vote_note", note_id=note_id, voted=True)
    run(board, P1, "edit_note", note_id=note_id, text="Efter")
    assert votes(board, note_id) == 1


# ------------------------------------------------------------------ scores and the spectrum


def test_a_grade_is_told_only_to_the_participant_who_gave_it() -> None:
    board = new_board()
    (emitted,) = run(board, P1, "set_score", statement_id="s1", value=3)
    assert isinstance(emitted.event, p.ScoreSet)
    assert emitted.audience.includes("participant", "p_1")
    assert not emitted.audience.includes("participant", "p_2")
    assert not emitted.audience.includes("facilitator", None)


def test_grading_and_clearing_update_voters_completed_and_aggregates() -> None:
    board = new_board()
    run(board, P1, "set_score", statement_id="s1", value=3)
    assert (board.voters, board.completed) == (1, 0)
    assert board.aggregates[key("s1")].n == 1
    assert board.aggregates[key("s1")].mean == 3

    run(board, P1, "set_score", statement_id="s1", value=7)
    assert (board.voters, board.completed) == (1, 0)
    assert board.aggregates[key("s1")].n == 1
    assert board.aggregates[key("s1")].histogram[7 - 1] == 1
    assert board.aggregates[key("s1")].histogram[3 - 1] == 0

    for statement_id in STATEMENTS[1:]:
        run(board, P1, "set_score", statement_id=statement_id, value=5)
    assert (board.voters, board.completed) == (1, 1)

    run(board, P2, "set_score", statement_id="s1", value=9)
    assert (board.voters, board.completed) == (2, 1)
    assert board.aggregates[key("s1")].mean == 8

    run(board, P1, "set_score", statement_id="s1", value=None)
    assert (board.voters, board.completed) == (2, 0)
    assert board.aggregates[key("s1")].n == 1
    assert board.aggregates[key("s1")].mean == 9
    assert board.my_scores("p_1") == dict.fromkeys(STATEMENTS[1:], 5)

    for statement_id in STATEMENTS[1:]:
        run(board, P1, "set_score", statement_id=statement_id, value=None)
    run(board, P2, "set_score", statement_id="s1", value=None)
    assert (board.voters, board.completed) == (0, 0)
    assert all(aggregate.n == 0 for aggregate in board.aggregates.values())
    assert board.my_scores("p_1") == {}


def test_clearing_a_grade_never_given_changes_no_count() -> None:
    board = new_board()
    run(board, P1, "set_score", statement_id="s4", value=None)
    assert (board.voters, board.completed) == (0, 0)
    assert board.my_scores("p_1") == {}


def test_the_spectrum_shows_the_group_figures_in_statement_order() -> None:
    board = new_board()
    # Two people: figures need k = 2 (with the default 3 a room of two shows nothing).
    run(board, FACILITATOR, "update_room", group_min_size=2)
    run(board, P1, "set_score", statement_id="s2", value=2)
    run(board, P2, "set_score", statement_id="s2", value=9)
    run(board, P1, "set_score", statement_id="s5", value=4)
    run(board, FACILITATOR, "set_results_visible", visible=True)
    spectrum = figures.spectrum(board, seq=17, full=True)
    assert spectrum.seq == 17
    assert spectrum.voters == 2
    assert spectrum.statements is not None
    assert [s.statement_id for s in spectrum.statements] == STATEMENTS
    s2 = spectrum.statements[1]
    assert (s2.n, s2.mean, s2.median, s2.withheld) == (2, 5.5, 5.5, None)
    assert s2.sd == pytest.approx(3.5)
    assert s2.histogram == [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    s1 = spectrum.statements[0]
    assert (s1.n, s1.mean, s1.median, s1.sd, s1.withheld) == (0, None, None, None, None)
    # One grade is fewer than k: only how many answered, and no part of the overall mean.
    s5 = spectrum.statements[4]
    assert (s5.n, s5.mean, s5.withheld, s5.histogram) == (0, None, 1, [0] * 10)
    assert spectrum.overall == pytest.approx(5.5)


def test_the_hidden_spectrum_shows_only_how_many_answered() -> None:
    board = new_board()
    for statement_id in STATEMENTS:
        run(board, P1, "set_score", statement_id=statement_id, value=6)
    run(board, P2, "set_score", statement_id="s1", value=1)
    spectrum = figures.spectrum(board, seq=3, full=False)
    assert spectrum.statements is None
    assert spectrum.overall is None
    assert spectrum.visible is False
    assert (spectrum.voters, spectrum.completed) == (2, 1)


def test_an_empty_room_has_an_empty_spectrum() -> None:
    spectrum = figures.spectrum(new_board(), seq=0, full=True)
    assert spectrum.statements is not None
    assert all(s.n == 0 and s.histogram == [0] * 10 for s in spectrum.statements)
    assert spectrum.overall is None


def test_scores_are_kept_per_round_kind_and_statement() -> None:
    board = new_board(round=2)
    (emitted,) = run(board, P1, "set_score", statement_id="s3", value=8)
    assert isinstance(emitted.event, p.ScoreSet)
    assert (emitted.event.round, emitted.event.kind) == (2, "today")
    assert set(board.aggregates) == {AggregateKey(2, "today", "s3")}
    assert board.scores == {("p_1", AggregateKey(2, "today", "s3")): 8}
    assert figures.spectrum(board, seq=1, full=True).round == 2


def test_scores_of_an_earlier_round_do_not_count_in_this_one() -> None:
    board = new_board(round=2)
    board.load_score("p_1", key("s1", round_=1), 3)
    assert (board.voters, board.completed) == (0, 0)
    spectrum = figures.spectrum(board, seq=1, full=True)
    assert spectrum.statements is not None
    assert spectrum.statements[0].n == 0
    assert board.my_scores("p_1") == {}


def test_loaded_scores_count_like_live_ones() -> None:
    board = new_board()
    for statement_id in STATEMENTS:
        board.load_score("p_1", key(statement_id), 7)
    assert (board.voters, board.completed) == (1, 1)
    assert board.aggregates[key("s10")].mean == 7


# ------------------------------------------------------------------ profiles


def test_a_name_reaches_only_the_person_and_the_facilitators_and_others_read_it_on_notes() -> None:
    board = new_board()
    (named,) = run(board, P1, "set_profile", name="Anna")
    assert isinstance(named.event, p.ParticipantUpdated) and named.event.participant.name == "Anna"
    assert named.audience.includes("participant", "p_1") and named.audience.includes("facilitator", None)
    assert not named.audience.includes("participant", "p_2") and not named.audience.includes("screen", None)
    assert board.participants["p_1"].name == "Anna"
    note_id = add_note(board, P1, "Signerad")
    assert board.public_note(board.notes[note_id]).author_name == "Anna"
    # Renamed: the person and the facilitators are told, everyone else reads it on the notes.
    renamed, on_note = run(board, P1, "set_profile", name="Anna B")
    assert isinstance(renamed.event, p.ParticipantUpdated) and not renamed.audience.includes("participant", "p_2")
    assert isinstance(on_note.event, p.NoteUpdated) and on_note.audience.everyone
    assert (on_note.event.note.id, on_note.event.note.author_name) == (note_id, "Anna B")
    assert on_note.event.note.text == "Signerad" and on_note.event.note.version == 1
    anonymous, unsigned = run(board, P1, "set_profile", name="")
    assert not anonymous.audience.everyone and not anonymous.audience.includes("participant", "p_2")
    assert isinstance(unsigned.event, p.NoteUpdated) and unsigned.audience.everyone
    assert unsigned.event.note.author_name is None
    assert board.participants["p_1"].name is None
    assert board.public_note(board.notes[note_id]).author_name is None
    # Without notes a name reaches nobody else at all; the same name again tells notes nothing.
    (only,) = run(board, P2, "set_profile", name="Bo")
    assert not only.audience.includes("participant", "p_1") and only.audience.includes("participant", "p_2")
    (again,) = run(board, P1, "set_profile", name=None)
    assert not again.audience.everyone


def test_a_group_reaches_only_the_facilitators_and_the_person() -> None:
    board = new_board()
    run(board, FACILITATOR, "set_groups", groups=[{"id": "staff", "name": "Medarbetare"}])
    (private,) = run(board, P1, "set_profile", name="Anna", group="staff")
    assert isinstance(private.event, p.ParticipantUpdated)
    assert (private.event.participant.name, private.event.participant.group) == ("Anna", "staff")
    assert private.audience.includes("facilitator", None) and private.audience.includes("participant", "p_1")
    assert not private.audience.includes("participant", "p_2") and not private.audience.includes("screen", None)
    assert board.participants["p_1"].group == "staff"


def test_a_group_can_be_chosen_again_until_the_person_answers() -> None:
    board = new_board()
    groups = [{"id": "staff", "name": "Medarbetare"}, {"id": "chefer", "name": "Chefer"}]
    run(board, FACILITATOR, "set_groups", groups=groups)
    run(board, P1, "set_profile", group="staff")
    run(board, P1, "set_profile", group="chefer")
    run(board, P1, "set_profile", group=None)
    run(board, P1, "set_profile", group="staff")
    run(board, P1, "set_score", statement_id="s1", value=6)
    assert refused(board, P1, "set_profile", group="chefer") == p.ErrorCode.GROUP_FIXED
    assert refused(board, P1, "set_profile", group=None) == p.ErrorCode.GROUP_FIXED
    # The same group again, or only a new name, is no change of group.
    run(board, P1, "set_profile", name="Anna", group="staff")
    assert (board.participants["p_1"].name, board.participants["p_1"].group) == ("Anna", "staff")
    assert board.aggregates[AggregateKey(1, "today", "s1", "staff")].n == 1
    assert AggregateKey(1, "today", "s1", "chefer") not in board.aggregates


def test_an_anonymous_join_is_not_announced_to_other_participants() -> None:
    board = new_board()
    (joined,) = board.decide_join("p_3", None)
    assert not joined.audience.includes("participant", "p_1")
    assert joined.audience.includes("participant", "p_3")
    assert joined.audience.includes("facilitator", None)


def test_a_new_round_hides_the_results_again() -> None:
    """Last round's figures on every phone would anchor the new grading: a new round is
    graded blind until the facilitator reveals again."""
    board = new_board()
    run(board, P1, "set_score", statement_id="s1", value=3)
    run(board, FACILITATOR, "set_results_visible", visible=True)
    emitted = run(board, FACILITATOR, "start_round")
    assert [item.event.type for item in emitted] == ["round_started", "results_visibility"]
    assert all(item.audience.everyone for item in emitted)
    assert board.flow.round == 2 and board.flow.results_visible is False
    assert figures.spectrum(board, seq=9, full=False).statements is None
    hidden_already = run(board, FACILITATOR, "start_round")
    assert [item.event.type for item in hidden_already] == ["round_started"], "nothing to hide"


def test_a_respondent_without_a_socket_counts_in_its_group_until_the_group_is_removed() -> None:
    """An imported respondent answers in the figures like a participant, in its group; it is
    nobody who joined, and removing its group moves its answers out of that group's."""
    board = new_board()
    run(board, FACILITATOR, "set_groups", groups=[{"id": "chefer", "name": "Chefer"}])
    key = AggregateKey(1, "today", "s1")
    for respondent, value in (("r_a", 2), ("r_b", 4), ("r_c", 9)):
        board.respondents[respondent] = "chefer"
        board.load_score(respondent, key, value)
    run(board, P1, "set_score", statement_id="s1", value=7)
    chefer = board.aggregates[key._replace(group="chefer")]
    assert (chefer.n, chefer.total) == (3, 15)
    assert (board.aggregates[key].n, board.aggregates[key].total) == (4, 22)
    assert board.group_voters == {"chefer": 3} and board.voters == 4
    assert board.people == 5 and len(board.participants) == 2
    run(board, FACILITATOR, "set_groups", groups=[])
    assert board.aggregates[key._replace(group="chefer")].n == 0 and board.group_voters == {"chefer": 0}
    assert board.group_of("r_a") is None and board.aggregates[key].n == 4
