"""A room's slider moves on their way to the store: batched, written every flush period.

Scores are hot: sliders move many times a second, and a transaction per move would keep
SQLite's write lock (and the GIL) busy. A change is kept here until the next batch, which
writes the latest value of each (participant, round, kind, statement) in one transaction,
through the writer's queue (app/writer.py), so it never overtakes a commit before it. After
a batch the next one waits a whole period, so the write lock is free between batches. A
crash can lose the moves of the last period (docs/architecture.md). Knows nothing of boards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.store import ScoreRow
from app.writer import StoreWriter

log = logging.getLogger(__name__)


class ScoreBatches:
    def __init__(self, room_id: str, writer: StoreWriter, flush_seconds: float) -> None:
        self._room_id = room_id
        self._writer = writer
        self._flush_seconds = flush_seconds
        # (participant, round, kind, statement) -> value, or None for cleared. A plain tuple of
        # strings and ints on purpose: the collector stops tracking it at once. Thousands of
        # tracked keys a second, each alive until its batch is written, were promoted to the
        # oldest generation and set off its full passes (docs/performance.md).
        self._pending: dict[ScoreRow, int | None] = {}
        self._seq = 0  # the seq of the last change pending
        self._flush_handle: asyncio.TimerHandle | None = None
        self._flush_task: asyncio.Task[None] | None = None

    def add(self, row: ScoreRow, value: int | None, seq: int) -> None:
        """Keep the change for the next batch (the latest value per key wins)."""
        self._pending[row] = value
        self._seq = seq
        if self._flush_handle is None and self._flush_task is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._flush_seconds, self._start_flush)

    def _start_flush(self) -> None:
        self._flush_handle = None
        self._flush_task = asyncio.get_running_loop().create_task(self.flush())

    async def flush(self) -> None:
        """Write one batch, then wait a flush period before the next; on failure the batch
        is kept and retried."""
        try:
            await self._write_batch()
        except Exception:  # noqa: S110 - logged in _write_batch; the batch is kept for the next period
            pass
        finally:
            self._flush_task = None
        if self._pending and self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._flush_seconds, self._start_flush)

    async def _write_batch(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        try:
            await self._writer.run(self._writer.store.flush_scores, self._room_id, batch, self._seq)
        except Exception:
            log.exception("flushing scores for room %s failed; retrying", self._room_id)
            for key, value in batch.items():
                self._pending.setdefault(key, value)  # a newer change made meanwhile wins
            raise

    async def drain(self) -> None:
        """Store everything pending (before unloading the room or stopping the server)."""
        self.stop()
        if self._flush_task is not None:
            with contextlib.suppress(Exception):
                await self._flush_task
        for _attempt in range(3):
            try:
                await self._write_batch()
            except Exception:
                await asyncio.sleep(self._flush_seconds)
            if not self._pending:
                return

    def discard(self) -> None:
        """The room is deleted: nothing pending is worth storing."""
        self._pending.clear()
        self.stop()

    def stop(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
