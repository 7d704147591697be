"""Where the group disagrees: a plain-language label for one statement's distribution.

Pure: a function of the ten histogram buckets, nothing else (O(10) per statement, so it is
computed with each spectrum tick, never from the raw scores). The rule and its thresholds
are documented with examples in docs/insight.md; tests/test_insight.py holds the edge cases.
"""

from __future__ import annotations

import math
from typing import Literal

Insight = Literal["too_few", "agreement", "spread", "two_camps"]

MIN_ANSWERS = 3
# Population sd below which the group broadly agrees (on a 1-10 scale, 0 = all alike).
AGREEMENT_MAX_SD = 2.0
# Two camps: two clusters, each holding at least this share of the answers (and 2 answers),
MIN_CAMP_SHARE = 0.25
# separated by a valley at least this many values wide that holds at most VALLEY_SHARE,
MIN_VALLEY_WIDTH = 2
VALLEY_SHARE = 0.10
# and whose means lie at least this far apart.
MIN_CAMP_DISTANCE = 4.0


def classify(histogram: list[int]) -> Insight:
    n = sum(histogram)
    if n < MIN_ANSWERS:
        return "too_few"
    if camps(histogram) is not None:
        return "two_camps"
    return "agreement" if _sd(histogram) < AGREEMENT_MAX_SD else "spread"


def camps(histogram: list[int]) -> tuple[float, float] | None:
    """The two camps' means if the answers form two separated clusters, else None."""
    n = sum(histogram)
    allowed_in_valley = math.floor(VALLEY_SHARE * n)
    min_camp = max(2, math.ceil(MIN_CAMP_SHARE * n))
    best: tuple[float, float] | None = None
    for start in range(1, len(histogram) - 1):  # the valley never includes the ends
        for end in range(start + MIN_VALLEY_WIDTH - 1, len(histogram) - 1):
            if sum(histogram[start : end + 1]) > allowed_in_valley:
                break
            left, right = histogram[:start], histogram[end + 1 :]
            if sum(left) < min_camp or sum(right) < min_camp:
                continue
            left_mean = _mean(left, offset=1)
            right_mean = _mean(right, offset=end + 2)
            if right_mean - left_mean >= MIN_CAMP_DISTANCE and (
                best is None or right_mean - left_mean > best[1] - best[0]
            ):
                best = (left_mean, right_mean)
    return best


def disagreement(histogram: list[int]) -> float:
    """A sort key, larger = more to talk about: two camps first, then by spread."""
    kind = classify(histogram)
    if kind == "too_few":
        return -1.0
    found = camps(histogram)
    if found is not None:
        return 10.0 + (found[1] - found[0])
    return _sd(histogram)


def _mean(buckets: list[int], offset: int) -> float:
    total = sum(buckets)
    return sum((index + offset) * count for index, count in enumerate(buckets)) / total


def _sd(histogram: list[int]) -> float:
    n = sum(histogram)
    mean = _mean(histogram, offset=1)
    variance = sum(count * (index + 1 - mean) ** 2 for index, count in enumerate(histogram)) / n
    return math.sqrt(variance)
