"""The Bus seam: named channels of text messages between app instances, and leases.

Rooms never talk to it directly. app/cluster.py uses channels to relay a follower
instance's sockets to the instance that owns a room, and leases to decide which instance
owns it. The in-process bus (one instance) grants every lease; the Redis bus shares them.
Nothing outside app/bus knows which implementation runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

Subscriber = Callable[[str], None]
Unsubscribe = Callable[[], None]


class Subscribers:
    """This instance's subscribers per channel: the bookkeeping every backend shares, kept
    once here (as encode/broadcaster keeps it in its base); a backend only moves messages."""

    def __init__(self) -> None:
        self._by_channel: dict[str, list[Subscriber]] = {}

    def add(self, channel: str, subscriber: Subscriber) -> bool:
        """Add one; True if it is the channel's first (the backend then subscribes)."""
        subscribers = self._by_channel.setdefault(channel, [])
        subscribers.append(subscriber)
        return len(subscribers) == 1

    def remove(self, channel: str, subscriber: Subscriber) -> bool:
        """Remove one; True if the channel has none left (the backend then unsubscribes)."""
        subscribers = self._by_channel.get(channel)
        if not subscribers or subscriber not in subscribers:
            return False
        subscribers.remove(subscriber)
        if subscribers:
            return False
        del self._by_channel[channel]
        return True

    def deliver(self, channel: str, message: str) -> None:
        """Hand the message to each subscriber in turn; one that fails does not stop the rest."""
        for subscriber in tuple(self._by_channel.get(channel, ())):
            try:
                subscriber(message)
            except Exception:
                log.exception("bus subscriber failed on %s", channel)

    def channels(self) -> list[str]:
        return list(self._by_channel)

    def clear(self) -> None:
        self._by_channel.clear()


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
