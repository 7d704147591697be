"""The in-process bus: one instance, so every lease is ours and delivery is a direct call."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from app.bus.base import Subscriber, Subscribers, Unsubscribe


class MemoryBus:
    def __init__(self) -> None:
        self.instance_id = "local-" + secrets.token_hex(4)
        self._subscribers = Subscribers()
        self._leases: dict[str, str] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._subscribers.clear()

    @property
    def connected(self) -> bool:
        return True

    def on_connection_change(self, listener: Callable[[bool], None]) -> None:
        return None  # an in-process bus is never lost

    def publish(self, channel: str, message: str) -> None:
        self._subscribers.deliver(channel, message)

    def subscribe(self, channel: str, subscriber: Subscriber) -> Unsubscribe:
        self._subscribers.add(channel, subscriber)

        def unsubscribe() -> None:
            self._subscribers.remove(channel, subscriber)

        return unsubscribe

    async def acquire(self, key: str, ttl_ms: int) -> str:
        return self._leases.setdefault(key, self.instance_id)

    def keep(self, key: str, ttl_ms: int, taken_at: float, on_lost: Callable[[], None]) -> Callable[[], None]:
        return lambda: None  # nobody else can take an in-process lease, and it never runs out

    async def release(self, key: str) -> None:
        if self._leases.get(key) == self.instance_id:
            del self._leases[key]

    async def holder(self, key: str) -> str | None:
        return self._leases.get(key)
