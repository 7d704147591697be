"""The socket layer under a room, over real sockets: a client too slow to read is dropped
without holding up anyone else, and the app still works under plain uvicorn, where it has
to fall back from direct writes to a queue per connection (app/connection.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate
from websockets.uri import parse_uri

from app.client import RoomClient
from app.transport import CLIENT_WINDOW_BITS, SERVER_WINDOW_BITS, _EncodedFrame
from tests.servers import ServerProcess

TIMEOUT = 20.0
LONG_TEXT = ("Vi behöver förstå hur brukarna använder det vi erbjuder. " * 8).strip()  # ~460 characters
PLAIN_UVICORN = (
    "-m",
    "uvicorn",
    "app.main:create_app",
    "--factory",
    "--port",
    "{port}",
    "--ws-per-message-deflate=false",
)


def start(tmp_path: Path, command: tuple[str, ...] | None = None, **settings: str) -> ServerProcess:
    server = ServerProcess(f"sqlite:///{tmp_path / 'samskapa.db'}", tmp_path, command=command, **settings)
    if command is not None:  # plain uvicorn does not migrate; `samskapa migrate` does
        subprocess.run([sys.executable, "-m", "app.cli", "migrate"], env=server.env, check=True, capture_output=True)
    server.start()
    return server


@pytest.fixture
def small_buffer_server(tmp_path: Path) -> Iterator[ServerProcess]:
    # The rate limit lifted so one writer can fill the buffers quickly.
    server = start(tmp_path, SEND_BUFFER_BYTES="16384", COMMAND_RATE_PER_SECOND="1000", COMMAND_BURST="2000")
    yield server
    server.stop()


@pytest.fixture
def plain_uvicorn_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start(tmp_path, command=PLAIN_UVICORN)
    yield server
    server.stop()


async def create_room(server: ServerProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        response = await http.post("/api/rooms", json={"title": "Långsam telefon"})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def stalled_client(server: ServerProcess, room_id: str) -> AsyncIterator[ClientConnection]:
    """A participant whose phone stops reading right after its welcome: a tiny receive
    buffer, and a client library told to stop reading after one unread message."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.port))
    url = f"ws://127.0.0.1:{server.port}/ws/rooms/{room_id}"
    async with connect(url, sock=raw, max_queue=1, compression=None) as stalled:
        await stalled.send(json.dumps({"type": "hello", "token": None}))
        async with asyncio.timeout(TIMEOUT):
            assert json.loads(await stalled.recv())["type"] == "welcome"
        yield stalled


async def test_a_client_that_stops_reading_is_dropped_and_the_room_carries_on(
    small_buffer_server: ServerProcess,
) -> None:
    server = small_buffer_server
    room = await create_room(server)
    facilitator = RoomClient(server.base_url, room["room_id"], room["facilitator_token"])
    watcher = RoomClient(server.base_url, room["room_id"])
    await facilitator.connect()
    await watcher.connect(name="Vera")
    try:
        async with stalled_client(server, room["room_id"]) as stalled:
            await watcher.wait_until(lambda: _online(watcher) == 2, TIMEOUT)
            sent: list[str] = []
            async with asyncio.timeout(TIMEOUT):
                # ~0.9 KB a note: the kernel's buffers for the stalled phone (256 KiB on the
                # server's side), then the 16 KiB the server allows it, fill up; the server
                # must drop it, not slow down for it.
                while _online(watcher) == 2:
                    text = f"{len(sent)}: {LONG_TEXT}"
                    await facilitator.command("add_note", area_id="thoughts", text=text)
                    sent.append(text)
            # Everyone else got every note, in order, while the phone was being dropped.
            await watcher.wait_until(lambda: len(watcher.notes) == len(sent), TIMEOUT)
            assert [n["text"] for n in _in_order(watcher)] == sent
            # The phone, when it reads again, finds what it had been sent, then 4009.
            received: list[str] = []
            with contextlib.suppress(ConnectionClosed):
                async with asyncio.timeout(TIMEOUT):
                    async for frame in stalled:
                        message = json.loads(frame)
                        if message["type"] == "note_added":
                            received.append(message["note"]["text"])
            assert stalled.close_code == 4009
            assert received == sent[: len(received)], "the frames it did get came whole and in order"
            assert len(received) < len(sent)
    finally:
        await facilitator.close()
        await watcher.close()


async def test_the_app_runs_under_plain_uvicorn_with_queued_writes(plain_uvicorn_server: ServerProcess) -> None:
    server = plain_uvicorn_server
    room = await create_room(server)
    facilitator = RoomClient(server.base_url, room["room_id"], room["facilitator_token"])
    people = [RoomClient(server.base_url, room["room_id"]) for _ in range(3)]
    await facilitator.connect()
    for person in people:
        await person.connect()
    try:
        for index, person in enumerate(people):
            await person.command("add_note", area_id="insights", text=f"Lapp {index}")
            await person.command("set_score", statement_id="s1", value=index + 4)
        await facilitator.command("set_results_visible", visible=True)
        for viewer in (facilitator, *people):
            await _until_counted(viewer, notes=3, first_statement_n=3)
        assert facilitator.spectrum is not None
        assert facilitator.spectrum["statements"][0]["mean"] == 5.0
        await people[0].drop()
        missed = await people[1].command("add_note", area_id="now", text="Medan du var borta")
        welcome = await people[0].connect()  # resumes: exactly the event it missed
        assert [event["seq"] for event in welcome["events"]] == [missed["seq"]]
    finally:
        for client in (facilitator, *people):
            await client.close()


async def _until_counted(client: RoomClient, notes: int, first_statement_n: int) -> None:
    def counted() -> bool:
        statements = (client.spectrum or {}).get("statements") or [{}]
        return len(client.notes) == notes and statements[0].get("n") == first_statement_n

    await client.wait_until(counted, TIMEOUT)


def _online(client: RoomClient) -> int | None:
    presence = next((m for m in reversed(client.messages) if m["type"] == "presence"), None)
    return None if presence is None else int(presence["online"])


def _in_order(client: RoomClient) -> list[dict[str, Any]]:
    return sorted(client.notes.values(), key=lambda note: note["position"])


class _Recorder:
    """Stands in for the transport and the websockets connection: records what is done."""

    def __init__(self) -> None:
        self.failed: tuple[int, str] | None = None
        self.closed = False
        self.level = 100  # as a logger: above TRACE, so nothing is logged

    def fail(self, code: int, reason: str) -> None:
        self.failed = (code, reason)

    def data_to_send(self) -> list[bytes]:
        return []

    def write(self, data: bytes) -> None:
        return None

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def _protocol_waiting_for_a_pong(read_paused: bool) -> tuple[Any, _Recorder]:
    """A RoomSocketProtocol whose keepalive ping went unanswered, without a server: only the
    attributes uvicorn's keepalive timeout reads are set."""
    from app.transport import RoomSocketProtocol

    protocol: Any = object.__new__(RoomSocketProtocol)
    recorder = _Recorder()
    protocol.loop = asyncio.get_running_loop()
    protocol.read_paused = read_paused
    protocol.close_sent = False
    protocol.ping_timeout = 20.0
    protocol.pong_timer = None
    protocol.pending_ping_payload = b"ping"
    protocol.conn = protocol.transport = protocol.logger = recorder
    protocol.client = ("127.0.0.1", 1)
    return protocol, recorder


async def test_a_pong_we_have_not_read_yet_does_not_close_the_client() -> None:
    """When the server paused reading (the room is behind), the pong may be waiting in our
    own input: the client is kept and the deadline moves on."""
    protocol, recorder = _protocol_waiting_for_a_pong(read_paused=True)
    protocol.keepalive_timeout()
    assert recorder.failed is None and not recorder.closed
    assert protocol.pong_timer is not None  # still watched
    protocol.pong_timer.cancel()


async def test_a_client_that_does_not_answer_pings_is_closed_with_1011() -> None:
    protocol, recorder = _protocol_waiting_for_a_pong(read_paused=False)
    protocol.keepalive_timeout()
    assert recorder.failed == (1011, "keepalive ping timeout")
    assert recorder.closed


# ---------------------------------------------------------------- permessage-deflate


def _frames(raw: socket.socket, buffered: bytes, wanted: int) -> list[tuple[bool, bytes]]:
    """The next `wanted` data frames as the server wrote them: (compressed?, payload)."""
    frames: list[tuple[bool, bytes]] = []
    data = buffered
    while len(frames) < wanted:
        while True:  # parse what is buffered; a server frame is never masked
            if len(data) < 2:
                break
            length, start = data[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(data[2:4], "big"), 4
            elif length == 127:
                length, start = int.from_bytes(data[2:10], "big"), 10
            if len(data) < start + length:
                break
            if data[0] & 0x0F == 0x1:  # text
                frames.append((bool(data[0] & 0x40), data[start : start + length]))
            data = data[start + length :]
        if len(frames) < wanted:
            chunk = raw.recv(65536)
            assert chunk, "the server closed the socket"
            data += chunk
    return frames


def _inflate(payload: bytes) -> str:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    return (inflater.decompress(payload + b"\x00\x00\xff\xff")).decode()


async def test_a_phone_offering_deflate_gets_its_welcome_compressed_and_small_frames_plain(tmp_path: Path) -> None:
    server = start(tmp_path)
    with contextlib.ExitStack() as stack:
        stack.callback(server.stop)
        room = await create_room(server)
        raw = stack.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT))
        client = ClientProtocol(
            parse_uri(f"ws://127.0.0.1:{server.port}/ws/rooms/{room['room_id']}"),
            extensions=[ClientPerMessageDeflateFactory(client_max_window_bits=True)],  # as Chromium offers
        )
        client.send_request(client.connect())
        raw.sendall(b"".join(client.data_to_send()))
        handshake = b""
        while b"\r\n\r\n" not in handshake:
            handshake += raw.recv(65536)
        head, _, rest = handshake.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101")
        client.receive_data(head + b"\r\n\r\n")
        assert client.handshake_exc is None
        assert [extension.name for extension in client.extensions] == ["permessage-deflate"]
        assert b"server_no_context_takeover" in head and b"client_no_context_takeover" in head

        client.send_text(json.dumps({"type": "hello", "token": None}).encode())
        client.send_text(json.dumps({"type": "ping", "cid": "c1"}).encode())
        raw.sendall(b"".join(client.data_to_send()))
        frames = _frames(raw, rest, 3)  # the welcome, the presence it caused, the pong
        texts = [_inflate(payload) if compressed else payload.decode() for compressed, payload in frames]
        kinds = [json.loads(text)["type"] for text in texts]
        assert kinds[0] == "welcome" and "pong" in kinds
        welcome_compressed, welcome_payload = frames[0]
        assert welcome_compressed and len(welcome_payload) < len(texts[0].encode()) / 2
        for (compressed, _), text in zip(frames[1:], texts[1:], strict=True):
            assert not compressed and len(text) < 1024, "a small frame goes as it is"


def test_a_compressed_frame_is_the_same_bytes_for_every_socket_that_agreed_on_the_window() -> None:
    """What lets a broadcast be compressed once: without context takeover the compressor
    keeps nothing between messages, so every socket's extension writes the same bytes."""
    text = json.dumps({"type": "spectrum", "statements": [{"id": f"s{n}", "mean": n / 3} for n in range(40)]})

    def negotiated() -> PerMessageDeflate:
        return PerMessageDeflate(True, True, CLIENT_WINDOW_BITS, SERVER_WINDOW_BITS)

    first = _EncodedFrame.of(text, negotiated())
    _EncodedFrame.of("{}", None)  # another frame in between clears the cache
    second = _EncodedFrame.of(text, negotiated())
    assert first == second
    assert first[0] & 0x40, "RSV1: compressed"
    length = first[1] & 0x7F
    start = 4 if length == 126 else 2
    assert _inflate(first[start:]) == text
    assert not _EncodedFrame.of("{}", negotiated())[0] & 0x40, "below COMPRESS_FROM_CHARS it goes plain"
