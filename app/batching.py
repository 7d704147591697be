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
    def __init__(self, handle: Handler[Item, Result], max_batch: int) -> None:
        self._handle = handle
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Queue the item and wait for its batch's result (or its exception)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                try:
                    results = await self._handle([item for item, _ in batch])
                except Exception as error:  # the whole batch failed: each waiter learns why
                    results = [error] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its waiter gave up (the client went away)
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                batch = []
        finally:
            self._runner = None
            # Cancelled mid-batch (the room is stopping): nobody may wait for ever.
            for _, future in [*batch, *self._waiting]:
                if not future.done():
                    future.cancel()
            self._waiting.clear()
