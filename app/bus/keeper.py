"""Keeping Redis leases alive from a thread of their own, beside the event loop.

Why a thread: a lease says "this process is alive", and the event loop is a bad witness of
that. Under a storm beyond capacity an owner's loop runs seconds behind; renewals sent from
it were answered late, the lease ran out, another instance took the room and every client
reconnected at once, which is the costliest thing an overloaded cluster can do. A thread
renews on time whatever the loop is doing. It still stops renewing when the loop has not
turned for `stall_seconds` (a process wedged for that long should lose its rooms), and when
a renewal is refused it tells the loop. One thread and one connection serve every lease
this instance holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 0.5


@dataclass
class _Lease:
    ttl_ms: int
    valid_until: float  # monotonic: when it runs out unless renewed
    on_lost: Callable[[], None]


class LeaseKeeper:
    def __init__(
        self, url: str, instance_id: str, renew_script: str, every_seconds: float, stall_seconds: float
    ) -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._instance_id = instance_id
        self._renew = self._redis.register_script(renew_script)
        self._every = every_seconds
        self._stall = stall_seconds
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_turn = time.monotonic()
        self._heartbeat: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._beat()
        self._thread = threading.Thread(target=self._run, name="samskapa-leases", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._thread is not None:
            self._thread.join(timeout=self._every + 3)
        with contextlib.suppress(Exception):
            self._redis.close()

    def keep(self, key: str, ttl_ms: int, taken_at: float, on_lost: Callable[[], None]) -> Callable[[], None]:
        """Renew `key` (taken at monotonic `taken_at`) until the returned call; `on_lost` runs
        on the loop, once, if a renewal is refused or the lease may have run out."""
        lease = _Lease(ttl_ms, taken_at + ttl_ms / 1000, on_lost)
        with self._lock:
            self._leases[key] = lease

        def forget() -> None:
            with self._lock:
                if self._leases.get(key) is lease:
                    del self._leases[key]

        return forget

    def _beat(self) -> None:
        """Runs on the loop: the thread renews only while this keeps happening."""
        self._last_turn = time.monotonic()
        if self._loop is not None and not self._stopping.is_set():
            self._heartbeat = self._loop.call_later(HEARTBEAT_SECONDS, self._beat)

    def _run(self) -> None:
        while not self._stopping.wait(self._every):
            if time.monotonic() - self._last_turn > self._stall:
                log.warning("event loop stalled for over %.0f s; not renewing leases", self._stall)
                self._lapse_expired()
                continue
            with self._lock:
                leases = list(self._leases.items())
            for key, lease in leases:
                self._renew_one(key, lease)

    def _renew_one(self, key: str, lease: _Lease) -> None:
        asked = time.monotonic()
        try:
            kept = bool(self._renew(keys=[key], args=[self._instance_id, lease.ttl_ms]))
        except (RedisError, OSError):
            if time.monotonic() >= lease.valid_until:
                self._lost(key, lease)
            return  # the bus notices a lost connection itself; the lease may still hold
        if kept:
            lease.valid_until = asked + lease.ttl_ms / 1000  # granted after it was asked, not before
        else:
            self._lost(key, lease)

    def _lapse_expired(self) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [(key, lease) for key, lease in self._leases.items() if now >= lease.valid_until]
        for key, lease in expired:
            self._lost(key, lease)

    def _lost(self, key: str, lease: _Lease) -> None:
        with self._lock:
            if self._leases.get(key) is not lease:
                return  # forgotten meanwhile
            del self._leases[key]
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
                self._loop.call_soon_threadsafe(lease.on_lost)
