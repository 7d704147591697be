"""An owner keeps its room while its lease holds, however slowly renewals are answered.

Why: under a join burst or a storm beyond capacity the owner's event loop can take seconds to
read Redis's replies. Stepping down then sends every relayed client to reconnect at once, so
a slow answer must not count as a lost lease; only a refusal, or no answer before the lease
could have run out, does. Timings are scaled down (a 0.4 s lease renewed every 0.05 s).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from app import cluster
from app.bus.memory import MemoryBus
from app.cluster import RoomHost, lease_key

ROOM = "room-under-test"


class SlowBus(MemoryBus):
    """The in-process bus, with each renewal answered after `delay` seconds (None: never)."""

    def __init__(self, delay: float | None) -> None:
        super().__init__()
        self.delay = delay
        self.renewals = 0

    async def renew(self, key: str, ttl_ms: int) -> bool:
        if self.delay is None:
            await asyncio.Event().wait()
        await asyncio.sleep(self.delay or 0.0)
        self.renewals += 1
        return await super().renew(key, ttl_ms)


@pytest.fixture(autouse=True)
def quick_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "OWNER_LEASE_MS", 400)
    monkeypatch.setattr(cluster, "RENEW_EVERY_SECONDS", 0.05)


async def host_on(bus: SlowBus) -> tuple[RoomHost, asyncio.Event]:
    leased_at = asyncio.get_running_loop().time()
    assert await bus.acquire(lease_key(ROOM), cluster.OWNER_LEASE_MS) == bus.instance_id
    stepped_down = asyncio.Event()

    async def on_lost(host: RoomHost) -> None:
        stepped_down.set()

    room: Any = SimpleNamespace(room_id=ROOM)
    return RoomHost(room, bus, on_lost, leased_at), stepped_down


async def test_renewals_answered_later_than_the_renewal_period_keep_the_room() -> None:
    bus = SlowBus(delay=0.12)  # each answer 2.4 renewal periods late; the lease still holds
    host, stepped_down = await host_on(bus)
    try:
        await asyncio.sleep(1.5)  # several leases' worth of time
        assert not stepped_down.is_set()
        assert bus.renewals >= 3
    finally:
        await host.stop(release=True)


async def test_no_answer_before_the_lease_could_lapse_steps_down() -> None:
    bus = SlowBus(delay=None)
    host, stepped_down = await host_on(bus)
    started = asyncio.get_running_loop().time()
    try:
        async with asyncio.timeout(2.0):
            await stepped_down.wait()
        elapsed = asyncio.get_running_loop().time() - started
        assert 0.3 <= elapsed <= 1.0  # at the lease's end, not at the first slow renewal
    finally:
        await host.stop(release=True)


async def test_a_refused_renewal_steps_down_at_once() -> None:
    bus = SlowBus(delay=0.0)
    host, stepped_down = await host_on(bus)
    try:
        bus._leases[lease_key(ROOM)] = "another-instance"  # someone else holds it now
        async with asyncio.timeout(0.3):
            await stepped_down.wait()
    finally:
        await host.stop(release=True)
