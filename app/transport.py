"""The WebSocket transport under uvicorn, tuned for a room's fan-out.

A room sends the same frame to hundreds of sockets several times a second. Through ASGI
each of those is an awaited `send` per client: a writer task to wake, a chain of Starlette
and uvicorn coroutines, a frame encoded per client. The profile (docs/performance.md) put
that at a third of the server's CPU. This module gives the room what `websockets.broadcast`
gives a plain websockets server instead: a synchronous write of an already encoded frame to
each socket's transport, with the transport's buffer as the only queue.

`RoomSocketProtocol` is uvicorn's websockets-sansio protocol with these changes:

- it offers itself to the app under the ASGI scope extension `DIRECT_WRITE`, as a
  `DirectWriter` (write a text frame now, close now, how much is still buffered);
- it stops reading from a client only when `READ_AHEAD_MESSAGES` of its messages wait
  unread, not after every message (uvicorn pauses and resumes the socket per message: two
  epoll_ctl system calls per command);
- it caps the kernel's send buffer of each socket at `KERNEL_SEND_BUFFER_BYTES`. Linux
  grows it up to 4 MiB for a peer that does not read; with thousands of phones, some of
  them locked in a pocket, that is gigabytes of kernel memory, and a stalled phone would
  only show in our own buffer (and be dropped, app/connection.py) megabytes later;
- it lets go of the handshake's request and response once the socket is open;
- its keepalive does not close a client whose pong waits unread because we paused reading
  (the server is behind, not the client);
- it compresses once what it compresses (permessage-deflate, when uvicorn's
  `ws_per_message_deflate` is on). uvicorn's own set-up keeps a compressor and a
  decompressor for every socket and compresses each broadcast once per socket: twice the
  CPU and +50 KB per participant (docs/performance.md, "permessage-deflate"). Here neither
  side keeps a context between messages (`server_no_context_takeover`,
  `client_no_context_takeover`), so a compressed message depends only on its text and the
  window size: a broadcast is compressed once and the same bytes go to every socket that
  negotiated the same window, as its plain frame is encoded once. Frames shorter than
  COMPRESS_FROM_CHARS (acks, votes, presence) go uncompressed, which RFC 7692 allows message by
  message: they would barely shrink. The welcome, ~9 KB with the template in three
  languages, is what a phone on a weak link waits for, and it shrinks about fourfold.

An app served by any other ASGI server never sees the extension and falls back to awaited
sends (app/connection.py); nothing else depends on this module. Depends on uvicorn's
protocol internals (the attributes used below), which is why uvicorn is pinned exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from asyncio import BaseTransport
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions import Extension
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

DIRECT_WRITE = "samskapa.direct_write"
# Commands a client may have queued unread before we stop reading its socket; with frames
# of at most 64 KiB that bounds what one client can make us hold.
READ_AHEAD_MESSAGES = 16
# A room's frames are small (a spectrum is ~2 KB): 128 KiB (the kernel doubles it) still
# lets ~1 MB/s through to a phone 200 ms away, far more than a room ever sends one client.
KERNEL_SEND_BUFFER_BYTES = 128 * 1024
# Below this a text frame goes uncompressed: a vote or an ack would save a few bytes for
# a compressor's set-up. A spectrum (~2 KB), a note with a long text, a welcome are above.
COMPRESS_FROM_CHARS = 1024
# The largest window for what the server sends (the welcome and the spectrum compress best
# with one that holds them whole); what a phone sends is small, and a 4 KiB window is all
# the server allocates to inflate it, per message.
SERVER_WINDOW_BITS = 15
CLIENT_WINDOW_BITS = 12


def deflate_factory() -> ServerPerMessageDeflateFactory:
    """permessage-deflate without context takeover either way: nothing kept per socket
    between messages, and a message's compressed bytes the same for every socket."""
    return ServerPerMessageDeflateFactory(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=SERVER_WINDOW_BITS,
        client_max_window_bits=CLIENT_WINDOW_BITS,
    )


class DirectWriter(Protocol):
    def write_text(self, text: str) -> bool:
        """Write one text frame now; False when the socket is closing or closed."""
        ...

    def buffered_bytes(self) -> int:
        """Bytes written but not yet taken by the kernel: how far the client lags."""
        ...

    def close_now(self, code: int, reason: str, abort_after_seconds: float) -> None:
        """Send the close frame behind what is buffered; drop the socket if the peer has not
        completed the close (or drained its buffer) within the given time."""
        ...


class _EncodedFrame:
    """The last text frame encoded: a broadcast writes the same str to every socket in a
    row, so one encoding serves them all, plain or compressed (for each window size that
    sockets negotiated; in practice one)."""

    text: ClassVar[str | None] = None
    wire: ClassVar[bytes] = b""
    compressed: ClassVar[dict[int, bytes]] = {}

    @classmethod
    def of(cls, text: str, deflate: PerMessageDeflate | None = None) -> bytes:
        if text is not cls.text:
            cls.wire = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
            cls.compressed = {}
            cls.text = text
        if deflate is None or len(text) < COMPRESS_FROM_CHARS:
            return cls.wire
        window = deflate.local_max_window_bits
        if window not in cls.compressed:
            # Without context takeover the extension keeps nothing between messages, so
            # any socket's extension with this window compresses the text to these bytes.
            frame = Frame(Opcode.TEXT, text.encode())
            cls.compressed[window] = frame.serialize(mask=False, extensions=[deflate])
        return cls.compressed[window]


# What this module relies on of uvicorn's protocol (which is why uvicorn is pinned exactly):
# the methods it overrides, the attributes its __init__ sets, and those set in the handshake.
UVICORN_METHODS = ("connection_made", "handle_connect", "send", "send_receive_event_to_app", "keepalive_timeout")
UVICORN_ATTRIBUTES = (
    "close_sent",
    "close_timer",
    "config",
    "conn",
    "disconnected",
    "handshake_complete",
    "loop",
    "ping_timeout",
    "pong_timer",
    "queue",
    "read_paused",
    "transport",
)
UVICORN_HANDSHAKE_ATTRIBUTES = ("request", "response", "scope")
CONNECTION_METHODS = ("send_text", "send_close", "data_to_send")


class UvicornChanged(RuntimeError):
    """The installed uvicorn lacks something RoomSocketProtocol relies on."""


def check_uvicorn_internals(base: type = WebSocketsSansIOProtocol) -> None:
    """Fail at start-up, naming what is missing, rather than on the first socket in a room.
    Builds one protocol object to see the attributes its __init__ sets, then takes it through
    a WebSocket handshake in memory (no socket, the app never runs) to see what that sets."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    for name in UVICORN_METHODS:
        if not callable(getattr(base, name, None)):
            raise UvicornChanged(f"uvicorn's {base.__name__} has no method {name!r}; app/transport.py needs it")
    config = Config(app=_no_app, ws="websockets-sansio", lifespan="off")
    config.load()
    loop = asyncio.new_event_loop()
    probe = base(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    try:
        for name in UVICORN_ATTRIBUTES:
            if not hasattr(probe, name):
                raise UvicornChanged(f"uvicorn's {base.__name__} no longer sets {name!r}; app/transport.py needs it")
        for name in CONNECTION_METHODS:
            if not callable(getattr(probe.conn, name, None)):
                raise UvicornChanged(f"the websockets connection has no method {name!r}; app/transport.py needs it")
        _shake_hands(probe, loop)
        for name in UVICORN_HANDSHAKE_ATTRIBUTES:
            if getattr(probe, name, None) is None:
                raise UvicornChanged(f"uvicorn's {base.__name__} no longer sets {name!r} in the handshake")
        if not isinstance(probe.scope.get("extensions"), dict):
            raise UvicornChanged(f"uvicorn's {base.__name__} gives the app no scope['extensions'] for {DIRECT_WRITE}")
    finally:
        loop.close()


# A client's opening handshake (RFC 6455's own example key).
PROBE_HANDSHAKE = (
    b"GET /probe HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def _shake_hands(probe: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Feed the probe a client's handshake as a socket would; the app task it starts is
    cancelled before it runs, so nothing is logged, answered or left pending."""
    name = type(probe).__name__
    try:
        probe.connection_made(_MemoryTransport())
        probe.data_received(PROBE_HANDSHAKE)
    except Exception as error:
        raise UvicornChanged(f"uvicorn's {name} fails a handshake in memory: {error!r}") from error
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(task)
    status = getattr(getattr(probe, "response", None), "status_code", 101)
    if status != 101:
        raise UvicornChanged(f"uvicorn's {name} answers a client's handshake with {status}, not 101")


class _MemoryTransport(asyncio.Transport):
    """A socket's transport for the probe: takes what is written and forgets it."""

    def __init__(self) -> None:
        super().__init__()
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        return None

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True


async def _no_app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never called
    return None


def direct_writer(scope: dict[str, Any]) -> DirectWriter | None:
    """The socket's direct writer, if the server runs RoomSocketProtocol."""
    extension = scope.get("extensions", {}).get(DIRECT_WRITE)
    return extension.get("writer") if isinstance(extension, dict) else None


def _shared_deflate(extensions: Sequence[Extension]) -> PerMessageDeflate | None:
    """The agreed permessage-deflate if it keeps no context, so that its compressed frames
    may be shared between sockets; None if none was agreed (or one with a context)."""
    for extension in extensions:
        if isinstance(extension, PerMessageDeflate) and extension.local_no_context_takeover:
            return extension
    return None


class RoomSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The socket's permessage-deflate, once the handshake agreed on it (see `send`).
        self.deflate: PerMessageDeflate | None = None
        if self.config.ws_per_message_deflate:
            # In place of uvicorn's factory, which keeps a context per socket each way.
            self.conn = ServerProtocol(
                extensions=[deflate_factory()], max_size=self.config.ws_max_size, logger=self.conn.logger
            )

    def connection_made(self, transport: BaseTransport) -> None:
        super().connection_made(transport)
        raw = transport.get_extra_info("socket")
        if raw is not None:
            with contextlib.suppress(OSError):
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER_BYTES)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # upgraded (not refused during the handshake)
            scope["extensions"][DIRECT_WRITE] = {"writer": self}

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # The handshake's request and response (three header maps, ~25 tracked objects)
            # are never read again; an open socket should not carry them for hours.
            self.request = self.response = None  # type: ignore[assignment]
            # Looked up once here, not on every frame a broadcast writes to this socket.
            self.deflate = _shared_deflate(self.conn.extensions)

    def send_receive_event_to_app(self) -> None:
        # The base class pauses reading after every message and resumes when the app has
        # read it; let a few wait first. Saying reading is already paused keeps it going.
        if not self.read_paused and self.queue.qsize() < READ_AHEAD_MESSAGES:
            self.read_paused = True
            try:
                super().send_receive_event_to_app()
            finally:
                self.read_paused = False
        else:
            super().send_receive_event_to_app()

    def keepalive_timeout(self) -> None:
        # No pong within the timeout. If we stopped reading this socket ourselves (its
        # commands wait for a room that is behind), the pong may be in our own unread input:
        # the slow side is this server, not the phone, so wait another period instead of
        # closing a healthy client with 1011 (which only adds its reconnect to the load).
        if self.read_paused and not self.close_sent and self.ping_timeout is not None:
            self.pong_timer = self.loop.call_later(self.ping_timeout, self.keepalive_timeout)
            return
        super().keepalive_timeout()

    # ------------------------------------------------------------ DirectWriter

    def write_text(self, text: str) -> bool:
        if self.close_sent or self.disconnected or self.conn.state is not State.OPEN:
            return False
        if self.transport.is_closing():
            return False
        self.transport.write(_EncodedFrame.of(text, self.deflate))
        return True

    def buffered_bytes(self) -> int:
        return int(self.transport.get_write_buffer_size())

    def close_now(self, code: int, reason: str, abort_after_seconds: float) -> None:
        # As uvicorn's own `websocket.close`, without waiting for the buffer to drain first
        # (a client too slow to read would keep that wait open for ever).
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(abort_after_seconds, self._end_transport)

    def _end_transport(self) -> None:
        """The close handshake did not finish in time: close, and drop what the peer never
        read rather than hold it (transport.close would wait for the buffer to drain)."""
        if self.transport.get_write_buffer_size():
            self.transport.abort()
        else:
            self.transport.close()
