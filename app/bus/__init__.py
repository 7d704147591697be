"""Fan-out of room events between app instances, behind one small interface."""

from __future__ import annotations

from app.bus.base import Bus, BusMessage, Subscriber
from app.bus.memory import MemoryBus

__all__ = ["Bus", "BusMessage", "MemoryBus", "Subscriber", "make_bus"]


def make_bus(redis_url: str | None) -> Bus:
    """The bus chosen by configuration: in-process unless SAMSKAPA_REDIS_URL is set."""
    if redis_url:
        raise NotImplementedError("The Redis bus arrives with the multi-instance issue; unset SAMSKAPA_REDIS_URL.")
    return MemoryBus()
