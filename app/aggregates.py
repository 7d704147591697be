"""Incremental score aggregates: O(1) per change, never a rescan.

A histogram of the ten values plus n, sum and sum of squares is all that is kept; mean and
standard deviation follow from the sums, the median from walking ten histogram buckets.
Pure: no I/O, no asyncio. Must not import the rest of the app.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

SCALE_MIN = 1
SCALE_MAX = 10
BUCKETS = SCALE_MAX - SCALE_MIN + 1
# "Don't know" is an answer of its own: counted, never part of n, mean, median or spread.
# Stored as 0 (the store's value column is an integer); "unknown" on the wire.
UNKNOWN = 0


class AggregateKey(NamedTuple):
    """What one aggregate counts. `group=None` is the whole room. Rounds, the "desired"
    kind and per-group views are separate keys, so adding them adds keys, not code paths."""

    round: int
    kind: str
    statement_id: str
    group: str | None = None


@dataclass(slots=True)
class Aggregate:
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    unknown: int = 0
    n: int = 0
    total: int = 0
    total_squares: int = 0

    def add(self, value: int) -> None:
        if value == UNKNOWN:
            self.unknown += 1
            return
        self.histogram[value - SCALE_MIN] += 1
        self.n += 1
        self.total += value
        self.total_squares += value * value

    def copy(self) -> Aggregate:
        """A snapshot that later changes of this one leave as it is (its own histogram)."""
        return Aggregate(list(self.histogram), self.unknown, self.n, self.total, self.total_squares)

    def remove(self, value: int) -> None:
        if value == UNKNOWN:
            self.unknown -= 1
            return
        self.histogram[value - SCALE_MIN] -= 1
        self.n -= 1
        self.total -= value
        self.total_squares -= value * value

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def sd(self) -> float | None:
        """Population standard deviation: it describes this group, it estimates nothing."""
        if not self.n:
            return None
        variance = self.total_squares / self.n - (self.total / self.n) ** 2
        return math.sqrt(max(variance, 0.0))

    @property
    def median(self) -> float | None:
        if not self.n:
            return None
        lower = self._value_at_rank((self.n - 1) // 2)
        upper = self._value_at_rank(self.n // 2)
        return (lower + upper) / 2

    def _value_at_rank(self, rank: int) -> int:
        """The value of the rank-th smallest score (0-based), walking ten buckets."""
        seen = 0
        for offset, count in enumerate(self.histogram):
            seen += count
            if rank < seen:
                return offset + SCALE_MIN
        raise ValueError("rank beyond n")  # pragma: no cover - n and histogram agree
