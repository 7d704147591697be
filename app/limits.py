"""Per-client-address budgets (join-code lookups, new participants, rooms created), kept
where every instance sees them.

A budget held in each process was no budget at all once there were two instances (each
address got one per instance) or a restart (it started afresh). So budgets live in the
`limits` library's storage: Redis when SAMSKAPA_REDIS_URL is set, shared by every instance
and outliving a restart of any of them; in this process's memory otherwise, where there is
only one instance to share with.

The strategy is the moving window: a budget of n per window is exactly n in any window
(the last n hits' times are kept, a Redis list of at most n entries per address). The
sliding-window counter keeps two integers instead, but it only estimates: a burst at the
end of one window can be followed by nearly as many again within the same 60 s, up to
twice the budget, and the join-code budget is the figure the time to walk the million
codes is worked out from (docs/architecture.md, "Limits and abuse"). The budgets are small
(at most a few hundred a window), so exactness costs a few kilobytes per address.

A key is `samskapa:limit:<name>/<address>/<amount>/<seconds>/second`: the budget's name and
shape and the client address (app/addresses.py), nothing a client wrote. The shape is part
of the key so that instances configured differently keep separate lists rather than
trimming each other's.

If Redis does not answer (within REDIS_TIMEOUT_SECONDS), every budget lets the request
through, with one warning per outage in the log and one line when Redis is back, rather
than refusing it or failing it: refusing would also refuse the people in a workshop
whenever Redis is slow to answer (an instance whose event loop is seconds behind under a
conference's load reads its replies late: app/bus/redis.py), while letting through costs
only the limits, and only for as long as an outage the operator is told about.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

log = logging.getLogger(__name__)

KEY_PREFIX = "samskapa:limit"
# A request waits at most this long for Redis before its limit lets it through.
REDIS_TIMEOUT_SECONDS = 2.0
T = TypeVar("T")


class Budgets:
    """The one place the budgets are kept, and whether it answers. Build one per process
    (in the lifespan) and `close` it at shutdown. `on_refused` hears each refusal, by the
    budget's name (app/main.py counts them in app/metrics.py, which this module does not
    import: it imports nothing of the app)."""

    def __init__(self, redis_url: str | None = None, on_refused: Callable[[str], None] | None = None) -> None:
        self.on_refused = on_refused
        self._pool: redis.asyncio.ConnectionPool | None = None
        storage: Storage
        if redis_url:
            # Our own pool, so that shutdown can close its connections.
            self._pool = redis.asyncio.ConnectionPool.from_url(
                redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
            )
            storage = RedisStorage(
                _storage_uri(redis_url),
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                connection_pool=self._pool,  # type: ignore[arg-type]  # handed on to redis.asyncio.Redis
            )
        else:
            storage = MemoryStorage()
        self.window = MovingWindowRateLimiter(storage)
        self._failing = False

    def per_address(self, name: str, amount: int, seconds: int) -> AddressLimit:
        return AddressLimit(self, name, amount, seconds)

    async def ask(self, question: Awaitable[T], if_silent: T) -> T:
        """The storage's answer, or `if_silent` when it fails (fail open, above)."""
        try:
            answer = await question
        except StorageError as error:
            if not self._failing:
                self._failing = True
                log.warning(
                    "per-address limits are NOT enforced while Redis does not answer (%r): requests go through",
                    error.storage_error,
                )
            return if_silent
        if self._failing:
            self._failing = False
            log.info("per-address limits are enforced again: Redis answers")
        return answer

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


class AddressLimit:
    """At most `amount` per `seconds` per client address, counted across every instance
    that shares the budgets' storage."""

    def __init__(self, budgets: Budgets, name: str, amount: int, seconds: int) -> None:
        self.name = name
        self.amount = amount
        self.seconds = seconds
        self._budgets = budgets
        self._item: RateLimitItem = RateLimitItemPerSecond(amount, seconds, namespace=name)

    async def hit(self, address: str) -> bool:
        """Spend one of the address's budget: True if there was one left (or the storage
        does not answer), False if the address must wait."""
        return self._refused_unless(await self._budgets.ask(self._budgets.window.hit(self._item, address), True))

    async def test(self, address: str) -> bool:
        """Whether `hit` would succeed now, spending nothing: to refuse early a request
        whose cost is counted only once it has turned out valid."""
        return self._refused_unless(await self._budgets.ask(self._budgets.window.test(self._item, address), True))

    def _refused_unless(self, allowed: bool) -> bool:
        if not allowed and self._budgets.on_refused is not None:
            self._budgets.on_refused(self.name)
        return allowed

    async def retry_after(self, address: str) -> int:
        """Whole seconds until the oldest hit in the address's window leaves it (at least
        1); the whole window if the storage does not answer."""
        stats = await self._budgets.ask(self._budgets.window.get_window_stats(self._item, address), None)
        if stats is None:
            return self.seconds
        return max(1, math.ceil(stats.reset_time - time.time()))


def _storage_uri(redis_url: str) -> str:
    """The `limits` scheme for a redis-py URL (redis://, rediss://, unix://); the library
    turns it back into the same URL."""
    scheme, separator, rest = redis_url.partition("://")
    return f"async+{'redis+unix' if scheme == 'unix' else scheme}{separator}{rest}"
