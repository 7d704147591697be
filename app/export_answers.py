"""An export's answers: sealed for the room that gave them, or rebuilt from its figures.

The readable part of an export holds figures and notes only. Answer-level data and the
figures of the groups together let a reader partition the answers (issue 22 found the one
subset of nine respondents that matched a group's histograms in 84 tries), so the answers
travel in one sealed field: each respondent's group and answers, in a fixed-width encoding
whose length says only how many respondents and answers there are (which the figures
already say), in an order drawn afresh for every export. The seal is bound to the room's
id and to the hash of its facilitator token: an import restores the answers only for
someone who presents that token (`open_answers`), on the deployment that sealed them.
Anyone else gets the whole room's figures back as anonymous answers rebuilt from their
histograms (`answers_from_figures`), which show nothing the file does not.

Pure apart from the randomness of the order: no I/O. Must not import the rest of the app
but the protocol, the aggregates' stored values and the sealer.
"""

from __future__ import annotations

import hmac
import random
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.aggregates import UNKNOWN
from app.protocol import SCORE_KINDS, ScoreKind
from app.sealing import Sealer

ANSWERS_SEAL = "samskapa-export-answers-v1"
NO_GROUP = 0xFF
# A kind is written as its index in this tuple: a new kind must go at its end.
KINDS: tuple[ScoreKind, ...] = SCORE_KINDS
_HEADER = struct.Struct(">B32sHI")  # room id length, token hash, groups, respondents
_RESPONDENT = struct.Struct(">BH")  # group index, answers
# round, statement index, kind index, value (0: don't know), the value the figures show (as
# last released: NOT_RELEASED when they show none of this person's answer yet), and the value
# the groups' figures show (released with them, which can be earlier)
_ANSWER = struct.Struct(">HBBBBB")
NOT_RELEASED = 0xFF
_ROOM_ID_BYTES = 64


@dataclass(frozen=True)
class Answer:
    round: int
    kind: ScoreKind
    statement_id: str
    value: int  # as stored: 1-10, or UNKNOWN
    # What the figures count of this answer: the value as last released (None: not yet
    # counted). The same as `value` but for a change the k rule has not yet released.
    counted: int | None
    # What the groups' figures count of it (their releases can lag the whole room's).
    grouped: int | None


@dataclass(frozen=True)
class Respondent:
    """One person's answers as an import restores them: a group only with the proof."""

    group: str | None
    answers: tuple[Answer, ...]


class NotProven(Exception):
    """The seal opens here, but the token presented is not the exporting room's."""


def seal_answers(
    sealer: Sealer,
    room_id: str,
    facilitator_token_hash: str,
    statement_ids: Sequence[str],
    group_ids: Sequence[str],
    respondents: Iterable[Respondent],
) -> str:
    """The respondents, shuffled and sealed for this room and its facilitator."""
    people = list(respondents)
    random.SystemRandom().shuffle(people)
    statement_index = {statement_id: index for index, statement_id in enumerate(statement_ids)}
    group_index = {group_id: index for index, group_id in enumerate(group_ids)}
    room = room_id.encode().ljust(_ROOM_ID_BYTES, b"\0")
    parts = [_HEADER.pack(len(room_id.encode()), bytes.fromhex(facilitator_token_hash), len(group_ids), len(people))]
    parts.append(room)
    for person in people:
        group = NO_GROUP if person.group is None else group_index[person.group]
        parts.append(_RESPONDENT.pack(group, len(person.answers)))
        for answer in person.answers:
            kind = KINDS.index(answer.kind)
            shown, grouped = answer.counted, answer.grouped
            parts.append(
                _ANSWER.pack(
                    answer.round,
                    statement_index[answer.statement_id],
                    kind,
                    answer.value,
                    NOT_RELEASED if shown is None else shown,
                    NOT_RELEASED if grouped is None else grouped,
                )
            )
    return sealer.seal_bytes(b"".join(parts), ANSWERS_SEAL)


def open_answers(
    sealer: Sealer,
    sealed: str,
    token_hash: str | None,
    statement_ids: Sequence[str],
    group_ids: Sequence[str],
) -> list[Respondent] | None:
    """The respondents, when the seal is this deployment's and `token_hash` is the hash of
    the exporting room's facilitator token; None when the seal is not this deployment's
    (or no token was presented). Raises NotProven for a token that is not the room's, and
    ValueError for a seal whose contents do not fit the file's template and groups."""
    data = sealer.open_bytes(sealed, ANSWERS_SEAL)
    if data is None or token_hash is None:
        return None
    _, sealed_hash, groups, count = _HEADER.unpack_from(data, 0)
    if not hmac.compare_digest(sealed_hash, bytes.fromhex(token_hash)):
        raise NotProven("The token is not the facilitator token of the room this file was exported from.")
    if groups != len(group_ids):
        raise ValueError("the sealed answers name other groups than the file")
    offset = _HEADER.size + _ROOM_ID_BYTES
    people = []
    for _ in range(count):
        group, answers = _RESPONDENT.unpack_from(data, offset)
        offset += _RESPONDENT.size
        given = []
        for _ in range(answers):
            round_number, statement, kind, value, shown, grouped = _ANSWER.unpack_from(data, offset)
            offset += _ANSWER.size
            valid = value == UNKNOWN or 1 <= value <= 10
            valid = valid and all(v in {UNKNOWN, NOT_RELEASED} or 1 <= v <= 10 for v in (shown, grouped))
            if statement >= len(statement_ids) or kind >= len(KINDS) or not valid:
                raise ValueError("a sealed answer does not fit the file's template")
            counted = None if shown == NOT_RELEASED else shown
            in_groups = None if grouped == NOT_RELEASED else grouped
            given.append(Answer(round_number, KINDS[kind], statement_ids[statement], value, counted, in_groups))
        if group != NO_GROUP and group >= len(group_ids):
            raise ValueError("a sealed answer names a group the file does not have")
        people.append(Respondent(None if group == NO_GROUP else group_ids[group], tuple(given)))
    if offset != len(data):
        raise ValueError("the sealed answers have bytes to spare")
    return people


def sealed_room_id(sealer: Sealer, sealed: str) -> str | None:
    """The id of the room whose answers these are, when the seal is this deployment's."""
    data = sealer.open_bytes(sealed, ANSWERS_SEAL)
    if data is None:
        return None
    length = data[0]
    return data[_HEADER.size : _HEADER.size + length].decode()


@dataclass(frozen=True)
class ShownFigures:
    """One quantity's figures as a file shows them: what `answers_from_figures` reads."""

    round: int
    kind: ScoreKind
    statement_id: str
    histogram: Sequence[int]
    unknown: int


def answers_from_figures(figures: Iterable[ShownFigures]) -> list[Respondent]:
    """Anonymous respondents whose answers give exactly the figures shown, and no more.

    Each round gets respondents of its own, so nobody appears to have moved between rounds
    (a shift needs the same person twice, which figures cannot tell); within a round the
    j-th answer of every statement and kind goes to the j-th respondent, which no figure
    of one quantity can tell from any other pairing."""
    by_round: dict[int, dict[tuple[ScoreKind, str], list[int]]] = {}
    for shown in figures:
        values = [value for value, count in enumerate(shown.histogram, start=1) for _ in range(count)]
        values += [UNKNOWN] * shown.unknown
        if values:
            by_round.setdefault(shown.round, {})[(shown.kind, shown.statement_id)] = values
    people = []
    for round_number in sorted(by_round):
        quantities = by_round[round_number]
        for index in range(max(len(values) for values in quantities.values())):
            answers = tuple(
                Answer(round_number, kind, statement_id, values[index], values[index], values[index])
                for (kind, statement_id), values in quantities.items()
                if index < len(values)
            )
            people.append(Respondent(None, answers))
    return people
