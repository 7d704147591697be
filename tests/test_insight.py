"""The disagreement label on hand-built distributions, edge cases included."""

from __future__ import annotations

import pytest

from app.insight import camps, classify, disagreement


def grades(*values: int) -> list[int]:
    histogram = [0] * 10
    for value in values:
        histogram[value - 1] += 1
    return histogram


@pytest.mark.parametrize(
    ("values", "label"),
    [
        ((2, 2, 3, 3, 8, 8, 9, 9), "two_camps"),
        ((1, 1, 2, 2, 5, 5, 6, 6), "two_camps"),
        ((3, 3, 3, 7, 7, 7), "two_camps"),
        ((2, 3, 3, 3, 6, 8, 8, 9, 9), "two_camps"),
        ((1, 1, 1, 1, 1, 5, 10, 10, 10, 10, 10), "two_camps"),
        (tuple(range(1, 11)), "spread"),
        ((1, 2, 2, 3, 3, 3, 4, 4, 5, 9), "spread"),
        ((5, 5, 6, 6, 7), "agreement"),
        ((4, 4, 5, 5, 6, 6), "agreement"),
        ((7, 7, 7), "agreement"),
        ((1, 10), "too_few"),
        ((), "too_few"),
    ],
)
def test_labels(values: tuple[int, ...], label: str) -> None:
    assert classify(grades(*values)) == label


def test_camps_need_a_quarter_of_the_answers_each() -> None:
    # One person far away is an outlier, not a camp.
    assert classify(grades(2, 2, 2, 3, 3, 3, 2, 3, 9)) != "two_camps"


def test_camps_need_to_be_far_enough_apart() -> None:
    # A valley of two values, but means only 3 apart: a spread, not two camps.
    assert camps(grades(3, 3, 3, 6, 6, 6)) is None


def test_answers_spread_through_the_middle_leave_no_valley() -> None:
    # Ends are crowded, but single gaps (2, 4, 7, 9) are no valley two values wide.
    assert classify(grades(1, 1, 3, 5, 6, 8, 10, 10, 10)) == "spread"


def test_a_valley_may_hold_a_tenth_of_the_answers() -> None:
    # Twenty answers: the two strays at 4 and 7 may sit in the valley 2-9, so the camps are
    # the nine at 1 and the nine at 10 (the widest split), not the strays' neighbours.
    assert camps(grades(*[1] * 9, 4, 7, *[10] * 9)) == (1.0, 10.0)


def test_the_ends_of_the_scale_are_never_the_valley() -> None:
    assert classify(grades(5, 5, 5, 6, 6, 6)) == "agreement"


def test_ordering_puts_two_camps_first_then_the_widest() -> None:
    statements = {
        "camps": grades(2, 2, 3, 3, 8, 8, 9, 9),
        "spread": grades(*range(1, 11)),
        "agree": grades(5, 5, 6, 6, 7),
        "few": grades(1, 10),
    }
    ordered = sorted(statements, key=lambda name: disagreement(statements[name]), reverse=True)
    assert ordered == ["camps", "spread", "agree", "few"]
