"""Per-client-address rate limits for the HTTP endpoints that must not be guessable."""

from __future__ import annotations

import time
from collections import deque


class SlidingWindowLimiter:
    """At most `limit` hits per `window_seconds` per key. Memory is bounded: keys whose hits
    have all expired are dropped on a periodic sweep."""

    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._last_sweep = time.monotonic()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        if now - self._last_sweep > self.window or len(self._hits) > self.max_keys:
            self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def retry_after(self, key: str) -> int:
        hits = self._hits.get(key)
        if not hits:
            return 0
        return max(1, int(self.window - (time.monotonic() - hits[0])) + 1)

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for key in [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.window]:
            del self._hits[key]
