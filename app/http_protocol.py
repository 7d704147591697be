"""uvicorn's HTTP protocol (h11) with two guards that only a protocol can give, since both
act before a request reaches the app (issue 17: 20,000 half-open requests made /healthz
and new joins time out):

- a peer that is the client itself may hold at most SAMSKAPA_MAX_CONNECTIONS_PER_ADDRESS
  connections (HTTP and room sockets); the next one is answered 429 as it opens;
- a request's headers must arrive within SAMSKAPA_HEADER_TIMEOUT_SECONDS of the connection
  being ready for it (opened, or done with the previous response); else 408 and closed.
  uvicorn has no such timeout: a client trickling a header a minute held a connection for
  ever.

The settings come from the app's lifespan (app/connection_caps.PeerGuard in the ASGI state),
so that without them (another app, a server still starting) this is plain h11.
Depends on H11Protocol's attributes (conn, transport, client, app_state), like
app/transport.py on the WebSocket side, which is why uvicorn is pinned exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.connection_caps import PEER_GUARD, RAW_REFUSAL, PeerGuard

HEADER_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class GuardedHttpProtocol(H11Protocol):
    _counted: str | None = None
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        guard = self._guard()
        if guard is None:
            return
        peer = self.client[0] if self.client else None
        if peer is not None and not guard.addresses.is_trusted(peer):
            key = guard.addresses.client(peer)
            if not guard.peers.admit(key):
                transport.write(RAW_REFUSAL)
                transport.close()
                return
            self._counted = key
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._headers_arrived_yet()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()  # for the next request on this connection
            self._headers_arrived_yet()  # a pipelined one may be here already

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._release()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._cancel_header_timer()
        super().handle_websocket_upgrade(event)
        # The connection lives on under the WebSocket protocol, which never calls ours
        # again: it releases the count when the socket is lost.
        counted, self._counted = self._counted, None
        guard = self._guard()
        if counted is not None and guard is not None:
            release_when_lost(self.transport.get_protocol(), lambda: guard.peers.release(counted))

    # ------------------------------------------------------------ the guards

    def _guard(self) -> PeerGuard | None:
        guard = self.app_state.get(PEER_GUARD)
        return guard if isinstance(guard, PeerGuard) else None

    def _release(self) -> None:
        guard = self._guard()
        if self._counted is not None and guard is not None:
            guard.peers.release(self._counted)
        self._counted = None

    def _arm_header_timer(self) -> None:
        guard = self._guard()
        self._cancel_header_timer()
        if guard is not None:
            self._header_timer = self.loop.call_later(guard.header_timeout_seconds, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_arrived_yet(self) -> None:
        # h11 leaves IDLE for the client once a whole request head has been read.
        if self._header_timer is not None and self.conn.their_state is not h11.IDLE:
            self._cancel_header_timer()

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.transport.write(HEADER_TIMEOUT_RESPONSE)
            self.transport.close()


def release_when_lost(protocol: Any, release: Callable[[], None]) -> None:
    """Call `release` once the upgraded protocol loses its connection, whatever its class
    (Samskapa's RoomSocketProtocol or any of uvicorn's, as the benchmark's variants use)."""
    lost = protocol.connection_lost

    def connection_lost(exc: Exception | None) -> None:
        try:
            lost(exc)
        finally:
            with contextlib.suppress(Exception):
                release()

    protocol.connection_lost = connection_lost
