"""Every export ever written imports: a chain of upgraders, one small function per step.

A file of version N is raised to N+1, N+2, ... up to `SCHEMA_VERSION` before the
current model reads it, so the model only ever knows the current shape and each change of
shape is one function here with its reason. An upgrader works on the parsed JSON as it
is: it changes only what its step changed and leaves anything it does not recognise for
the model to refuse with a field name.

Version 1 tied names to answers and is not read. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Document = dict[str, Any]
OLDEST_READ = 2


class UnsupportedVersion(Exception):
    def __init__(self, version: object) -> None:
        super().__init__(
            f"schema_version {version!r} is not supported; this server reads {OLDEST_READ} to {SCHEMA_VERSION}."
        )


def _from_2(document: Document) -> Document:
    """Version 3 keeps answer-level data only sealed for its room (issue 22: answers beside
    group figures let a reader work out who was in which group). A version-2 file holds
    its answers readable, with each group sealed without any proof of who ran the room, so
    it is read under the new rule: the answers stay (the file shows them to anyone anyway)
    without their groups, and the groups' figures go."""
    upgraded = dict(document)
    respondents = upgraded.pop("respondents", None)
    upgraded["respondents"] = len(respondents) if isinstance(respondents, list) else respondents
    upgraded["open_answers"] = upgraded.pop("scores", None)
    upgraded["answers_sealed"] = None
    upgraded["group_figures"] = []
    upgraded["hidden_groups"] = 0
    upgraded["schema_version"] = 3
    return upgraded


def _from_3(document: Document) -> Document:
    """Version 4's room has a dot-vote budget and a note order. A version-3 room had neither:
    no limit on votes, notes as placed, which are the new fields' defaults."""
    upgraded = dict(document)
    if isinstance(room := upgraded.get("room"), dict):
        upgraded["room"] = {"votes_per_person": 0, "note_order": "position", **room}
    upgraded["schema_version"] = 4
    return upgraded


# The step from each version to the next.
UPGRADERS: dict[int, Callable[[Document], Document]] = {2: _from_2, 3: _from_3}
# The version written now: the one the last step leads to. A change of the export's shape
# is one more step here (tests/test_export.py fails until there is one).
SCHEMA_VERSION = max(UPGRADERS) + 1


def upgrade(document: Document) -> Document:
    """The document raised to the current version; UnsupportedVersion if it cannot be."""
    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or not OLDEST_READ <= version <= SCHEMA_VERSION:
        raise UnsupportedVersion(version)
    while version < SCHEMA_VERSION:
        document = UPGRADERS[version](document)
        version = document["schema_version"]
    return document
