"""What of a board's answers may be shown, and to whom: the one owner of the figures.

Everything that shows figures (the live spectrum, the export, later baselines and the
projector) asks `disclose` and renders what it returns; nothing else maps an aggregate to
figures or decides which groups are too small to show (the k rule, docs/insight.md).
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

# (round, kind, statement id): what one distribution is of, within a population.
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


def insight_of(figures: p.Figures) -> p.Insight:
    return classify(figures.histogram)


@dataclass(frozen=True)
class GroupFigures:
    group: p.GroupDef
    voters: int
    figures: dict[FigureKey, p.Figures]


@dataclass(frozen=True)
class Disclosure:
    """The figures one audience may see: the whole room's per key, the groups shown on
    their own, and how many groups with answers are held back."""

    room: dict[FigureKey, p.Figures]
    groups: list[GroupFigures]
    hidden_groups: int

    def of(self, round_number: int, kind: p.ScoreKind, statement_id: str) -> p.Figures:
        return self.room[(round_number, kind, statement_id)]


NOTHING = Disclosure(room={}, groups=[], hidden_groups=0)


def disclose(board: Board, rounds: Iterable[int], full: bool) -> Disclosure:
    """The figures of `rounds` that an audience may see. `full` is the facilitator and,
    once results are revealed, everyone; otherwise nobody sees figures (only the counts
    that travel apart from them: voters, completed)."""
    if not full:
        return NOTHING
    keys = [
        (round_number, kind, statement_id)
        for round_number in rounds
        for kind in kinds_of(board)
        for statement_id in board.template.statement_ids()
    ]
    room = {key: p.Figures(**figure_fields(board.aggregates.get(AggregateKey(*key)))) for key in keys}
    shown = shown_groups(board)
    current = [key for key in keys if key[0] == board.flow.round and key[1] == "today"]
    groups = [
        GroupFigures(
            group=group,
            voters=board.group_voters.get(group.id, 0),
            figures={
                key: p.Figures(**figure_fields(board.aggregates.get(AggregateKey(*key, group=group.id))))
                for key in current
            },
        )
        for group in shown
    ]
    answering = sum(1 for group in board.config.groups if board.group_voters.get(group.id, 0) > 0)
    return Disclosure(room=room, groups=groups, hidden_groups=answering - len(shown))


def kinds_of(board: Board) -> list[p.ScoreKind]:
    return ["today", "desired"] if board.config.desired_enabled else ["today"]


def shown_groups(board: Board) -> list[p.GroupDef]:
    """The groups big enough to show on their own (k-anonymity, see docs/insight.md).

    A group with fewer than k voters is hidden. So is, in turn, the smallest shown group
    while the voters left out of every shown group are more than none but fewer than k:
    otherwise the whole room's figures minus the shown groups' would give the hidden ones
    away."""
    k = board.config.group_min_size
    voters = board.group_voters
    shown = [g for g in board.config.groups if voters.get(g.id, 0) >= k]
    residual = board.voters - sum(voters[g.id] for g in shown)
    while shown and 0 < residual < k:
        smallest = min(shown, key=lambda g: voters[g.id])
        shown.remove(smallest)
        residual += voters[smallest.id]
    return shown


# ---------------------------------------------------------------- the live spectrum


def spectrum(board: Board, seq: int, full: bool) -> p.Spectrum:
    """The aggregates as sent: `full` for facilitators and, once revealed, everyone."""
    current = board.flow.round
    rounds = [current - 1, current] if current > 1 else [current]
    disclosed = disclose(board, rounds, full)
    statements = None
    overall = None
    groups = None
    if full:
        statements = [_statement(board, disclosed, statement_id) for statement_id in board.template.statement_ids()]
        means = [entry.mean for entry in statements if entry.mean is not None]
        overall = sum(means) / len(means) if means else None
        groups = [
            p.GroupFigures(
                group_id=shown.group.id,
                name=shown.group.name,
                voters=shown.voters,
                statements=[
                    _spectrum_entry(statement_id, shown.figures[(current, "today", statement_id)])
                    for statement_id in board.template.statement_ids()
                ],
            )
            for shown in disclosed.groups
        ]
    return p.Spectrum(
        seq=seq,
        round=current,
        visible=board.flow.results_visible,
        voters=board.voters,
        completed=board.completed,
        statements=statements,
        overall=overall,
        groups=groups,
        hidden_groups=disclosed.hidden_groups,
    )


def _spectrum_entry(statement_id: str, figures: p.Figures, **more: Any) -> p.StatementSpectrum:
    return p.StatementSpectrum(**dict(figures), statement_id=statement_id, insight=insight_of(figures), **more)


def _statement(board: Board, disclosed: Disclosure, statement_id: str) -> p.StatementSpectrum:
    current = board.flow.round
    today = disclosed.of(current, "today", statement_id)
    previous = None
    if current > 1:
        left, right, stayed = board.shifts.get(statement_id, (0, 0, 0))
        previous = p.RoundShift(
            **dict(disclosed.of(current - 1, "today", statement_id)),
            round=current - 1,
            moved_left=left,
            moved_right=right,
            stayed=stayed,
        )
    desired = gap = None
    if board.config.desired_enabled:
        desired = disclosed.of(current, "desired", statement_id)
        if desired.mean is not None and today.mean is not None:
            gap = desired.mean - today.mean
    return _spectrum_entry(statement_id, today, previous=previous, desired=desired, gap=gap)
