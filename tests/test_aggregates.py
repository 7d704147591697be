"""The incremental score aggregates agree with a from-scratch recomputation.

Pure unit tests: the spectrum everyone sees is built from `Aggregate`, which never rescans
the scores, so after any sequence of grades, changed grades and cleared grades its figures
must equal what `statistics` computes over the scores that are left.
"""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.aggregates import BUCKETS, SCALE_MAX, SCALE_MIN, Aggregate

scores = st.integers(min_value=SCALE_MIN, max_value=SCALE_MAX)
# ("add", score) grades; ("remove", k) clears the k-th (modulo) score still present.
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), scores),
        st.tuples(st.just("remove"), st.integers(min_value=0, max_value=10_000)),
    ),
    max_size=300,
)


def aggregate_of(values: list[int]) -> Aggregate:
    aggregate = Aggregate()
    for value in values:
        aggregate.add(value)
    return aggregate


def assert_matches_recomputation(aggregate: Aggregate, values: list[int]) -> None:
    counts = Counter(values)
    assert aggregate.histogram == [counts[v] for v in range(SCALE_MIN, SCALE_MAX + 1)]
    assert aggregate.n == len(values)
    if not values:
        assert aggregate.mean is None
        assert aggregate.median is None
        assert aggregate.sd is None
        return
    assert aggregate.mean == pytest.approx(statistics.fmean(values))
    assert aggregate.median == pytest.approx(statistics.median(values))
    assert aggregate.sd == pytest.approx(statistics.pstdev(values), rel=1e-9, abs=1e-9)


@given(operations)
def test_incremental_figures_equal_a_recomputation_after_every_change(
    ops: list[tuple[str, int]],
) -> None:
    aggregate = Aggregate()
    present: list[int] = []
    for op, argument in ops:
        if op == "add":
            aggregate.add(argument)
            present.append(argument)
        elif present:
            value = present.pop(argument % len(present))
            aggregate.remove(value)
        assert_matches_recomputation(aggregate, present)


@given(st.lists(scores, max_size=100))
def test_removing_every_score_again_leaves_an_empty_aggregate(values: list[int]) -> None:
    aggregate = aggregate_of(values)
    for value in reversed(values):
        aggregate.remove(value)
    assert aggregate == Aggregate()
    assert_matches_recomputation(aggregate, [])


@given(st.lists(scores, min_size=1, max_size=100))
def test_sd_of_identical_scores_is_exactly_zero(values: list[int]) -> None:
    aggregate = aggregate_of([values[0]] * len(values))
    assert aggregate.sd == 0.0


def test_an_empty_aggregate_has_no_mean_median_or_sd() -> None:
    aggregate = Aggregate()
    assert aggregate.n == 0
    assert aggregate.histogram == [0] * BUCKETS
    assert (aggregate.mean, aggregate.median, aggregate.sd) == (None, None, None)


@pytest.mark.parametrize(
    ("values", "median"),
    [
        ([7], 7),
        ([1, 10], 5.5),
        ([3, 1, 2], 2),
        ([2, 2, 9, 9], 5.5),
        ([2, 2, 9], 2),
        ([1, 1, 1, 10], 1),
        ([10, 10, 1, 1, 1, 10], 5.5),
        ([4, 5, 6, 7], 5.5),
        ([1, 2, 3, 4, 10], 3),
    ],
)
def test_median_of_odd_and_even_groups(values: list[int], median: float) -> None:
    assert aggregate_of(values).median == median


def test_sd_is_the_population_sd_of_the_group() -> None:
    # Two people at the poles: the group disagrees by 4.5 on either side of the mean.
    aggregate = aggregate_of([1, 10])
    assert aggregate.mean == 5.5
    assert aggregate.sd == pytest.approx(4.5)


def test_dont_know_is_counted_apart_from_every_figure() -> None:
    from app.aggregates import UNKNOWN

    aggregate = Aggregate()
    for value in (UNKNOWN, 3, UNKNOWN, 9):
        aggregate.add(value)
    assert aggregate.unknown == 2 and aggregate.n == 2
    assert aggregate.mean == 6 and aggregate.median == 6
    aggregate.remove(UNKNOWN)
    assert aggregate.unknown == 1 and aggregate.histogram[2] == 1 and aggregate.histogram[8] == 1
