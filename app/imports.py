"""What an export must be to be imported: consistent in itself, before anything is stored.

The models (app/snapshot.py) check each field; this checks the fields against each other:
every score's respondent, statement and round exist, every figure agrees with the scores
it summarises, every note's area, link and votes hold together. The first problem found is
returned with the field it is in (`scores.3.round`), and the import is refused whole.
Pure: no I/O. Opening the sealed groups is the caller's (it holds the key).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from app.aggregates import Aggregate
from app.board import to_stored
from app.snapshot import BoardExport


class Inconsistent(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check(export: BoardExport, open_group: Callable[[str], str | None]) -> None:
    """Raise Inconsistent for the first problem. `open_group` opens a sealed group (None:
    not sealed here, the group cannot be restored; that is allowed)."""
    for problem in _problems(export, open_group):
        raise problem


def _problems(export: BoardExport, open_group: Callable[[str], str | None]) -> Iterator[Inconsistent]:
    room = export.room
    statements = set(export.template.statement_ids())
    areas = set(export.template.area_ids())
    group_ids = [group.id for group in room.groups]
    if len(set(group_ids)) != len(group_ids):
        yield Inconsistent("room.groups", "group ids repeat")
    ids = [respondent.id for respondent in export.respondents]
    for index, respondent in enumerate(export.respondents):
        if ids.index(respondent.id) != index:
            yield Inconsistent(f"respondents.{index}.id", f"{respondent.id} appears twice")
        group = open_group(respondent.group_seal)
        if group and group not in group_ids:
            yield Inconsistent(f"respondents.{index}.group_seal", "names a group the room does not have")
    if export.participants < len(export.respondents):
        yield Inconsistent("participants", "fewer than the respondents")
    yield from _score_problems(export, statements, set(ids))
    yield from _figure_problems(export, statements)
    for index, group_figures in enumerate(export.group_figures):
        if group_figures.group_id not in group_ids:
            yield Inconsistent(f"group_figures.{index}.group_id", "names a group the room does not have")
    if export.hidden_groups > len(group_ids):
        yield Inconsistent("hidden_groups", "more than the room's groups")
    yield from _note_problems(export, statements, areas)


def _score_problems(export: BoardExport, statements: set[str], respondents: set[str]) -> Iterator[Inconsistent]:
    seen: set[tuple[str, int, str, str]] = set()
    answering: set[str] = set()
    for index, score in enumerate(export.scores):
        key = (score.respondent, score.round, score.kind, score.statement_id)
        if score.respondent not in respondents:
            yield Inconsistent(f"scores.{index}.respondent", f"no respondent {score.respondent}")
        if score.statement_id not in statements:
            yield Inconsistent(f"scores.{index}.statement_id", f"no statement {score.statement_id!r}")
        if score.round > export.room.round:
            yield Inconsistent(f"scores.{index}.round", f"after the room's round {export.room.round}")
        if key in seen:
            yield Inconsistent(f"scores.{index}", "a second answer to the same statement, round and kind")
        seen.add(key)
        answering.add(score.respondent)
    for index, respondent in enumerate(export.respondents):
        if respondent.id not in answering:
            yield Inconsistent(f"respondents.{index}", f"{respondent.id} has no answers")
    voters = {s.respondent for s in export.scores if s.round == export.room.round and s.kind == "today"}
    if export.voters != len(voters):
        yield Inconsistent("voters", f"{export.voters}, but {len(voters)} answered this round")


def _figure_problems(export: BoardExport, statements: set[str]) -> Iterator[Inconsistent]:
    """The whole room's figures must be what its scores give (or say how many they hold back)."""
    recomputed: dict[tuple[int, str, str], Aggregate] = {}
    covered: set[tuple[int, str, str]] = set()
    for score in export.scores:
        value = to_stored(score.value)
        assert value is not None
        recomputed.setdefault((score.round, score.kind, score.statement_id), Aggregate()).add(value)
    for index, figures in enumerate(export.aggregates):
        key: tuple[int, str, str] = (figures.round, figures.kind, figures.statement_id)
        if figures.statement_id not in statements or figures.round > export.room.round:
            yield Inconsistent(f"aggregates.{index}", "is of a statement or round the room does not have")
            continue
        covered.add(key)
        actual = recomputed.get(key) or Aggregate()
        answers = actual.n + actual.unknown
        if figures.withheld is not None:
            if figures.withheld != answers:
                yield Inconsistent(f"aggregates.{index}.withheld", f"{figures.withheld}, but the scores hold {answers}")
        elif (figures.n, figures.unknown, figures.histogram) != (actual.n, actual.unknown, actual.histogram):
            yield Inconsistent(f"aggregates.{index}", "does not match the scores")
    for round_number, kind, statement_id in recomputed.keys() - covered:
        yield Inconsistent("aggregates", f"no figures for round {round_number}, {kind}, statement {statement_id}")


def _note_problems(export: BoardExport, statements: set[str], areas: set[str]) -> Iterator[Inconsistent]:
    orders: Counter[tuple[str, int]] = Counter()
    for index, note in enumerate(export.notes):
        if note.area_id not in areas:
            yield Inconsistent(f"notes.{index}.area_id", f"no area {note.area_id!r}")
        if note.statement_id is not None and note.statement_id not in statements:
            yield Inconsistent(f"notes.{index}.statement_id", f"no statement {note.statement_id!r}")
        if len(set(note.voters)) != len(note.voters):
            yield Inconsistent(f"notes.{index}.voters", "a voter appears twice")
        if note.votes != len(note.voters):
            yield Inconsistent(f"notes.{index}.votes", f"{note.votes}, but {len(note.voters)} voters")
        orders[(note.area_id, note.order)] += 1
        if orders[(note.area_id, note.order)] > 1:
            yield Inconsistent(f"notes.{index}.order", "two notes in one place")
