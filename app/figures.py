"""What of a board's answers may be shown, and to whom: the one owner of the figures.

Everything that shows figures (the live spectrum, the export, later baselines and the
projector) asks `disclose` and renders what it returns; nothing else maps an aggregate to
figures or decides what is too few to show.

The k rule (docs/insight.md) guards the line an adversary can cross: it counts *grades*
(1-10), the answers a figure summarises, never "don't know"; and it holds per quantity.
A quantity is one statement, in one round, of one kind (today or desired). For each:

- the whole room's figures are shown once at least k people gave a grade;
- a group's figures only when at least k of its members gave a grade, and only if the
  grades outside the groups shown (the whole room minus them) are none or at least k,
  so that no sum or difference of the room and its groups is about fewer than k grades.

Two quantities are never combined into one: round 1 minus round 2, or today minus
desired, is a difference between two answers of many people, not anybody's answer. That
is what lets a room of 40 with two absentees see the shift and the desired figures. The
shift itself is counted over the people who graded both rounds, and shown when k did.

Figures are read from what the board has *released* (Board.released): a round's answers
all at once when its results are first disclosed, and after that only in steps that hold
the changes of at least k people in every atom (app/k_rule.py), so that no two moments'
figures differ by fewer than k people's answers. Which groups' figures are shown is
decided at their release (Board.released_groups_shown), never worked out again here from
aggregates released at two different moments.

Pure: no I/O, no asyncio. Reads the board; never changes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app import protocol as p
from app.aggregates import Aggregate, AggregateKey
from app.board import Board
from app.insight import classify

# (round, kind, statement id): one quantity, whose figures the rule decides together.
FigureKey = tuple[int, p.ScoreKind, str]
_EMPTY = Aggregate()


def figure_fields(aggregate: Aggregate | None) -> dict[str, Any]:
    """An aggregate's figures as the fields of `p.Figures` (and of every shape built on it)."""
    aggregate = aggregate or _EMPTY
    return {
        "n": aggregate.n,
        "unknown": aggregate.unknown,
        "mean": aggregate.mean,
        "median": aggregate.median,
        "sd": aggregate.sd,
        "histogram": list(aggregate.histogram),
    }


def withheld_fields(answers: int) -> dict[str, Any]:
    """Figures held back: only how many answers there are."""
    return {**figure_fields(None), "withheld": answers}


def insight_of(figures: p.Figures) -> p.Insight:
    return classify(figures.histogram)


@dataclass(frozen=True)
class GroupFigures:
    group: p.GroupDef
    voters: int
    figures: dict[FigureKey, p.Figures]


@dataclass(frozen=True)
class Disclosure:
    """The figures one audience may see: the whole room's per key, the groups with anything
    shown, how many groups with answers have nothing shown, and the round shifts."""

    room: dict[FigureKey, p.Figures]
    groups: list[GroupFigures]
    hidden_groups: int
    shifts: dict[str, Shift | None]

    def of(self, round_number: int, kind: p.ScoreKind, statement_id: str) -> p.Figures:
        return self.room[(round_number, kind, statement_id)]


@dataclass(frozen=True)
class Shift:
    """How the people who graded a statement in both rounds moved, and how many who graded
    it last round gave no grade this round."""

    left: int
    right: int
    stayed: int
    not_again: int


NOTHING = Disclosure(room={}, groups=[], hidden_groups=0, shifts={})


def disclose(board: Board, rounds: Iterable[int], full: bool) -> Disclosure:
    """The figures of `rounds` that an audience may see. `full` is the facilitator and,
    once results are revealed, everyone; otherwise nobody sees figures (only the counts
    that travel apart from them: voters, completed)."""
    if not full:
        return NOTHING
    wanted = sorted(set(rounds))
    kinds = kinds_of(board)
    k = board.config.group_min_size
    group_ids = [group.id for group in board.config.groups]
    keys = [(r, kind, s) for r in wanted for kind in kinds for s in board.template.statement_ids()]
    room: dict[FigureKey, p.Figures] = {}
    by_group: dict[str, dict[FigureKey, p.Figures]] = {group_id: {} for group_id in group_ids}
    for key in keys:
        round_number, kind, statement_id = key
        whole = board.released.get(AggregateKey(round_number, kind, statement_id))
        parts = {g: board.released.get(AggregateKey(round_number, kind, statement_id, g)) for g in group_ids}
        shown = board.released_groups_shown.get(key, frozenset())
        room[key] = _figures(whole, whole is not None and whole.n >= k)
        for group_id, aggregate in parts.items():
            by_group[group_id][key] = _figures(aggregate, group_id in shown)
    groups = []
    hidden = 0
    for group in board.config.groups:
        mine = by_group[group.id]
        if any(f.withheld is None and f.n + f.unknown for f in mine.values()):
            groups.append(GroupFigures(group=group, voters=board.group_voters.get(group.id, 0), figures=mine))
        elif any(f.withheld for f in mine.values()):
            hidden += 1
    return Disclosure(room=room, groups=groups, hidden_groups=hidden, shifts=_shifts(board))


def _figures(aggregate: Aggregate | None, shown: bool) -> p.Figures:
    answers = aggregate.n + aggregate.unknown if aggregate else 0
    if answers and not shown:
        return p.Figures(**withheld_fields(answers))
    return p.Figures(**figure_fields(aggregate))


def kinds_of(board: Board) -> list[p.ScoreKind]:
    return [kind for kind in p.SCORE_KINDS if kind != "desired" or board.config.desired_enabled]


def _shifts(board: Board) -> dict[str, Shift | None]:
    """How people moved since the previous round, per statement, over those who graded
    both rounds: shown when at least k did (a count of fewer would be about them)."""
    current = board.flow.round
    if current == 1:
        return {}
    k = board.config.group_min_size
    shifts: dict[str, Shift | None] = {}
    for statement_id in board.template.statement_ids():
        left, right, stayed = board.released_shifts.get(statement_id, (0, 0, 0))
        graded_both = left + right + stayed
        earlier = board.released.get(AggregateKey(current - 1, "today", statement_id))
        not_again = (earlier.n if earlier else 0) - graded_both
        shifts[statement_id] = Shift(left, right, stayed, not_again) if graded_both >= k else None
    return shifts


# ---------------------------------------------------------------- the live spectrum


def spectrum(board: Board, seq: int, full: bool) -> p.Spectrum:
    """The aggregates as sent: `full` for facilitators and, once revealed, everyone."""
    current = board.flow.round
    disclosed = disclose(board, range(1, current + 1), full)
    statements = None
    overall = None
    groups = None
    hidden = 0
    if full:
        statements = [_statement(board, disclosed, statement_id) for statement_id in board.template.statement_ids()]
        means = [entry.mean for entry in statements if entry.mean is not None]
        overall = sum(means) / len(means) if means else None
        groups = []
        # This round's figures per group: a group with none of them shown counts as hidden.
        for shown in disclosed.groups:
            entries = [
                _spectrum_entry(statement_id, shown.figures[(current, "today", statement_id)])
                for statement_id in board.template.statement_ids()
            ]
            if any(entry.withheld is None and entry.n + entry.unknown for entry in entries):
                groups.append(
                    p.GroupFigures(
                        group_id=shown.group.id, name=shown.group.name, voters=shown.voters, statements=entries
                    )
                )
            elif any(entry.withheld for entry in entries):
                hidden += 1
        hidden += disclosed.hidden_groups
    return p.Spectrum(
        seq=seq,
        round=current,
        visible=board.flow.results_visible,
        voters=board.voters,
        completed=board.completed,
        statements=statements,
        overall=overall,
        groups=groups,
        hidden_groups=hidden,
    )


def _spectrum_entry(statement_id: str, figures: p.Figures, **more: Any) -> p.StatementSpectrum:
    return p.StatementSpectrum(**dict(figures), statement_id=statement_id, insight=insight_of(figures), **more)


def _statement(board: Board, disclosed: Disclosure, statement_id: str) -> p.StatementSpectrum:
    current = board.flow.round
    today = disclosed.of(current, "today", statement_id)
    previous = None
    if current > 1:
        moves = disclosed.shifts.get(statement_id)
        previous = p.RoundShift(
            **dict(disclosed.of(current - 1, "today", statement_id)),
            round=current - 1,
            moved_left=moves.left if moves else None,
            moved_right=moves.right if moves else None,
            stayed=moves.stayed if moves else None,
            not_again=moves.not_again if moves else None,
        )
    desired = gap = None
    if board.config.desired_enabled:
        desired = disclosed.of(current, "desired", statement_id)
        if desired.mean is not None and today.mean is not None:
            gap = desired.mean - today.mean
    return _spectrum_entry(statement_id, today, previous=previous, desired=desired, gap=gap)
