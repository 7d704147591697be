"""What the k rule's releases cost a workshop: how long a changed answer waits before the
figures show it, what is still unshown when the round ends, and what the hot path pays.

    .venv/bin/python -m bench.releases [--rooms 200 --seed 1]

Part 1 simulates discussions after a reveal on the pure board (app/board.py), no server:
a room of N people (k = 3, no groups, or three groups of equal size), everybody graded
all ten statements before the reveal; during a ten-minute discussion each person changes
their answer to each statement with probability P (and late joiners answer), at uniform
random times. For every change it records the seconds until the figures show it (its
release), and at the end how many changes are still unshown. The timings are of this
model, not of people: what they show is how the wait depends on the room's size.

Part 2 times `Board.decide` + `evolve` of a slider storm on one statement before the reveal
(nothing to release) and after it (every change noted, released in steps), in one run, and
reports the ratio. Times on a shared machine are noisy; the ratio is what to read.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter

from app import protocol as p
from app.board import Actor, Board
from app.templates import builtin_templates

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
DISCUSSION_SECONDS = 600.0
K = 3
_commands: TypeAdapter[p.Command] = TypeAdapter(p.Command)


def command(type_: str, **fields: object) -> p.Command:
    return _commands.validate_python({"type": type_, "cid": "c", **fields})


def room(people: int, groups: int) -> Board:
    group_defs = [p.GroupDef(id=f"g{i}", name=f"Grupp {i}") for i in range(groups)]
    config = p.RoomConfig(title="Bänk", language="sv", groups=group_defs, group_min_size=K)
    board = Board("bench", builtin_templates()["tjanstelogik"], config, NOW, NOW + timedelta(days=1))
    for person in range(people):
        join(board, person, f"g{person % groups}" if groups else None)
    return board


def join(board: Board, person: int, group: str | None) -> None:
    actor = Actor("participant", f"p{person}")
    for event, _ in board.decide_join(f"p{person}", None):
        board.evolve(event, actor)
    if group is not None:
        for event, _ in board.decide(command("set_profile", group=group), actor, NOW):
            board.evolve(event, actor)


def grade(board: Board, person: int, statement: str, value: int) -> None:
    actor = Actor("participant", f"p{person}")
    for event, _ in board.decide(command("set_score", statement_id=statement, value=value), actor, NOW):
        board.evolve(event, actor)


def discussion(people: int, groups: int, change: float, late: int, rng: random.Random) -> tuple[list[float], int, int]:
    """Seconds each change waited for its release, changes unshown at the end, all changes."""
    board = room(people, groups)
    statements = board.template.statement_ids()
    for person in range(people):
        for statement in statements:
            grade(board, person, statement, rng.randint(1, 10))
    for event, _ in board.decide(command("set_results_visible", visible=True), Actor("facilitator", None), NOW):
        board.evolve(event, Actor("facilitator", None))
    moves: list[tuple[float, int, str, int]] = []
    for person in range(people):
        for statement in statements:
            if rng.random() < change:
                moves.append((rng.uniform(0, DISCUSSION_SECONDS), person, statement, rng.randint(1, 10)))
    newcomers = list(range(people, people + late))
    for person in newcomers:
        at = rng.uniform(0, DISCUSSION_SECONDS)
        moves += [(at + index, person, statement, rng.randint(1, 10)) for index, statement in enumerate(statements)]
    moves.sort()
    joined: set[int] = set(range(people))
    waiting: dict[tuple[int, str], float] = {}
    waits: list[float] = []
    for at, person, statement, value in moves:
        if person not in joined:
            join(board, person, f"g{person % groups}" if groups else None)
            joined.add(person)
        grade(board, person, statement, value)
        waiting.setdefault((person, statement), at)
        # A change is shown once its person is no longer among the statement's pending ones.
        pending = board.pending.get((1, "today", statement), {})
        for key in [key for key in waiting if key[1] == statement and f"p{key[0]}" not in pending]:
            waits.append(at - waiting.pop(key))
    return waits, len(waiting), len(moves)


def storm(people: int, changes: int, rng: random.Random, revealed: bool) -> float:
    """Seconds per slider move on one statement, before or after the reveal."""
    board = room(people, 0)
    for person in range(people):
        grade(board, person, "s1", rng.randint(1, 10))
    if revealed:
        for event, _ in board.decide(command("set_results_visible", visible=True), Actor("facilitator", None), NOW):
            board.evolve(event, Actor("facilitator", None))
    plan = [(rng.randrange(people), rng.randint(1, 10)) for _ in range(changes)]
    started = time.perf_counter()
    for person, value in plan:
        grade(board, person, "s1", value)
    return (time.perf_counter() - started) / changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=200, help="simulated discussions per row")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"k = {K}, a {DISCUSSION_SECONDS / 60:.0f}-minute discussion after the reveal, {args.rooms} rooms per row")
    columns = ["people", "groups", "changes per person and statement", "late joiners", "changes"]
    columns += ["median wait", "p90 wait", "unshown at the end"]
    print("| " + " | ".join(columns) + " |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for people, groups, change, late in [
        (6, 0, 0.2, 0),
        (6, 0, 0.2, 1),
        (12, 0, 0.2, 1),
        (12, 3, 0.2, 1),
        (40, 0, 0.2, 2),
        (40, 3, 0.2, 2),
        (40, 0, 0.05, 0),
        (100, 0, 0.2, 3),
    ]:
        waits: list[float] = []
        unshown = total = 0
        for _ in range(args.rooms):
            room_waits, room_unshown, room_total = discussion(people, groups, change, late, rng)
            waits += room_waits
            unshown += room_unshown
            total += room_total
        median = statistics.median(waits) if waits else float("nan")
        p90 = statistics.quantiles(waits, n=10)[-1] if len(waits) >= 10 else float("nan")
        print(
            f"| {people} | {groups} | {change:.2f} | {late} | {total / args.rooms:.1f} | {median:.0f} s | {p90:.0f} s "
            f"| {unshown / args.rooms:.2f} ({100 * unshown / max(total, 1):.1f} %) |"
        )
    before = statistics.median(storm(2000, 20000, rng, revealed=False) for _ in range(5))
    after = statistics.median(storm(2000, 20000, rng, revealed=True) for _ in range(5))
    print()
    print("slider storm, 2,000 people on one statement, 20,000 moves, median of 5 runs:")
    print(f"before the reveal {before * 1e6:.1f} µs a move, after {after * 1e6:.1f} µs: ratio {after / before:.2f}")


if __name__ == "__main__":
    main()
