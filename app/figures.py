"""What of a board's answers may be shown, and to whom: the one owner of the figures.

Everything that shows figures (the live spectrum, the export, later baselines and the
projector) asks `disclose` and renders what it returns; nothing else maps an aggregate to
figures or decides what is too few to show.

The k rule (docs/insight.md): a *population* is the people who answered one statement in
one round, of one kind (today or desired), in the whole room or in one group. Its figures
are shown only if no combination of shown figures can single out fewer than k answers.
Per statement, populations are taken in order of importance and one is shown only if,
with those shown before it, every *atom* (the people who are in exactly the same shown
populations) holds at least k people: every sum or difference of shown figures is then a
sum over whole atoms. Rounds and kinds of one statement are taken together, as if people
answered them alike, so that round 1 minus round 2 or today minus desired gives nobody
away either. The rule works on counts per (group, answered-keys) signature that the board
keeps in O(1) per change (Board.signatures), never on the scores themselves.

Pure: no I/O, no asyncio. Reads the board; never changes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from app import protocol as p
from app.aggregates import Aggregate, AggregateKey
from app.board import Board, answer_bit
from app.insight import classify

# (round, kind, statement id): what one distribution is of, within a population.
FigureKey = tuple[int, p.ScoreKind, str]
# (group or None, mask of the (round, kind)s answered): people alike for the k rule.
Signature = tuple[str | None, int]
_EMPTY = Aggregate()


class Population(NamedTuple):
    """Who answered one (round, kind) of a statement: the whole room (group None) or a group."""

    round: int
    kind: p.ScoreKind
    group: str | None

    def holds(self, signature: Signature) -> bool:
        group, mask = signature
        return bool(mask & answer_bit(self.round, self.kind)) and (self.group is None or group == self.group)


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
    shifts: dict[str, tuple[int, int, int] | None]

    def of(self, round_number: int, kind: p.ScoreKind, statement_id: str) -> p.Figures:
        return self.room[(round_number, kind, statement_id)]


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
    candidates = _candidates(board)  # the same for every statement: built once per call
    shown = {
        statement_id: shown_populations(board.signatures.get(statement_id, {}), candidates, k)
        for statement_id in board.template.statement_ids()
    }

    def figures(key: FigureKey, group: str | None) -> p.Figures:
        round_number, kind, statement_id = key
        aggregate = board.aggregates.get(AggregateKey(round_number, kind, statement_id, group))
        answers = aggregate.n + aggregate.unknown if aggregate else 0
        if answers and Population(round_number, kind, group) not in shown[statement_id]:
            return p.Figures(**withheld_fields(answers))
        return p.Figures(**figure_fields(aggregate))

    keys = [(r, kind, s) for r in wanted for kind in kinds for s in board.template.statement_ids()]
    room = {key: figures(key, None) for key in keys}
    groups = []
    hidden = 0
    for group in board.config.groups:
        mine = {key: figures(key, group.id) for key in keys}
        if any(f.withheld is None and f.n + f.unknown for f in mine.values()):
            groups.append(GroupFigures(group=group, voters=board.group_voters.get(group.id, 0), figures=mine))
        elif any(f.withheld for f in mine.values()):
            hidden += 1
    return Disclosure(room=room, groups=groups, hidden_groups=hidden, shifts=_shifts(board, shown))


def kinds_of(board: Board) -> list[p.ScoreKind]:
    return ["today", "desired"] if board.config.desired_enabled else ["today"]


def _candidates(board: Board) -> list[Population]:
    """Every population of a statement, most important first: the whole room this round
    (today, then desired), then earlier rounds; then the groups, largest first."""
    kinds = kinds_of(board)
    order = [(r, kind) for r in range(board.flow.round, 0, -1) for kind in kinds]
    by_size = sorted(board.config.groups, key=lambda g: (-board.group_voters.get(g.id, 0), g.id))
    room = [Population(r, kind, None) for r, kind in order]
    return room + [Population(r, kind, group.id) for r, kind in order for group in by_size]


def shown_populations(signatures: dict[Signature, int], candidates: Iterable[Population], k: int) -> set[Population]:
    """The candidates shown, in order: a group only if at least k of it answered, and any
    population only if, with those shown before it, every atom holds at least k people or
    there is one atom only (all shown figures are of the same people: nothing is set apart)."""
    atom_of: dict[Signature, tuple[bool, ...]] = dict.fromkeys(signatures, ())
    shown: set[Population] = set()
    for candidate in candidates:
        split = {signature: (*atom, candidate.holds(signature)) for signature, atom in atom_of.items()}
        size = sum(signatures[signature] for signature, atom in split.items() if atom[-1])
        if not size:
            continue  # nobody answered: nothing to show, nothing given away
        if candidate.group is not None and size < k:
            continue
        atoms = list(_atom_sizes(split, signatures))
        if len(atoms) == 1 or all(count >= k for count in atoms):
            atom_of = split
            shown.add(candidate)
    return shown


def _atom_sizes(atom_of: dict[Signature, tuple[bool, ...]], signatures: dict[Signature, int]) -> Iterator[int]:
    """People per atom, for the atoms inside at least one shown population."""
    sizes: dict[tuple[bool, ...], int] = {}
    for signature, atom in atom_of.items():
        if any(atom):
            sizes[atom] = sizes.get(atom, 0) + signatures[signature]
    return iter(sizes.values())


def _shifts(board: Board, shown: dict[str, set[Population]]) -> dict[str, tuple[int, int, int] | None]:
    """How people moved since the previous round, per statement: only where both rounds'
    figures are shown and at least k people gave a grade in both."""
    current = board.flow.round
    if current == 1:
        return {}
    both = {Population(current, "today", None), Population(current - 1, "today", None)}
    shifts: dict[str, tuple[int, int, int] | None] = {}
    for statement_id in board.template.statement_ids():
        left, right, stayed = board.shifts.get(statement_id, (0, 0, 0))
        graded_both = left + right + stayed
        safe = both <= shown[statement_id] and (graded_both == 0 or graded_both >= board.config.group_min_size)
        shifts[statement_id] = (left, right, stayed) if safe else None
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
        left, right, stayed = moves if moves is not None else (None, None, None)
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
