"""An owner keeps its rooms' leases while its event loop lags, and loses them when it should.

Why: under a storm beyond capacity the owner's loop runs seconds behind. If that let the
lease run out, another instance would take the room and every client would reconnect at
once. The leases are renewed by a thread (app/bus/keeper.py) against real Redis here; the
loop's lag is a real blocking sleep. Under CI=true nothing here skips.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis

from app.bus import keeper as keeper_module
from app.bus import redis as redis_bus_module
from app.bus.redis import RedisBus
from tests.test_cluster import REDIS_URL, require_redis

TTL_MS = 1000  # the app's lease is 5 s renewed every 1.5 s; scaled down by five


@pytest.fixture
async def bus(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RedisBus]:
    require_redis()
    monkeypatch.setattr(redis_bus_module, "LEASE_RENEW_SECONDS", 0.3)
    monkeypatch.setattr(redis_bus_module, "LOOP_STALL_SECONDS", 3.0)
    monkeypatch.setattr(keeper_module, "HEARTBEAT_SECONDS", 0.1)
    started = RedisBus(REDIS_URL)
    await started.start()
    yield started
    await started.stop()


def stall_the_loop(seconds: float) -> None:
    """Block the event loop on purpose, as a loop far behind under load does."""
    time.sleep(seconds)


def fresh_key() -> str:
    return f"samskapa:test:lease:{time.monotonic_ns()}"


def holder_of(key: str) -> str | None:
    with redis.Redis.from_url(REDIS_URL, decode_responses=True) as direct:
        value = direct.get(key)
    return None if value is None else str(value)


async def take(bus: RedisBus, key: str) -> tuple[asyncio.Event, float]:
    taken_at = time.monotonic()
    assert await bus.acquire(key, TTL_MS) == bus.instance_id
    return asyncio.Event(), taken_at


async def test_a_lagging_event_loop_keeps_its_lease(bus: RedisBus) -> None:
    key = fresh_key()
    lost, taken_at = await take(bus, key)
    forget = bus.keep(key, TTL_MS, taken_at, lost.set)
    stall_the_loop(2.5)  # the loop stands still for two and a half leases
    assert holder_of(key) == bus.instance_id
    await asyncio.sleep(0.2)
    assert not lost.is_set()
    forget()
    await bus.release(key)


async def test_a_lease_taken_by_another_instance_is_reported_lost(bus: RedisBus) -> None:
    key = fresh_key()
    lost, taken_at = await take(bus, key)
    bus.keep(key, TTL_MS, taken_at, lost.set)
    with redis.Redis.from_url(REDIS_URL) as direct:
        direct.set(key, "another-instance", px=TTL_MS)
    async with asyncio.timeout(2.0):
        await lost.wait()
    assert holder_of(key) == "another-instance"


async def test_a_loop_stalled_beyond_the_limit_lets_its_leases_go(bus: RedisBus) -> None:
    key = fresh_key()
    lost, taken_at = await take(bus, key)
    bus.keep(key, TTL_MS, taken_at, lost.set)
    stall_the_loop(3.0 + TTL_MS / 1000 + 0.8)  # past the stall limit, then past the last lease
    assert holder_of(key) is None  # nobody renewed it: another instance may take the room
    async with asyncio.timeout(2.0):
        await lost.wait()  # and the owner steps down once its loop turns again


async def test_a_forgotten_lease_is_no_longer_renewed(bus: RedisBus) -> None:
    key = fresh_key()
    lost, taken_at = await take(bus, key)
    forget = bus.keep(key, TTL_MS, taken_at, lost.set)
    forget()
    await asyncio.sleep(TTL_MS / 1000 + 0.5)
    assert holder_of(key) is None
    assert not lost.is_set()
