"""Group commit: what arrives while one batch is being stored waits for the next batch.

Why: a conference room fills in a burst (hundreds scan the QR code within seconds), and one
transaction per newcomer made the joins queue behind each other's commits (2,000 joins took
53 s). Batched, a burst costs one transaction per batch, and a lone request still goes at
once: the first item starts a batch without waiting. Pure asyncio; knows nothing of rooms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Each batch's handler returns one result per item, in order, or the exception for that item.
Handler = Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]]


class GroupCommit(Generic[Item, Result]):
    """When a batch may start, the first item's own task handles it (no task to start:
    under load starting one costs a turn of the event loop, 5-20 ms). What arrives while
    `concurrency` batches are in flight waits, and is handled by runner tasks, batch after
    batch, until nothing waits.

    `concurrency` above 1 lets a batch start while earlier ones are still finishing: for a
    handler whose batches keep their order by themselves (one ordered writer queue) and that
    only needs to wait for the slow tail of its own work, so that waiting for the previous
    batch's tail does not add to every item's latency."""

    def __init__(self, handle: Handler[Item, Result], max_batch: int, concurrency: int = 1) -> None:
        self._handle = handle
        self._max_batch = max_batch
        self._concurrency = concurrency
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._running = 0
        self._runners: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Queue the item and wait for its batch's result (or its exception)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._running < self._concurrency:
            self._running += 1
            try:
                await self._one_batch()
            finally:
                self._running -= 1
                self._start_runners()
        return await future

    def _start_runners(self) -> None:
        while self._waiting and self._running < self._concurrency:
            self._running += 1
            runner = asyncio.get_running_loop().create_task(self._run())
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)

    async def _run(self) -> None:
        try:
            await self._one_batch()
        except asyncio.CancelledError:  # the room is stopping: nobody waits for ever
            self._running -= 1
            for _, future in self._waiting:
                future.cancel()
            self._waiting.clear()
            raise
        self._running -= 1
        self._start_runners()

    async def _one_batch(self) -> None:
        batch = self._waiting[: self._max_batch]
        del self._waiting[: self._max_batch]
        if not batch:
            return
        try:
            results = await self._handle([item for item, _ in batch])
        except Exception as error:  # the whole batch failed: each waiter learns why
            results = [error] * len(batch)
        except BaseException:
            for _, future in batch:  # cancelled mid-batch: nobody may wait for ever
                if not future.done():
                    future.cancel()
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its waiter gave up (the client went away)
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
