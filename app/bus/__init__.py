"""Messages and leases between app instances, behind one small interface (app/bus/base.py)."""

from __future__ import annotations

from app.bus.base import Bus, Subscriber, Unsubscribe
from app.bus.memory import MemoryBus

__all__ = ["Bus", "MemoryBus", "Subscriber", "Unsubscribe", "make_bus"]


def make_bus(redis_url: str | None) -> Bus:
    """In-process unless SAMSKAPA_REDIS_URL is set; then Redis, shared by every instance."""
    if redis_url:
        from app.bus.redis import RedisBus

        return RedisBus(redis_url)
    return MemoryBus()
