"""One client socket as the room sees it: a `send` that never waits, and a bound on how far
the client may lag behind before it is dropped.

The room never awaits a client. Under Samskapa's own uvicorn protocol (app/transport.py) a
frame is written to the socket's transport at once, encoded once per broadcast, and the
transport's buffer is the queue (`DirectConnection`). Under any other ASGI server frames
are queued and written by one task per connection (`QueuedConnection`). Either way a
client with more than `send_buffer_bytes` waiting for it (beyond the largest single frame,
so a big welcome snapshot on a slow phone does not count against it) is too slow to follow
the room: it is closed with TOO_SLOW and resyncs from its last seq when it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, Protocol

from app import metrics
from app.protocol import CloseCode, Role
from app.transport import DirectWriter, direct_writer

TOO_SLOW_REASON = "too slow to follow the room; reconnect to resync"


class Peer(Protocol):
    """A client as a room sees it: a local socket (a connection here) or, when another
    instance holds the socket, its relay (app/cluster.py). Sending never waits."""

    role: Role
    participant_id: str | None

    def identify(self, role: Role, participant_id: str | None) -> None: ...

    def send(self, frame: str) -> None: ...

    def close(self, code: int, reason: str = "") -> None: ...


class Socket(Protocol):
    """What a connection needs from the ASGI socket; tests can pass an in-memory fake."""

    scope: Any

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class LocalConnection(Peer, Protocol):
    """A socket this process holds: a Peer the WebSocket route can also end."""

    async def finish(self, grace_seconds: float) -> None: ...


def open_connection(socket: Socket, send_buffer_bytes: int, close_grace_seconds: float) -> LocalConnection:
    """The fastest connection the server under us allows, for an accepted socket."""
    writer = direct_writer(socket.scope)
    if writer is not None:
        return DirectConnection(writer, send_buffer_bytes, close_grace_seconds)
    return QueuedConnection(socket, send_buffer_bytes)


class _Identity:
    role: Role = "participant"
    participant_id: str | None = None

    def identify(self, role: Role, participant_id: str | None) -> None:
        self.role = role
        self.participant_id = participant_id


class DirectConnection(_Identity):
    """Writes go straight to the transport; nothing to wake, nothing to await."""

    def __init__(self, writer: DirectWriter, send_buffer_bytes: int, close_grace_seconds: float) -> None:
        self._writer = writer
        self._limit = send_buffer_bytes
        self._largest_frame = 0
        self._grace = close_grace_seconds
        self._closing = False

    def send(self, frame: str) -> None:
        if self._closing:
            return
        if self._writer.buffered_bytes() > self._limit + self._largest_frame:
            metrics.slow_client_dropped()
            self.close(CloseCode.TOO_SLOW, TOO_SLOW_REASON)
            return
        self._largest_frame = max(self._largest_frame, len(frame))
        if not self._writer.write_text(frame):
            self._closing = True  # the socket went away; the reader notices and cleans up

    def close(self, code: int, reason: str = "") -> None:
        """The close frame goes out behind the frames already written."""
        if not self._closing:
            self._closing = True
            self._writer.close_now(code, reason, self._grace)

    async def finish(self, grace_seconds: float) -> None:
        self._closing = True  # the transport's own timer ends an unanswered close


class QueuedConnection(_Identity):
    """For ASGI servers without the direct writer: one writer task drains a queue."""

    def __init__(self, socket: Socket, send_buffer_bytes: int) -> None:
        self.socket = socket
        self._queue: deque[str] = deque()
        self._queued_chars = 0
        self._largest_frame = 0
        self._limit = send_buffer_bytes
        self._wakeup = asyncio.Event()
        self._close_code: int | None = None
        self._close_reason = ""
        self.closed = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send(self, frame: str) -> None:
        if self._close_code is not None:
            return
        if self._queued_chars > self._limit + self._largest_frame:
            metrics.slow_client_dropped()
            self.close(CloseCode.TOO_SLOW, TOO_SLOW_REASON)
            return
        self._largest_frame = max(self._largest_frame, len(frame))
        self._queue.append(frame)
        self._queued_chars += len(frame)
        self._wakeup.set()

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (so a final error or event still arrives)."""
        if self._close_code is None:
            self._close_code = code
            self._close_reason = reason
            self._wakeup.set()

    async def _write_loop(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue:
                    frame = self._queue.popleft()
                    self._queued_chars -= len(frame)
                    await self.socket.send_text(frame)
                if self._close_code is not None:
                    with contextlib.suppress(Exception):
                        await self.socket.close(self._close_code, self._close_reason)
                    return
        except Exception:  # the peer went away mid-write; the reader notices and cleans up
            return
        finally:
            self._queue.clear()
            self.closed.set()

    async def finish(self, grace_seconds: float) -> None:
        """End the writer once the reader has stopped: let a close the server asked for go
        out (bounded by the grace period), otherwise the peer is gone and we just stop."""
        if self._close_code is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.closed.wait()), grace_seconds)
        self._close_code = self._close_code or 1000
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer
