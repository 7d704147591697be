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


async def test_what_waits_behind_a_batch_goes_in_batches_of_at_most_the_cap() -> None:
    store = Store()
    commit: GroupCommit[str, str] = GroupCommit(store.handle, max_batch=2)
    first = asyncio.create_task(commit.submit("0"))
    await asyncio.wait_for(store.started.wait(), 1)
    rest = [asyncio.create_task(commit.submit(str(i))) for i in range(1, 6)]
    await settle()
    for _ in range(4):
        store.release.set()
        await settle()
    assert await asyncio.wait_for(asyncio.gather(first, *rest), 1) == ["0", "1", "2", "3", "4", "5"]
    assert [len(batch) for batch in store.batches] == [1, 2, 2, 1]


async def test_an_item_refused_alone_fails_alone() -> None:
    store = Store()
    commit: GroupCommit[str, str] = GroupCommit(store.handle, max_batch=10)
    first = asyncio.create_task(commit.submit("w"))
    await asyncio.wait_for(store.started.wait(), 1)
    tasks = [asyncio.create_task(commit.submit(name)) for name in ("x", "bad-y", "z")]
    await settle()
    for _ in range(2):
        store.release.set()
        await settle()
    results = await asyncio.wait_for(asyncio.gather(first, *tasks, return_exceptions=True), 1)
    assert store.batches == [["w"], ["x", "bad-y", "z"]]
    assert results[0] == "W" and results[1] == "X" and results[3] == "Z"
    assert isinstance(results[2], ValueError)


async def test_a_failed_batch_reaches_every_waiter_and_the_next_batch_still_runs() -> None:
    calls = 0
    door = asyncio.Event()

    async def flaky(items: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            await door.wait()  # the first batch holds, so the next two go together
            return items
        if calls == 2:
            raise ConnectionError("database gone")
        return items

    commit: GroupCommit[str, str] = GroupCommit(flaky, max_batch=10)
    first = asyncio.create_task(commit.submit("first"))
    await settle()
    tasks = [asyncio.create_task(commit.submit(name)) for name in ("a", "b")]
    await settle()
    door.set()
    assert await asyncio.wait_for(first, 1) == "first"
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 1)
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await asyncio.wait_for(commit.submit("c"), 1) == "c"


async def test_stopping_mid_batch_leaves_nobody_waiting() -> None:
    store = Store()
    commit: GroupCommit[str, str] = GroupCommit(store.handle, max_batch=1)
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.wait_for(store.started.wait(), 1)
    behind = asyncio.create_task(commit.submit("b"))
    await settle()
    first.cancel()  # the first item's own task ends mid-batch: the one behind it is still served
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(first, 1)
    await settle()
    runner = commit._runner
    assert runner is not None and store.batches == [["a"], ["b"]]
    runner.cancel()  # and the runner stopping mid-batch cancels its waiters
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(behind, 1)
