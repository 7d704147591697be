"""The in-process bus: delivery is a direct call, in publish order, with no copy or queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from app.bus.base import BusMessage, Subscriber


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._subscribers.clear()

    def publish(self, message: BusMessage) -> None:
        for subscriber in tuple(self._subscribers.get(message.room_id, ())):
            subscriber(message)

    def subscribe(self, room_id: str, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers[room_id].append(subscriber)

        def unsubscribe() -> None:
            subscribers = self._subscribers.get(room_id)
            if subscribers and subscriber in subscribers:
                subscribers.remove(subscriber)
                if not subscribers:
                    del self._subscribers[room_id]

        return unsubscribe
