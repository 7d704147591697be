"""The k rule against an adversary over time (docs/insight.md, "The adversary").

Hypothesis plays a room: people join (named or not), choose groups, answer (grades, "don't
know", cleared answers), change their minds, the facilitator reveals and hides results,
starts rounds and exports. The adversary records every figure any role receives (the
live spectrum once revealed, and every export, at every moment) and every message that
names someone. From the answers the test itself gave, never from the rule's bookkeeping:

- each figure shown must be the true histogram of its population at the moment the
  figure last changed (nothing fabricated), observed after every step, as if the
  adversary exported after each one;
- every figure shows at least k grades;
- no sum or difference of up to MAX_TERMS figures, across populations and moments, is
  about 1 to k-1 answers: each figure is the set of answers (person, quantity, version)
  it summarises, and a combination's support is the answers with a nonzero weight;
- no message reaches a participant or a screen with another person's name.

`test_the_adversary_finds_*` show the search is not blind: on figures the old rules sent
(the whole room below k, "don't know" counted toward k, a join followed by a change of
one answer) it finds the isolation.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app import protocol as p
from app.board import Actor, Board, DomainError, Emitted
from app.figures import disclose
from app.templates import builtin_templates

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
STATEMENTS = ["s1", "s2"]
GROUPS = ["g1", "g2"]
QUANTITIES = [("s1", "today"), ("s1", "desired"), ("s2", "today")]
MAX_TERMS = 4
FACILITATOR = Actor("facilitator", None)
_commands: TypeAdapter[p.Command] = TypeAdapter(p.Command)

Quantity = tuple[int, str, str]  # round, kind, statement
Population = tuple[Quantity, str | None]  # and group (None: the whole room)
Item = tuple[int, Quantity, int]  # person, quantity, version of their answer


@dataclass
class Truth:
    """What the test knows: every answer as given, with a version per change."""

    answers: dict[tuple[int, Quantity], tuple[int, object]] = field(default_factory=dict)  # -> (version, value)
    group_of: dict[int, str | None] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    versions: Counter[tuple[int, Quantity]] = field(default_factory=Counter)

    def set(self, person: int, quantity: Quantity, value: object) -> None:
        self.versions[(person, quantity)] += 1
        if value is None:
            self.answers.pop((person, quantity), None)
        else:
            self.answers[(person, quantity)] = (self.versions[(person, quantity)], value)

    def population(self, population: Population) -> dict[int, tuple[int, object]]:
        quantity, group = population
        return {
            person: answer
            for (person, q), answer in self.answers.items()
            if q == quantity and (group is None or self.group_of.get(person) == group)
        }


def histogram(answers: dict[int, tuple[int, object]]) -> tuple[list[int], int]:
    grades = [value for _, value in answers.values() if isinstance(value, int)]
    return [grades.count(v) for v in range(1, 11)], len(answers) - len(grades)


@dataclass
class Adversary:
    """Every figure seen, each as the answers behind it, and the names heard."""

    k: int
    seen: dict[Population, tuple[tuple[list[int], int], frozenset[Item]]] = field(default_factory=dict)
    figures: set[tuple[Population, frozenset[Item]]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def observe(self, shown: dict[Population, p.Figures], truth: Truth, moment: str) -> None:
        for population, figures in shown.items():
            if figures.withheld is not None or not figures.n + figures.unknown:
                self.seen.pop(population, None)  # held back now: the next showing is a new moment
                continue
            if figures.n < self.k:
                self.problems.append(f"{moment}: {population} shown with {figures.n} grades")
            now = (list(figures.histogram), figures.unknown)
            before = self.seen.get(population)
            if before is not None and before[0] == now:
                continue  # unchanged: the same answers as when it last changed
            answers = truth.population(population)
            if histogram(answers) != now:
                self.problems.append(f"{moment}: {population} shows {now}, the answers give {histogram(answers)}")
                continue
            items = frozenset((person, population[0], version) for person, (version, _) in answers.items())
            self.seen[population] = (now, items)
            self.figures.add((population, items))

    def isolation(self) -> tuple[Item, ...] | None:
        """A combination of up to MAX_TERMS figures of one statement about 1..k-1 answers."""
        by_statement: dict[str, list[frozenset[Item]]] = {}
        for (quantity, _), items in self.figures:
            by_statement.setdefault(quantity[2], []).append(items)
        for sets in by_statement.values():
            distinct = list(dict.fromkeys(sets))
            for size in range(1, min(MAX_TERMS, len(distinct)) + 1):
                for chosen in itertools.combinations(distinct, size):
                    for signs in itertools.product((1, -1), repeat=size - 1):
                        weight: Counter[Item] = Counter()
                        for items, sign in zip(chosen, (1, *signs), strict=True):
                            for item in items:
                                weight[item] += sign
                        support = tuple(sorted(item for item, value in weight.items() if value))
                        if 0 < len(support) < self.k:
                            return support
        return None


@st.composite
def workshops(draw: st.DrawFn) -> dict[str, Any]:
    """A room's life: people join (some named) and choose a group, most answer, and then
    anything happens: late joiners who answer, changed minds, "don't know", cleared
    answers, group changes, reveals, hiding, new rounds and exports."""
    k = draw(st.integers(min_value=2, max_value=3))
    people = draw(st.integers(min_value=3, max_value=8))
    grade = st.one_of(st.integers(1, 10), st.integers(1, 10), st.just("unknown"))
    early = draw(st.lists(st.integers(0, people - 1), unique=True, min_size=2, max_size=people))
    steps: list[tuple[Any, ...]] = []
    for someone in early:
        steps.append(("join", someone, draw(st.booleans())))
        steps.append(("group", someone, draw(st.sampled_from([None, *GROUPS]))))
    for someone in early:
        for statement, kind in draw(st.lists(st.sampled_from(QUANTITIES), unique=True, min_size=1)):
            steps.append(("score", someone, statement, kind, draw(grade)))
    person = st.integers(0, people - 1)
    later = st.one_of(
        st.tuples(st.just("score"), person, st.sampled_from(STATEMENTS), st.sampled_from(["today", "desired"]), grade),
        st.tuples(st.just("score"), person, st.sampled_from(STATEMENTS), st.just("today"), st.none()),
        st.tuples(st.just("join"), person, st.booleans()),
        st.tuples(st.just("group"), person, st.sampled_from([None, *GROUPS])),
        st.tuples(st.just("reveal"), st.booleans()),
        st.tuples(st.just("export")),
        st.tuples(st.just("round")),
        st.tuples(st.just("groups"), st.lists(st.sampled_from(GROUPS), unique=True)),
    )
    steps += draw(st.lists(later, max_size=25))
    return {"k": k, "people": people, "steps": steps}


def new_board(k: int) -> Board:
    config = p.RoomConfig(
        title="Rummet",
        language="sv",
        groups=[p.GroupDef(id=g, name=g.upper()) for g in GROUPS],
        group_min_size=k,
        desired_enabled=True,
    )
    template = builtin_templates()["tjanstelogik"]
    return Board("r", template, config, NOW, NOW + timedelta(days=1))


def apply(board: Board, emitted: list[Emitted], actor: Actor, adversary: Adversary, truth: Truth) -> None:
    for event, audience in emitted:
        named = isinstance(event, p.ParticipantJoined | p.ParticipantUpdated) and event.participant.name
        if named and audience.everyone:
            assert isinstance(event, p.ParticipantJoined | p.ParticipantUpdated)
            adversary.problems.append(f"{event.type} with the name {event.participant.name} to everyone")
        board.evolve(event, actor)


def play(workshop: dict[str, Any]) -> Adversary:
    k = workshop["k"]
    board = new_board(k)
    truth = Truth()
    adversary = Adversary(k)
    joined: set[int] = set()
    for index, step in enumerate(workshop["steps"]):
        kind = step[0]
        moment = f"step {index} {step}"
        actor = Actor("participant", f"p{step[1]}") if kind in {"join", "group", "score"} else FACILITATOR
        if kind in {"group", "score"} and step[1] not in joined:
            continue
        try:
            if kind == "join":
                if step[1] in joined:
                    continue
                name = f"Person {step[1]}" if step[2] else None
                apply(board, board.decide_join(f"p{step[1]}", name), actor, adversary, truth)
                joined.add(step[1])
                if name:
                    truth.names[step[1]] = name
                truth.group_of[step[1]] = None
            elif kind == "group":
                emitted = board.decide(_command("set_profile", group=step[2]), actor, NOW)
                apply(board, emitted, actor, adversary, truth)
                truth.group_of[step[1]] = step[2]
            elif kind == "score":
                _, person, statement, answer_kind, value = step
                emitted = board.decide(
                    _command("set_score", statement_id=statement, kind=answer_kind, value=value), actor, NOW
                )
                apply(board, emitted, actor, adversary, truth)
                truth.set(person, (board.flow.round, answer_kind, statement), value)
            elif kind == "reveal":
                emitted = board.decide(_command("set_results_visible", visible=step[1]), actor, NOW)
                apply(board, emitted, actor, adversary, truth)
            elif kind == "round":
                emitted = board.decide(_command("start_round"), actor, NOW)
                apply(board, emitted, actor, adversary, truth)
            elif kind == "groups":  # the facilitator keeps some groups: the others' members have none
                kept = [{"id": g, "name": g.upper()} for g in step[1]]
                apply(board, board.decide(_command("set_groups", groups=kept), actor, NOW), actor, adversary, truth)
                truth.group_of = {person: g if g in step[1] else None for person, g in truth.group_of.items()}
        except DomainError:
            continue
        if kind == "export":
            board.disclose_rounds(board.flow.round)  # as LiveRoom.export does
        # Whatever has been disclosed, looked at after every step: the live spectrum and an
        # export at any moment show this, so the adversary is given all of it.
        adversary.observe(shown(board), truth, moment)
    return adversary


def shown(board: Board) -> dict[Population, p.Figures]:
    disclosed = disclose(board, range(1, board.flow.round + 1), full=True)
    figures: dict[Population, p.Figures] = {(key, None): f for key, f in disclosed.room.items()}
    for group in disclosed.groups:
        figures.update({(key, group.group.id): f for key, f in group.figures.items()})
    return figures


_cids = itertools.count()


def _command(type_: str, **fields: Any) -> p.Command:
    return _commands.validate_python({"type": type_, "cid": f"c{next(_cids)}", **fields})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workshops())
def test_no_figure_seen_over_time_isolates_fewer_than_k_answers(workshop: dict[str, Any]) -> None:
    adversary = play(workshop)
    assert not adversary.problems, adversary.problems[0]
    found = adversary.isolation()
    assert found is None, f"answers {found} can be singled out of {len(adversary.figures)} figures"


def _room(steps: list[tuple[Any, ...]], k: int = 3, people: int = 9) -> dict[str, Any]:
    return {"k": k, "people": people, "steps": steps}


def test_a_room_of_40_with_two_absentees_and_two_who_skip_desired_sees_everything() -> None:
    """The utility the rule must keep (issue 22): 40 people, k = 3, 2 absent in round 2 and
    2 who never say where they want to be: every whole-room figure, the shift and the
    desired figures are shown, with the shift counted over the 38 who graded both."""
    board = new_board(3)
    for person in range(40):
        actor = Actor("participant", f"p{person}")
        for event, _ in board.decide_join(f"p{person}", None):
            board.evolve(event, actor)
    grades = {person: 1 + person % 10 for person in range(40)}
    for statement in STATEMENTS:
        for person in range(40):
            actor = Actor("participant", f"p{person}")
            for kind in ("today", "desired"):
                if kind == "desired" and person < 2:
                    continue
                command = _command("set_score", statement_id=statement, kind=kind, value=grades[person])
                for event, _ in board.decide(command, actor, NOW):
                    board.evolve(event, actor)
    for event, _ in board.decide(_command("set_results_visible", visible=True), FACILITATOR, NOW):
        board.evolve(event, FACILITATOR)
    for event, _ in board.decide(_command("start_round"), FACILITATOR, NOW):
        board.evolve(event, FACILITATOR)
    for person in range(2, 40):
        actor = Actor("participant", f"p{person}")
        for statement in STATEMENTS:
            command = _command("set_score", statement_id=statement, value=min(10, grades[person] + 1))
            for event, _ in board.decide(command, actor, NOW):
                board.evolve(event, actor)
    for event, _ in board.decide(_command("set_results_visible", visible=True), FACILITATOR, NOW):
        board.evolve(event, FACILITATOR)
    disclosed = disclose(board, [1, 2], full=True)
    for statement in STATEMENTS:
        assert disclosed.of(1, "today", statement).n == 40
        assert disclosed.of(1, "desired", statement).n == 38
        assert disclosed.of(2, "today", statement).n == 38
        shift = disclosed.shifts[statement]
        assert shift is not None
        moved_right = sum(1 for person in range(2, 40) if grades[person] < 10)
        assert (shift.left, shift.right, shift.stayed, shift.not_again) == (0, moved_right, 38 - moved_right, 2)


def _search(figures: list[frozenset[Item]], k: int) -> tuple[Item, ...] | None:
    adversary = Adversary(k)
    adversary.figures = {(((1, "today", "s1"), None), items) for items in figures}
    return adversary.isolation()


def test_the_adversary_finds_a_whole_room_below_k() -> None:
    """Rule 4 of the old doc showed the whole room however few answered: two people, k = 3."""
    assert _search([frozenset({(0, (1, "today", "s1"), 1), (1, (1, "today", "s1"), 1)})], 3) is not None


def test_the_adversary_finds_a_join_followed_by_one_changed_answer() -> None:
    """Attack 5: eight grades, then Dora joins and the next frame has nine."""
    eight = frozenset((person, (1, "today", "s1"), 1) for person in range(8))
    nine = eight | {(8, (1, "today", "s1"), 1)}
    assert _search([eight, nine], 3) == ((8, (1, "today", "s1"), 1),)


def test_the_adversary_finds_a_group_figure_that_counted_dont_know() -> None:
    """Attack 2: Chefer [2, Vet ej, Vet ej] shown as 3 answers; the figure is about the one grade."""
    adversary = Adversary(3)
    truth = Truth(group_of={0: "g1", 1: "g1", 2: "g1"})
    for person, value in enumerate([2, "unknown", "unknown"]):
        truth.set(person, (1, "today", "s1"), value)
    old_rule = p.Figures(n=1, unknown=2, mean=2.0, median=2.0, sd=0.0, histogram=[0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    adversary.observe({((1, "today", "s1"), "g1"): old_rule}, truth, "old rule")
    assert adversary.problems and "with 1 grades" in adversary.problems[0]


def test_a_replay_of_the_dora_attack_finds_nothing() -> None:
    """Attack 5 played against the board: eight answers, the reveal, then Dora (named) joins
    and answers. Her answer is held until at least k people changed."""
    steps: list[tuple[Any, ...]] = [("join", person, False) for person in range(8)]
    steps += [("score", person, "s1", "today", 3 + person % 5) for person in range(8)]
    steps += [("reveal", True), ("join", 8, True), ("score", 8, "s1", "today", 9), ("export",)]
    adversary = play(_room(steps))
    assert not adversary.problems and adversary.isolation() is None
    steps += [("score", 0, "s1", "today", 10), ("score", 1, "s1", "today", 10), ("export",)]
    adversary = play(_room(steps))
    assert not adversary.problems and adversary.isolation() is None


def test_a_group_cannot_change_once_its_member_has_answered() -> None:
    """Attack 3: Erik answered, then joins Chefer; his answers would move into Chefer's figures."""
    board = new_board(3)
    erik = Actor("participant", "erik")
    for event, _ in board.decide_join("erik", "Erik"):
        board.evolve(event, erik)
    for event, _ in board.decide(_command("set_score", statement_id="s1", value=10), erik, NOW):
        board.evolve(event, erik)
    try:
        board.decide(_command("set_profile", group="g1"), erik, NOW)
    except DomainError as refused:
        assert refused.code == p.ErrorCode.GROUP_FIXED
    else:
        raise AssertionError("the group changed after answering")


def test_clearing_every_answer_does_not_free_the_group() -> None:
    """Found by a live test: X clears her only answer, moves from g1 to g2 and answers 9;
    two of g1 change. Her change was counted under g1, so g2's figures moved by exactly her
    grade. A group stays fixed once its member has answered, cleared or not."""
    steps: list[tuple[Any, ...]] = []
    members = {0: "g1", 1: "g1", 2: "g1", 3: "g1", 4: "g2", 5: "g2", 6: "g2"}
    for person, group in members.items():
        steps += [("join", person, person == 3), ("group", person, group)]
    steps += [("score", person, "s1", "today", 7 + person % 3) for person in members]
    steps += [("reveal", True), ("score", 3, "s1", "today", None), ("group", 3, "g2")]
    steps += [("score", 3, "s1", "today", 9), ("score", 0, "s1", "today", 2), ("score", 1, "s1", "today", 2)]
    adversary = play(_room(steps, k=3, people=7))
    assert not adversary.problems, adversary.problems[0]
    assert adversary.isolation() is None
