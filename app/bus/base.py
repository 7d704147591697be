"""The Bus seam: rooms publish events on a channel per room; subscribers get them in order.

Nothing outside app/bus knows which implementation runs. A message carries the typed event
and its audience, so a backend that crosses processes serialises it without the room's help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app import protocol as p
from app.board import Audience


@dataclass(frozen=True, slots=True)
class BusMessage:
    room_id: str
    seq: int
    event: p.Event
    audience: Audience


Subscriber = Callable[[BusMessage], None]


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def publish(self, message: BusMessage) -> None:
        """Hand a message over without waiting: rooms never block on fan-out."""

    def subscribe(self, room_id: str, subscriber: Subscriber) -> Callable[[], None]:
        """Receive the room's messages in publish order; returns the unsubscribe call."""
        ...
