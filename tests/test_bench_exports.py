"""The export benchmark's generated board is one the app accepts, with honest aggregates."""

from __future__ import annotations

from app.snapshot import BoardExport
from bench.exports import make_export


def test_the_generated_board_is_a_valid_export_whose_aggregates_match_its_scores() -> None:
    document = BoardExport.model_validate(make_export(participants=40, notes=25))
    assert len(document.notes) == 25
    for aggregate in document.aggregates:
        answers = [score.value for score in document.scores if score.statement_id == aggregate.statement_id]
        values = [value for value in answers if value != "unknown"]
        assert aggregate.n + aggregate.unknown == 40
        assert aggregate.n == len(values)
        assert aggregate.histogram == [values.count(v) for v in range(1, 11)]
