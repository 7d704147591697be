"""The export benchmark's generated board is an export the app accepts, whose figures are
those of the answers the benchmark gave (worked out here from those answers), and whose
seal holds exactly those answers for the facilitator who proves the room; and the
benchmark runs end to end against a real server, restoring every answer."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from app.export_answers import NotProven, open_answers
from app.export_versions import SCHEMA_VERSION
from app.sealing import Sealer, new_key
from app.snapshot import BoardExport
from app.templates import builtin_templates
from app.tokens import hash_token
from bench import exports

PARTICIPANTS = 40
TOKEN = "the-facilitator-token-of-the-benchmark-room"


def test_the_generated_board_is_a_valid_export_whose_figures_match_its_answers() -> None:
    sealer = Sealer(new_key())
    generated = exports.make_export(participants=PARTICIPANTS, notes=25, sealer=sealer, facilitator_token=TOKEN)
    document = BoardExport.model_validate(generated.document)
    statement_ids = builtin_templates()["tjanstelogik"].statement_ids()
    assert document.schema_version == SCHEMA_VERSION and document.open_answers is None
    assert (document.participants, document.respondents, document.voters) == (PARTICIPANTS,) * 3
    assert len(document.notes) == 25 and sum(note.votes for note in document.notes) > 0
    # Every participant graded every statement, about one in twenty "don't know".
    assert len(generated.answers) == PARTICIPANTS * len(statement_ids)
    unknown = sum(answer == "unknown" for answer in generated.answers.values())
    assert 0 < unknown < len(generated.answers) // 5
    # The figures, one set per statement (round 1, today), are those of the answers given.
    assert sorted(a.statement_id for a in document.aggregates) == sorted(statement_ids)
    means = []
    for aggregate in document.aggregates:
        answers = [answer for (_, sid), answer in generated.answers.items() if sid == aggregate.statement_id]
        grades = [answer for answer in answers if isinstance(answer, int)]
        assert (aggregate.round, aggregate.kind, aggregate.withheld) == (1, "today", None)
        assert (aggregate.n, aggregate.unknown) == (len(grades), len(answers) - len(grades))
        assert aggregate.histogram == [grades.count(value) for value in range(1, 11)]
        assert aggregate.mean == pytest.approx(statistics.fmean(grades))
        assert aggregate.median == pytest.approx(statistics.median(grades))
        assert aggregate.sd == pytest.approx(statistics.pstdev(grades))
        means.append(statistics.fmean(grades))
    assert document.overall == pytest.approx(statistics.fmean(means))
    # The seal holds each participant's answers, as the figures count them, and opens only
    # for the room's facilitator token.
    assert document.answers_sealed is not None
    opened = open_answers(sealer, document.answers_sealed, hash_token(TOKEN), statement_ids, [])
    assert opened is not None and all(person.group is None for person in opened)
    stored = {"unknown": 0} | {value: value for value in range(1, 11)}  # how a store keeps an answer
    given: dict[str, list[tuple[str, int]]] = {}
    for (participant_id, statement_id), answer in generated.answers.items():
        given.setdefault(participant_id, []).append((statement_id, stored[answer]))
    assert Counter(tuple(sorted(answers)) for answers in given.values()) == Counter(
        tuple(sorted((a.statement_id, a.value) for a in person.answers)) for person in opened
    )
    assert all((a.round, a.kind, a.counted) == (1, "today", a.value) for person in opened for a in person.answers)
    with pytest.raises(NotProven):
        open_answers(sealer, document.answers_sealed, hash_token("another token"), statement_ids, [])


def test_the_benchmark_imports_its_board_with_every_answer_and_exports_it() -> None:
    """A tiny run against a real `samskapa serve`: `run` refuses an import that restored
    less than every answer, so this proves the timed import is the facilitator's own."""
    figures = exports.run(participants=30, notes=20, repeat=1)
    assert sorted(figures) == ["export csv", "export html", "export json", "export md", "import"]
    assert all(row["worst"] > 0 for row in figures.values())
