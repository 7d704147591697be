"""Group commit (app/batching.py): bursts share a batch, a lone item goes at once, and every
waiter hears its own outcome. Batches are released by the test, never by sleeping."""

from __future__ import annotations

import asyncio

import pytest

from app.batching import GroupCommit


class Store:
    """A handler whose batches finish only when the test says so."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def handle(self, items: list[str]) -> list[str | BaseException]:
        self.batches.append(items)
        self.started.set()
        await self.release.wait()
        self.release.clear()
        return [ValueError(item) if item.startswith("bad") else item.upper() for item in items]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_item_is_handled_at_once_and_a_burst_waits_for_the_next_batch() -> None:
    store = Store()
    commit: GroupCommit[str, str] = GroupCommit(store.handle, max_batch=100)
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.wait_for(store.started.wait(), 1)
    burst = [asyncio.create_task(commit.submit(name)) for name in ("b", "c", "d")]
    await settle()
    assert store.batches == [["a"]]  # the burst waits while "a" is being stored
    store.release.set()
    assert await asyncio.wait_for(first, 1) == "A"
    await settle()
    assert store.batches == [["a"], ["b", "c", "d"]]
    store.release.set()
    assert await asyncio.wait_for(asyncio.gather(*burst), 1) == ["B", "C", "D"]


async def test_batches_are_capped() -> None:
    store = Store()
    commit: GroupCommit[str, str] = GroupCommit(store.handle, max_batch=2)
    store.release.set()
    tasks = [asyncio.create_task(commit.submit(str(i))) for i in range(5)]
    for _ in range(3):
        await settle()
        store.release.set()
    assert await asyncio.wait_for(asyncio.gather(*tasks), 1) == ["0", "1", "2", "3", "4"]
    assert [len(batch) for batch in store.batches] == [2, 2, 1]


async def test_an_item_refused_alone_fails_alone() -> None:
    store = Store()
    commit: GroupCommit[str, str] = GroupCommit(store.handle, max_batch=10)
    tasks = [asyncio.create_task(commit.submit(name)) for name in ("x", "bad-y", "z")]
    await settle()
    store.release.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 1)
    assert results[0] == "X" and results[2] == "Z"
    assert isinstance(results[1], ValueError)


async def test_a_failed_batch_reaches_every_waiter_and_the_next_batch_still_runs() -> None:
    calls = 0

    async def flaky(items: list[str]) -> list[str | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database gone")
        return items

    commit: GroupCommit[str, str] = GroupCommit(flaky, max_batch=10)
    tasks = [asyncio.create_task(commit.submit(name)) for name in ("a", "b")]
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 1)
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await asyncio.wait_for(commit.submit("c"), 1) == "c"


async def test_stopping_mid_batch_leaves_nobody_waiting() -> None:
    store = Store()
    commit: GroupCommit[str, str] = GroupCommit(store.handle, max_batch=1)
    tasks = [asyncio.create_task(commit.submit(name)) for name in ("a", "b")]
    await asyncio.wait_for(store.started.wait(), 1)
    runner = commit._runner
    assert runner is not None
    runner.cancel()
    for task in tasks:
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 1)
