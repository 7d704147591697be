"""What an import must satisfy beyond its schema: the live room's limits, and what the
database can hold, so that a file cannot make a room the live protocol could never make.

Issue 17: the unauthenticated import took 45,000 notes and 60,000 participants where a live
room stops at 5,000 of each (and every join to that room then cost a 12.7 MB welcome).
Refusals are 422 with a stable code: `limit_reached` for a live limit, `invalid_export` for
what no export of this server contains (a participant in a group the room does not have,
the same answer twice, a number beyond the database's integers).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from app import protocol as p
from app.errors import ApiError, FieldProblem
from app.settings import Settings
from app.snapshot import BoardExport

# Live limits the settings do not hold, as app/protocol.py states them.
MAX_GROUPS = 12
MAX_GROUP_MIN_SIZE = 50
MAX_NAME_LENGTH = 60
# The database's integer columns (round, seq, version) are 32-bit.
MAX_STORED_INT = 2**31 - 1


def check_import(export: BoardExport, settings: Settings) -> None:
    """Raise the first problem as an ApiError; return when the export may become a room."""
    _within(
        (
            ("participants", len(export.participants), settings.max_participants_per_room, "participants"),
            ("notes", len(export.notes), settings.max_notes_per_room, "notes"),
            ("room.groups", len(export.room.groups), MAX_GROUPS, "groups"),
        )
    )
    if export.room.group_min_size > MAX_GROUP_MIN_SIZE:
        _invalid("room.group_min_size", f"k is at most {MAX_GROUP_MIN_SIZE}.")
    numbers = [("room.round", export.room.round), ("room.seq", export.room.seq)]
    numbers += [(f"scores.{i}.round", s.round) for i, s in enumerate(export.scores)]
    numbers += [(f"notes.{i}.version", n.version) for i, n in enumerate(export.notes)]
    for field, value in numbers:
        if value > MAX_STORED_INT:
            _invalid(field, f"{value} is larger than any room gets.")
    groups = {group.id for group in export.room.groups}
    seen: set[str] = set()
    for index, person in enumerate(export.participants):
        if person.id in seen:
            _invalid(f"participants.{index}.id", "Two participants have the same id.")
        seen.add(person.id)
        if person.name is not None and len(person.name) > MAX_NAME_LENGTH:
            _invalid(f"participants.{index}.name", f"A name is at most {MAX_NAME_LENGTH} characters.")
        if person.group is not None and person.group not in groups:
            _invalid(f"participants.{index}.group", "The room has no such group.")
    answered: set[tuple[str, int, p.ScoreKind, str]] = set()
    for index, score in enumerate(export.scores):
        key = (score.participant_id, score.round, score.kind, score.statement_id)
        if key in answered:
            _invalid(f"scores.{index}", "The same participant answers the same statement twice.")
        answered.add(key)


def _within(counts: Iterable[tuple[str, int, int, str]]) -> None:
    for field, count, limit, what in counts:
        if count > limit:
            message = f"The export has {count:,} {what}; a room on this server holds at most {limit:,}."
            raise ApiError(422, "limit_reached", message, [FieldProblem(field=field, message=message)])


def _invalid(field: str, message: str) -> NoReturn:
    problem = FieldProblem(field=field, message=message)
    raise ApiError(422, "invalid_export", f"The export is not valid: {field}: {message}", [problem])
