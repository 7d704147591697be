"""The Bus seam: named channels of text messages between app instances, and leases.

Rooms never talk to it directly. app/cluster.py uses channels to relay a follower
instance's sockets to the instance that owns a room, and leases to decide which instance
owns it. The in-process bus (one instance) grants every lease; the Redis bus shares them.
Nothing outside app/bus knows which implementation runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Subscriber = Callable[[str], None]
Unsubscribe = Callable[[], None]


class Bus(Protocol):
    instance_id: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    @property
    def connected(self) -> bool:
        """False while the backend is unreachable; leases held then may already be lost."""
        ...

    def on_connection_change(self, listener: Callable[[bool], None]) -> None:
        """Be told when the backend is lost (False) and when it is back (True)."""

    def publish(self, channel: str, message: str) -> None:
        """Queue a message without waiting; messages from one instance keep their order."""

    def subscribe(self, channel: str, subscriber: Subscriber) -> Unsubscribe:
        """Receive the channel's messages in order; returns the call that stops it."""
        ...

    async def acquire(self, key: str, ttl_ms: int) -> str:
        """Take the lease if it is free; returns the holder's instance id either way."""
        ...

    def keep(self, key: str, ttl_ms: int, taken_at: float, on_lost: Callable[[], None]) -> Callable[[], None]:
        """Keep renewing our lease (taken at monotonic time `taken_at`) until the returned
        call; `on_lost` runs on the event loop, once, if the lease is refused or may have
        run out."""
        ...

    async def release(self, key: str) -> None:
        """Give the lease up if it is ours."""

    async def holder(self, key: str) -> str | None:
        """Who holds the lease now (None if nobody)."""
        ...
