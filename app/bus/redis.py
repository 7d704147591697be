"""The Redis bus (redis.asyncio): pub/sub channels and leases shared by every instance.

Pub/sub, not streams: a message matters only to instances listening now; anything missed
while Redis is away is recovered by clients resyncing from the store (a fresh snapshot), so
a replayable log would cost memory and trimming for nothing. See docs/architecture.md.

One connection publishes (from a queue, in order, never blocking the caller); one pub/sub
connection listens. When either fails, listeners are told (rooms then step down and close
their sockets so clients resync), and the bus reconnects and resubscribes by itself.
Leases are renewed from a thread of their own (app/bus/keeper.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from app.bus.base import Subscriber, Subscribers, Unsubscribe
from app.bus.keeper import LeaseKeeper

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 0.5
LEASE_RENEW_SECONDS = 1.5
READ_TIMEOUT_SECONDS = 30.0
# A process whose event loop has not turned for this long stops renewing: it lets its rooms go.
LOOP_STALL_SECONDS = 30.0
# How long stopping waits for the bus's tasks to end, cancelling them again meanwhile.
STOP_SECONDS = 5.0
CANCEL_AGAIN_SECONDS = 0.1
# Renew only if the lease still names us; a lost lease is never silently re-taken.
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class RedisBus:
    def __init__(self, url: str) -> None:
        self.instance_id = "i-" + secrets.token_hex(6)
        self._url = url
        # A generous read timeout: an owner whose loop is seconds behind reads replies late,
        # and a timeout then reads as "Redis is gone" and steps down from every room (seen at
        # workshop N=5000). A dead Redis is still found: its socket errors, and the leases run
        # out unrenewed (app/bus/keeper.py).
        self._redis: Redis = Redis.from_url(
            url, decode_responses=True, socket_timeout=READ_TIMEOUT_SECONDS, socket_connect_timeout=2
        )
        self._pubsub: PubSub | None = None
        self._subscribers = Subscribers()
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._listeners: list[Callable[[bool], None]] = []
        self._connected = False
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed_changed = asyncio.Event()
        self._keeper: LeaseKeeper | None = None

    async def start(self) -> None:
        await self._redis.ping()
        self._connected = True
        self._keeper = LeaseKeeper(self._url, self.instance_id, _RENEW, LEASE_RENEW_SECONDS, LOOP_STALL_SECONDS)
        self._keeper.start(asyncio.get_running_loop())
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._publish_loop())]

    async def stop(self) -> None:
        if self._keeper is not None:
            await asyncio.to_thread(self._keeper.stop)
        await _cancel(self._tasks)
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    @property
    def connected(self) -> bool:
        return self._connected

    def on_connection_change(self, listener: Callable[[bool], None]) -> None:
        self._listeners.append(listener)

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        log.warning("redis %s", "reconnected" if connected else "connection lost")
        for listener in list(self._listeners):
            listener(connected)

    # ------------------------------------------------------------ pub/sub

    def publish(self, channel: str, message: str) -> None:
        self._outbox.put_nowait((channel, message))

    async def _publish_loop(self) -> None:
        while True:
            channel, message = await self._outbox.get()
            batch = [(channel, message)]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for item_channel, item in batch:
                        pipe.publish(item_channel, item)
                    await pipe.execute()
            except (RedisError, OSError) as error:
                # Lost with the connection; the rooms concerned resync their clients.
                log.warning("redis publish failed: %r", error)
                self._set_connected(False)
                await asyncio.sleep(RECONNECT_SECONDS)

    def subscribe(self, channel: str, subscriber: Subscriber) -> Unsubscribe:
        first = self._subscribers.add(channel, subscriber)
        if first and self._pubsub is not None and self._connected:
            asyncio.get_running_loop().create_task(self._safe(self._pubsub.subscribe(channel)))

        def unsubscribe() -> None:
            last = self._subscribers.remove(channel, subscriber)
            if last and self._pubsub is not None and self._connected:
                asyncio.get_running_loop().create_task(self._safe(self._pubsub.unsubscribe(channel)))

        return unsubscribe

    async def _safe(self, action: object) -> None:
        with contextlib.suppress(RedisError, OSError):
            await action  # type: ignore[misc]

    async def _listen(self) -> None:
        """Read pub/sub messages forever; on failure reconnect and resubscribe."""
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                # A placeholder channel keeps the connection in subscribed mode from the start.
                await pubsub.subscribe(f"samskapa:instance:{self.instance_id}:alive", *self._subscribers.channels())
                self._pubsub = pubsub
                self._set_connected(True)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    self._subscribers.deliver(message["channel"], message["data"])
            except (RedisError, OSError) as error:
                log.warning("redis subscription failed: %r", error)
                self._pubsub = None
                self._set_connected(False)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                await asyncio.sleep(RECONNECT_SECONDS)

    # ------------------------------------------------------------ leases

    async def acquire(self, key: str, ttl_ms: int) -> str:
        if await self._redis.set(key, self.instance_id, nx=True, px=ttl_ms):
            return self.instance_id
        holder = await self._redis.get(key)
        if holder is None:  # expired between the two calls: try once more
            return await self.acquire(key, ttl_ms)
        return str(holder)

    def keep(self, key: str, ttl_ms: int, taken_at: float, on_lost: Callable[[], None]) -> Callable[[], None]:
        if self._keeper is None:
            raise RuntimeError("the bus is not started")
        return self._keeper.keep(key, ttl_ms, taken_at, on_lost)

    async def release(self, key: str) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._redis.eval(_RELEASE, 1, key, self.instance_id)

    async def holder(self, key: str) -> str | None:
        value = await self._redis.get(key)
        return None if value is None else str(value)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the tasks and wait for them to end, cancelling again until they do or
    STOP_SECONDS pass. Again, because one cancel can be lost: redis-py wraps a send in
    `asyncio.wait_for` when a socket timeout is set, and on Python 3.11 a cancel that lands
    just as the send completes is swallowed (CPython gh-86296), so the publish loop went back
    to waiting on its empty queue and an instance given SIGTERM never exited. Waiting with
    `asyncio.wait` never raises the tasks' cancellation here, and lets a cancellation of the
    caller itself through."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_SECONDS
    pending = {task for task in tasks if not task.done()}
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_SECONDS)
    if pending:
        log.warning("%d of the bus's tasks did not stop within %s s", len(pending), STOP_SECONDS)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning("a bus task had failed: %r", task.exception())
