"""What an export must be to be imported: within the live room's limits and consistent in
itself, before anything is stored.

A file must not make a room the live protocol could never make: issue 17 found the import
taking 45,000 notes and 60,000 participants where a live room stops at 5,000 of each (and
every join to that room then cost a 12.7 MB welcome), and numbers past the database's
32-bit integers. Such a file is refused with `limit_reached` or `invalid_export`.

The models (app/snapshot.py) check each field; this also checks the fields against each
other: every figure is what its histogram gives (mean, median, sd, insight, the overall
index: issue 22 found a mean raised by 0.5 accepted), and, where the import restores
answers (opened from the seal, or a version-2 file's readable ones), every figure agrees
with the answers it summarises, group figures with their groups' answers too; every
note's area, link and votes hold together. The first problem found is returned with the
field it is in (`aggregates.3.mean`), and the import is refused whole.
Pure: no I/O. Opening the sealed answers is the caller's (it holds the key).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence

from app.aggregates import Aggregate
from app.board import to_stored
from app.export_answers import Answer, Respondent
from app.insight import classify
from app.k_rule import shown_groups
from app.settings import Settings
from app.snapshot import BoardExport, ExportedAggregate

# One statement in one round, of one kind: (round, kind, statement id).
Quantity = tuple[int, str, str]
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


def check(export: BoardExport, restored: Sequence[Respondent] | None, settings: Settings) -> None:
    """Raise Inconsistent for the first problem. `restored` is what the import will store
    as answers when it restores them (None: it rebuilds them from the figures)."""
    for problem in _beyond_limits(export, settings):
        raise problem
    for problem in _problems(export, restored):
        raise problem


def respondents_of(export: BoardExport) -> list[Respondent] | None:
    """A version-2 file's readable answers as respondents without groups, or None."""
    if export.open_answers is None:
        return None
    answers: dict[str, list[Answer]] = {}
    for score in export.open_answers:
        value = to_stored(score.value)
        assert value is not None
        answer = Answer(score.round, score.kind, score.statement_id, value, value, value)
        answers.setdefault(score.respondent, []).append(answer)
    return [Respondent(None, tuple(given)) for given in answers.values()]


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
    numbers += [(f"open_answers.{i}.round", s.round) for i, s in enumerate(export.open_answers or [])]
    numbers += [(f"aggregates.{i}.round", a.round) for i, a in enumerate(export.aggregates)]
    numbers += [(f"notes.{i}.version", n.version) for i, n in enumerate(export.notes)]
    for field, value in numbers:
        if value > MAX_STORED_INT:
            yield Inconsistent(field, f"{value} is larger than any room gets.")


def _problems(export: BoardExport, restored: Sequence[Respondent] | None) -> Iterator[Inconsistent]:
    room = export.room
    statements = set(export.template.statement_ids())
    areas = set(export.template.area_ids())
    group_ids = [group.id for group in room.groups]
    if len(set(group_ids)) != len(group_ids):
        yield Inconsistent("room.groups", "group ids repeat")
    if export.participants < export.respondents:
        yield Inconsistent("participants", "fewer than the respondents")
    if export.open_answers is not None:
        yield from _open_answer_problems(export, statements)
    yield from _figure_problems(export, statements)
    if restored is not None:
        yield from _restored_problems(export, restored)
    for index, group_figures in enumerate(export.group_figures):
        if group_figures.group_id not in group_ids:
            yield Inconsistent(f"group_figures.{index}.group_id", "names a group the room does not have")
    if export.hidden_groups > len(group_ids):
        yield Inconsistent("hidden_groups", "more than the room's groups")
    yield from _note_problems(export, statements, areas)


def _open_answer_problems(export: BoardExport, statements: set[str]) -> Iterator[Inconsistent]:
    seen: set[tuple[str, int, str, str]] = set()
    for index, score in enumerate(export.open_answers or []):
        key = (score.respondent, score.round, score.kind, score.statement_id)
        if score.statement_id not in statements:
            yield Inconsistent(f"open_answers.{index}.statement_id", f"no statement {score.statement_id!r}")
        if score.round > export.room.round:
            yield Inconsistent(f"open_answers.{index}.round", f"after the room's round {export.room.round}")
        if score.kind == "desired" and not export.room.desired_enabled:
            yield Inconsistent(f"open_answers.{index}.kind", "the room does not ask where people want to be")
        if key in seen:
            yield Inconsistent(f"open_answers.{index}", "a second answer to the same statement, round and kind")
        seen.add(key)


def _figure_problems(export: BoardExport, statements: set[str]) -> Iterator[Inconsistent]:
    """Every figure shown is what its own histogram gives, and the overall index is the
    mean of this round's means: a file cannot carry a figure no room would show."""
    seen: set[tuple[int, str, str]] = set()
    places = [(f"aggregates.{i}", a) for i, a in enumerate(export.aggregates)]
    for g, group in enumerate(export.group_figures):
        places += [(f"group_figures.{g}.aggregates.{i}", a) for i, a in enumerate(group.aggregates)]
    for place, figures in places:
        if figures.statement_id not in statements or figures.round > export.room.round:
            yield Inconsistent(place, "is of a statement or round the room does not have")
            continue
        if figures.kind == "desired" and not export.room.desired_enabled:
            yield Inconsistent(f"{place}.kind", "the room does not ask where people want to be")
        if place.startswith("aggregates."):
            key = (figures.round, figures.kind, figures.statement_id)
            if key in seen:
                yield Inconsistent(place, "a second set of figures for the same statement, round and kind")
            seen.add(key)
        yield from _self_consistency(place, figures)
    means = [
        a.mean for a in export.aggregates if a.round == export.room.round and a.kind == "today" and a.mean is not None
    ]
    overall = sum(means) / len(means) if means else None
    if not _same(export.overall, overall):
        yield Inconsistent("overall", f"{export.overall}, but this round's means give {overall}")


def _self_consistency(place: str, figures: ExportedAggregate) -> Iterator[Inconsistent]:
    if figures.withheld is not None:
        if figures.n or figures.unknown or any(figures.histogram) or figures.mean is not None:
            yield Inconsistent(place, "figures held back carry only how many answers they hold")
        return
    if min(figures.histogram) < 0 or figures.unknown < 0:
        yield Inconsistent(f"{place}.histogram", "a count below zero")
        return
    expected = Aggregate()
    for value, count in enumerate(figures.histogram, start=1):
        for _ in range(count):
            expected.add(value)
    for name in ("n", "mean", "median", "sd"):
        if not _same(getattr(figures, name), getattr(expected, name)):
            yield Inconsistent(
                f"{place}.{name}", f"{getattr(figures, name)}, but the histogram gives {getattr(expected, name)}"
            )
    if figures.insight is not None and figures.insight != classify(figures.histogram):
        yield Inconsistent(
            f"{place}.insight", f"{figures.insight!r}, but the histogram gives {classify(figures.histogram)!r}"
        )


def _restored_problems(export: BoardExport, restored: Sequence[Respondent]) -> Iterator[Inconsistent]:
    """The figures must be those of the answers the import restores (or say how many
    answers they hold back), the groups' too when the answers carry groups."""
    if export.respondents != len(restored):
        yield Inconsistent("respondents", f"{export.respondents}, but the answers are of {len(restored)}")
    # As the figures count the answers: the room's and the groups' each as last released (a
    # change not yet released is in neither, docs/insight.md). `in_groups` is the whole room
    # as the groups' figures count it, which decides which groups the rule shows.
    room: dict[Quantity, Aggregate] = {}
    in_groups: dict[Quantity, Aggregate] = {}
    of_group: dict[tuple[Quantity, str], Aggregate] = {}
    voters = 0
    for person in restored:
        if any(a.round == export.room.round and a.kind == "today" for a in person.answers):
            # voters counts who answered, released or not: a count, never a figure
            voters += 1
        if len({(a.round, a.kind, a.statement_id) for a in person.answers}) != len(person.answers):
            yield Inconsistent("answers_sealed", "a second answer to the same statement, round and kind")
        for answer in person.answers:
            quantity: Quantity = (answer.round, answer.kind, answer.statement_id)
            if answer.counted is not None:
                room.setdefault(quantity, Aggregate()).add(answer.counted)
            if answer.grouped is not None:
                in_groups.setdefault(quantity, Aggregate()).add(answer.grouped)
                if person.group is not None:
                    of_group.setdefault((quantity, person.group), Aggregate()).add(answer.grouped)
    if export.voters != voters:
        yield Inconsistent("voters", f"{export.voters}, but {voters} answered this round")
    # What the k rule shows of these answers: the file must say exactly that, so that
    # whether an import is accepted never depends on a value the rule holds back (else the
    # import would be an oracle for it, even to the facilitator who proved the room).
    k = export.room.group_min_size
    group_ids = [group.id for group in export.room.groups]
    grouped = any(person.group is not None for person in restored)
    shown: dict[Quantity, set[str | None]] = {}
    for quantity, room_figures in room.items():
        parts = {g: of_group.get((quantity, g)) for g in group_ids} if grouped else {}
        groups_shown = shown_groups(in_groups.get(quantity), parts, k)
        shown[quantity] = ({None} if room_figures.n >= k else set()) | set(groups_shown)
    places: list[tuple[str, ExportedAggregate, str | None]] = [
        (f"aggregates.{i}", a, None) for i, a in enumerate(export.aggregates)
    ]
    if grouped:
        for g, group_figures in enumerate(export.group_figures):
            if not any(group_figures.group_id in groups for groups in shown.values()):
                yield Inconsistent(f"group_figures.{g}", "the k rule shows nothing of this group")
                continue
            places += [
                (f"group_figures.{g}.aggregates.{i}", a, group_figures.group_id)
                for i, a in enumerate(group_figures.aggregates)
            ]
    covered: set[Quantity] = set()
    for place, figures, group_id in places:
        quantity = (figures.round, figures.kind, figures.statement_id)
        if group_id is None:
            covered.add(quantity)
        found = room.get(quantity) if group_id is None else of_group.get((quantity, group_id))
        actual = found or Aggregate()
        answers = actual.n + actual.unknown
        # A version-2 file holds its answers readable, and its figures were decided by the
        # older rule: there is nothing to guess, so only agreement with the answers counts.
        verdict = export.open_answers is None
        if figures.withheld is not None and (not verdict or group_id not in shown.get(quantity, set())):
            if figures.withheld != answers:
                yield Inconsistent(f"{place}.withheld", f"{figures.withheld}, but the answers hold {answers}")
        elif figures.withheld is not None:
            yield Inconsistent(f"{place}.withheld", "the k rule shows these figures")
        elif verdict and answers and group_id not in shown.get(quantity, set()):
            yield Inconsistent(place, "the k rule holds these figures back")
        elif (figures.n, figures.unknown, figures.histogram) != (actual.n, actual.unknown, actual.histogram):
            yield Inconsistent(place, "does not match the answers")
    for (round_number, kind, statement_id), room_figures in room.items():
        if (round_number, kind, statement_id) not in covered and room_figures.n + room_figures.unknown:
            yield Inconsistent("aggregates", f"no figures for round {round_number}, {kind}, statement {statement_id}")


def _same(given: float | None, expected: float | None) -> bool:
    if given is None or expected is None:
        return given is expected
    return math.isclose(given, expected, rel_tol=1e-9, abs_tol=1e-9)


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
