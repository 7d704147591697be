"""How many connections one client address may hold open at once (room sockets and HTTP
requests together): SAMSKAPA_MAX_CONNECTIONS_PER_ADDRESS.

Issue 17: one client held 10,000 sockets in one room and raised another room's ping p99
from 13 ms to 303 ms; 20,000 half-open requests used up the server's file descriptors. The
cap is counted where the address is known:

- a peer that is the client itself (not a trusted proxy) is counted per TCP connection, from
  the moment it connects, by the HTTP protocol (app/http_protocol.py), before it has sent a
  byte: that is what stops a flood of half-open connections;
- a request through a trusted proxy is counted by the address the proxy forwards
  (app/addresses.py) for as long as it runs (a room socket: as long as it is open), here in
  `CapPerClient`, since the proxy's own connections carry many people each.

Over the cap, HTTP gets 429 `too_many_connections` with Retry-After, and so does a WebSocket
handshake (refused before it is accepted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from app.addresses import ClientAddresses

RETRY_AFTER_SECONDS = 10
REFUSAL = json.dumps(
    {
        "code": "too_many_connections",
        "message": "Too many open connections from your address; close some, then try again.",
    }
).encode()
REFUSAL_HEADERS = [
    (b"content-type", b"application/json"),
    (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
    (b"content-length", str(len(REFUSAL)).encode()),
]
# The same, written straight to a TCP connection that is refused as it opens.
RAW_REFUSAL = (
    b"HTTP/1.1 429 Too Many Requests\r\n"
    + b"".join(name + b": " + value + b"\r\n" for name, value in REFUSAL_HEADERS)
    + b"connection: close\r\n\r\n"
    + REFUSAL
)


class OpenConnections:
    """Open connections per key, none admitted beyond `cap`. Keys at zero are dropped, so
    memory follows what is open now."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: dict[str, int] = {}

    def admit(self, key: str) -> bool:
        count = self._open.get(key, 0)
        if count >= self.cap:
            return False
        self._open[key] = count + 1
        return True

    def release(self, key: str) -> None:
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def count(self, key: str) -> int:
        return self._open.get(key, 0)


@dataclass(frozen=True)
class PeerGuard:
    """What app/http_protocol.py needs; the app's lifespan hands it over in the ASGI state,
    so the protocol uses the app's own settings and nothing global."""

    addresses: ClientAddresses
    peers: OpenConnections
    header_timeout_seconds: float


PEER_GUARD = "samskapa.peer_guard"


class CapPerClient:
    """ASGI middleware: the cap for requests that arrive through a trusted proxy."""

    def __init__(self, app: ASGIApp, addresses: ClientAddresses, cap: int) -> None:
        self.app = app
        self.addresses = addresses
        self.clients = OpenConnections(cap)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] not in {"http", "websocket"} or not self.addresses.is_trusted(peer[0] if peer else None):
            await self.app(scope, receive, send)  # counted per TCP connection, if at all
            return
        client = self.addresses.client_of(scope)
        if not self.clients.admit(client):
            await refuse(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.clients.release(client)


async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """429 too_many_connections, for an HTTP request or a WebSocket handshake."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 429, "headers": REFUSAL_HEADERS})
        await send({"type": "http.response.body", "body": REFUSAL})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 429, "headers": REFUSAL_HEADERS})
        await send({"type": "websocket.http.response.body", "body": REFUSAL})
    else:  # a server without the denial extension answers a close before accept with 403
        await send({"type": "websocket.close", "code": 1008})
