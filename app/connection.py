"""One client socket as the room sees it: a non-blocking `send` with a bounded buffer.

The room never awaits a client. Frames are queued and written by one writer task per
connection; a client whose queue passes the limit is too slow to follow the room and is
closed with TOO_SLOW (it reconnects and resyncs from its last seq).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Protocol

from app.protocol import CloseCode, Role


class Peer(Protocol):
    """A client as a room sees it: a local socket (Connection) or, when another instance
    holds the socket, its relay (app/cluster.py). Sending never waits."""

    role: Role
    participant_id: str | None

    def identify(self, role: Role, participant_id: str | None) -> None: ...

    def send(self, frame: str) -> None: ...

    def close(self, code: int, reason: str = "") -> None: ...


class Socket(Protocol):
    """What a connection needs from the transport; tests can pass an in-memory fake."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Connection:
    def __init__(self, socket: Socket, max_queued_frames: int) -> None:
        self.socket = socket
        self.role: Role = "participant"
        self.participant_id: str | None = None
        self._queue: deque[str] = deque()
        self._max_queued = max_queued_frames
        self._wakeup = asyncio.Event()
        self._close_code: int | None = None
        self._close_reason = ""
        self.closed = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def identify(self, role: Role, participant_id: str | None) -> None:
        self.role = role
        self.participant_id = participant_id

    def send(self, frame: str) -> None:
        if self._close_code is not None:
            return
        if len(self._queue) >= self._max_queued:
            self.close(CloseCode.TOO_SLOW, "too slow to follow the room; reconnect to resync")
            return
        self._queue.append(frame)
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
                    await self.socket.send_text(self._queue.popleft())
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
