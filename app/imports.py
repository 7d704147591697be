"""What an export must be to be imported: within the live room's limits and consistent in
itself, before anything is stored.

A file must not make a room the live protocol could never make: issue 17 found the import
taking 45,000 notes and 60,000 participants where a live room stops at 5,000 of each (and
every join to that room then cost a 12.7 MB welcome), and numbers past the database's
32-bit integers. Such a file is refused with `limit_reached` or `invalid_export`.

The models (app/snapshot.py) check each field; this also checks the fields against each other:
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
from app.settings import Settings
from app.snapshot import BoardExport

# Live limits the settings do not hold, as app/protocol.py states them.
MAX_GROUPS = 12
# The database's integer columns (round, seq, version) are 32-bit.
MAX_STORED_INT = 2**31 - 1


class Inconsistent(Exception):
    """`code` is `invalid_export`, or `limit_reached` for a file beyond the live limits."""

    def __init__(self, field: str, message: str, code: str = "invalid_export") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


def check(export: BoardExport, open_group: Callable[[str], str | None], settings: Settings) -> None:
    """Raise Inconsistent for the first problem. `open_group` opens a sealed group (None:
    not sealed here, the group cannot be restored; that is allowed)."""
    for problem in _beyond_limits(export, settings):
        raise problem
    for problem in _problems(export, open_group):
        raise problem


def _beyond_limits(export: BoardExport, settings: Settings) -> Iterator[Inconsistent]:
    counts = (
        ("participants", export.participants, settings.max_participants_per_room, "participants"),
        ("notes", len(export.notes), settings.max_notes_per_room, "notes"),
        ("room.groups", len(export.room.groups), MAX_GROUPS, "groups"),
    )
    for field, count, limit, what in counts:
        if count > limit:
            message = f"The export has {count:,} {what}; a room on this server holds at most {limit:,}."
            yield Inconsistent(field, message, "limit_reached")
    numbers = [("room.round", export.room.round), ("room.seq", export.room.seq)]
    numbers += [(f"scores.{i}.round", s.round) for i, s in enumerate(export.scores)]
    numbers += [(f"notes.{i}.version", n.version) for i, n in enumerate(export.notes)]
    for field, value in numbers:
        if value > MAX_STORED_INT:
            yield Inconsistent(field, f"{value} is larger than any room gets.")


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
