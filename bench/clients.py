"""The load generator's worker: one process, one asyncio loop, a slice of the participants.

Why a separate process per slice: one Python process cannot read the ~30,000 frames a
second that 2,000 clients receive at 10 spectra a second while the server needs the other
core, so `bench.load` spreads the participants over a few of these. Each is lean on
purpose: frames are received as bytes and never decoded or kept; the few fields measured
(`seq`, the ack's `cid`) are sliced out of the known prefix of Samskapa's compact JSON.
What is kept is aggregated per worker (latest arrival per spectrum seq, per note seq), so
the parent merges a few thousand numbers, not every frame.

Timestamps are `time.monotonic()`: CLOCK_MONOTONIC is one clock for every process on Linux,
so a send time taken here and a receive time taken in another worker compare directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.protocol import SEND_EOF, State
from websockets.uri import WebSocketURI, parse_uri

SPECTRUM = b'{"type":"spectrum","seq":'
EVENT = b'{"seq":'
ACK = b'{"type":"ack","cid":"'
ERROR = b'{"type":"error"'
NOTE_ADDED = b"note_added"
SPECTRUM_LEN, EVENT_LEN, ACK_LEN = len(SPECTRUM), len(EVENT), len(ACK)
STATEMENTS = tuple(f"s{i}" for i in range(1, 11))
AREAS = ("thoughts", "insights", "who", "now", "needed")
# asyncio's socket transport reads with sock.recv(256 KiB): on CPython 3.11 that large
# allocation (mmap, then shrink) costs ~25 us per read, more than the read itself. The
# clients read small frames, so 64 KiB reads make the generator several times cheaper.
READ_BYTES = 65536
QUIET_SECONDS = 1.0  # no frame for this long after the load: the server has delivered everything
BEHIND_QUIET_SECONDS = 5.0  # ... unless commands still wait for their ack: a server far behind pauses longer

# One scheduled command: (seconds after start, client index in this worker, statement or
# "" for a note, value or 0).
Command = tuple[float, int, str, int]


@dataclass(frozen=True)
class LoadSpec:
    """What every worker needs to build its share of the load (picklable)."""

    urls: tuple[str, ...]  # the room on each server; participant i connects to urls[i % len(urls)]
    profile: str  # "storm" or "workshop"
    participants: int  # N in the room
    duration: float  # seconds of load (the workshop's window)
    seed: int = 1
    moves_per_second: float = 2.0  # storm: per participant
    notes_per_second: float = 5.0  # storm: across the room
    note_fraction: float = 0.1  # workshop: share of participants who write a note
    deflate: bool = False  # offer permessage-deflate
    drain: float = 3.0  # seconds to keep listening after the last command, at least
    max_drain: float = 30.0  # ... and at most, while frames still arrive (a server behind)
    connect_concurrency: int = 25


@dataclass
class WorkerResult:
    """What one worker measured; the parent merges these (all picklable builtins)."""

    index: int
    clients: int
    connected: int = 0
    connect_seconds: float = 0.0
    connect_errors: list[str] = field(default_factory=list)
    connected_per_url: list[int] = field(default_factory=list)  # in LoadSpec.urls' order
    score_acks: list[tuple[int, float]] = field(default_factory=list)  # (ack seq, sent at)
    note_acks: list[tuple[int, float]] = field(default_factory=list)
    score_rtts: list[float] = field(default_factory=list)  # set_score -> its ack
    note_rtts: list[float] = field(default_factory=list)  # add_note -> its ack (after the commit)
    spectrum_last: dict[int, float] = field(default_factory=dict)  # spectrum seq -> latest arrival
    spectrum_count: dict[int, int] = field(default_factory=dict)  # spectrum seq -> clients that got it
    note_last: dict[int, float] = field(default_factory=dict)
    note_count: dict[int, int] = field(default_factory=dict)
    sent_scores: int = 0
    sent_notes: int = 0
    unacked: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0  # an event seq received twice by one client
    out_of_order: int = 0  # an event or spectrum seq lower than one already seen
    disconnects: dict[int, int] = field(default_factory=dict)  # close code -> clients
    frames: int = 0
    lateness_p99: float = 0.0  # how late commands left vs plan: the generator's own health
    lateness_max: float = 0.0
    drain_seconds: float = 0.0  # how long after the load the server still sent frames


class Client(asyncio.Protocol):
    """One participant's socket on websockets' Sans-I/O `ClientProtocol`.

    Why not `websockets.asyncio.client.connect`: its per-frame machinery (an assembler
    queue, a future and a task wake-up for every `recv`) was most of the generator's CPU.
    Here each frame is handled inside `data_received`, synchronously, with the time the
    bytes arrived; the library still does the handshake, framing, masking, pings and close.
    """

    def __init__(self, worker: Worker, uri: WebSocketURI) -> None:
        deflate = enable_client_permessage_deflate(None) if worker.spec.deflate else None
        self.protocol = ClientProtocol(uri, extensions=deflate, max_size=2**20)
        self.worker = worker
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.welcomed: asyncio.Future[int] = loop.create_future()
        self.closed: asyncio.Future[int] = loop.create_future()
        self.last_event = 0
        self.last_spectrum = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        small_reads(transport)
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    frame = event.data if isinstance(event.data, bytes) else bytes(event.data)
                    if self.welcomed.done():
                        self.worker.on_frame(self, frame, now)
                    else:
                        self._before_welcome(frame)
            elif not self.opened.done():  # the handshake response
                if protocol.handshake_exc is not None:
                    self.opened.set_exception(protocol.handshake_exc)
                else:
                    self.opened.set_result(None)
        self._flush()  # pongs, and the reply to a close

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.receive_eof()
        code = self.protocol.close_code or 1006
        for future in (self.opened, self.welcomed):
            if not future.done():
                future.set_exception(ConnectionError(f"closed ({code})"))
        if not self.closed.done():
            self.closed.set_result(code)
            self.worker.on_closed(code)

    # ours

    def send_text(self, text: str) -> None:
        # CLOSING too: the server's close frame has arrived but the socket is not gone yet.
        if self.closed.done() or self.protocol.state is not State.OPEN:
            raise ConnectionError("closed")
        self.protocol.send_text(text.encode())
        self._flush()

    async def close(self) -> None:
        """Closing handshake, bounded; the transport is aborted if the server lingers."""
        if not self.closed.done() and self.transport is not None:
            with contextlib.suppress(Exception):
                self.protocol.send_close(1000)
                self._flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.closed), 5)
        if self.transport is not None:
            self.transport.abort()

    def _before_welcome(self, frame: bytes) -> None:
        if frame.startswith(b'{"type":"welcome"'):
            self.last_event = int(json.loads(frame)["seq"])
            self.welcomed.set_result(self.last_event)
        elif frame.startswith(ERROR):
            self.welcomed.set_exception(ConnectionError(frame[:200].decode(errors="replace")))

    def _flush(self) -> None:
        writes = self.protocol.data_to_send()
        if writes and self.transport is not None:
            if writes[-1] == SEND_EOF:  # the protocol asks to half-close after a close
                writes.pop()
                self.transport.write(b"".join(writes))
                if self.transport.can_write_eof():
                    self.transport.write_eof()
            else:
                self.transport.write(b"".join(writes))


class Worker:
    def __init__(self, spec: LoadSpec, index: int, first: int, count: int) -> None:
        self.spec = spec
        self.result = WorkerResult(index=index, clients=count)
        self.first = first  # global index of this worker's first participant
        self.count = count
        self.clients: list[Client] = []
        self.pending: dict[bytes, tuple[bool, float]] = {}  # cid -> (is note, sent at)
        self.stopping = False
        self.last_frame = 0.0

    # ------------------------------------------------------------ connecting

    async def connect_all(self, timeout: float) -> None:
        started = time.monotonic()
        gate = asyncio.Semaphore(self.spec.connect_concurrency)
        slots: list[Client | None] = [None] * self.count
        uris = [parse_uri(url) for url in self.spec.urls]

        async def one(i: int) -> None:
            async with gate:
                try:
                    slots[i] = await self._connect(uris[self.server_of(i)])
                except Exception as error:
                    self.result.connect_errors.append(f"{type(error).__name__}: {error}"[:200])

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(one(i) for i in range(self.count)))
        self.clients = [client for client in slots if client is not None]
        self.result.connected = len(self.clients)
        self.result.connected_per_url = [
            sum(1 for i, client in enumerate(slots) if client is not None and self.server_of(i) == server)
            for server in range(len(uris))
        ]
        self.result.connect_seconds = time.monotonic() - started

    def server_of(self, local: int) -> int:
        """Which of the spec's urls this worker's participant `local` uses: by the global
        index, so the split over the servers does not depend on how many workers there are."""
        return (self.first + local) % len(self.spec.urls)

    async def _connect(self, uri: WebSocketURI) -> Client:
        loop = asyncio.get_running_loop()
        _, client = await asyncio.wait_for(loop.create_connection(lambda: Client(self, uri), uri.host, uri.port), 60)
        try:
            async with asyncio.timeout(60):
                await client.opened
                client.send_text('{"type":"hello","token":null}')
                await client.welcomed
            return client
        except BaseException:
            if client.transport is not None:
                client.transport.abort()
            raise

    # ------------------------------------------------------------ receiving

    def on_frame(self, client: Client, frame: bytes, now: float) -> None:
        """The hot path: runs once per frame per client, so it slices instead of parsing."""
        result = self.result
        result.frames += 1
        self.last_frame = now
        if frame.startswith(SPECTRUM):
            seq = int(frame[SPECTRUM_LEN : frame.index(b",", SPECTRUM_LEN)])
            if seq > client.last_spectrum:
                client.last_spectrum = seq
                if now > result.spectrum_last.get(seq, 0.0):
                    result.spectrum_last[seq] = now
                result.spectrum_count[seq] = result.spectrum_count.get(seq, 0) + 1
            elif seq < client.last_spectrum:
                result.out_of_order += 1
        elif frame.startswith(EVENT):
            comma = frame.index(b",", EVENT_LEN)
            seq = int(frame[EVENT_LEN:comma])
            if seq <= client.last_event:
                if seq == client.last_event:
                    result.duplicates += 1
                else:
                    result.out_of_order += 1
                return
            client.last_event = seq
            if frame.startswith(NOTE_ADDED, comma + 9):  # ,"type":"note_added"
                if now > result.note_last.get(seq, 0.0):
                    result.note_last[seq] = now
                result.note_count[seq] = result.note_count.get(seq, 0) + 1
        elif frame.startswith(ACK):
            end = frame.index(b'"', ACK_LEN)
            sent = self.pending.pop(frame[ACK_LEN:end], None)
            if sent is not None:
                seq = int(frame[end + 8 : -1])  # ","seq":N}
                (result.note_acks if sent[0] else result.score_acks).append((seq, sent[1]))
                (result.note_rtts if sent[0] else result.score_rtts).append(now - sent[1])
        elif frame.startswith(ERROR):
            error: dict[str, Any] = json.loads(frame)
            reason = str(error.get("code"))
            result.errors[reason] = result.errors.get(reason, 0) + 1
            cid = error.get("cid")
            if isinstance(cid, str):
                self.pending.pop(cid.encode(), None)

    def on_closed(self, code: int) -> None:
        if not self.stopping:
            self.result.disconnects[code] = self.result.disconnects.get(code, 0) + 1

    # ------------------------------------------------------------ sending

    def schedule(self) -> list[Command]:
        """This worker's commands, deterministic for a seed, sorted by time."""
        spec = self.spec
        plan: list[Command] = []
        for local in range(len(self.clients)):
            rng = random.Random(spec.seed * 1_000_003 + self.first + local)
            if spec.profile == "storm":
                t = rng.uniform(0.0, 1.0 / spec.moves_per_second)
                while t < spec.duration:
                    plan.append((t, local, rng.choice(STATEMENTS), rng.randint(1, 10)))
                    t += rng.uniform(0.5, 1.5) / spec.moves_per_second
            else:
                plan.extend(_workshop_participant(rng, local, spec.duration))
        plan.extend(self._notes())
        plan.sort()
        return plan

    def _notes(self) -> list[Command]:
        spec = self.spec
        rng = random.Random(spec.seed * 7_919 + self.first)
        if not self.clients:
            return []
        if spec.profile == "storm":
            # A Poisson process at this worker's share of the room's rate: the sum over
            # workers is the room's rate.
            rate = spec.notes_per_second * len(self.clients) / spec.participants
            notes, t = [], rng.expovariate(rate)
            while t < spec.duration:
                notes.append((t, rng.randrange(len(self.clients)), "", 0))
                t += rng.expovariate(rate)
            return notes
        writers = random.Random(spec.seed).sample(
            range(spec.participants), round(spec.participants * spec.note_fraction)
        )
        mine = [g - self.first for g in writers if 0 <= g - self.first < len(self.clients)]
        return [(rng.uniform(0.1, 0.95) * spec.duration, local, "", 0) for local in mine]

    async def drive(self, start: float) -> None:
        """Send the schedule on time; record how late each command left."""
        plan = self.schedule()
        lateness: list[float] = []
        result = self.result
        for number, (at, local, statement, value) in enumerate(plan):
            delay = start + at - time.monotonic()
            if delay > 0.001:
                await asyncio.sleep(delay)
            client = self.clients[local]
            cid = f"{self.result.index}.{number}"
            if statement:
                frame = f'{{"type":"set_score","cid":"{cid}","statement_id":"{statement}","value":{value}}}'
                result.sent_scores += 1
            else:
                text = f"Note {cid} from participant {self.first + local}"
                frame = f'{{"type":"add_note","cid":"{cid}","area_id":"{AREAS[number % 5]}","text":"{text}"}}'
                result.sent_notes += 1
            sent = time.monotonic()
            lateness.append(sent - start - at)
            self.pending[cid.encode()] = (not statement, sent)
            try:
                client.send_text(frame)
            except ConnectionError:
                self.pending.pop(cid.encode(), None)
        if lateness:
            lateness.sort()
            result.lateness_p99 = lateness[int(0.99 * (len(lateness) - 1))]
            result.lateness_max = lateness[-1]

    async def drain(self, end: float) -> None:
        """Listen until the server has gone quiet: `drain` seconds after the load, then on
        while frames still arrive (at most `max_drain`), so that a server running behind is
        measured as late, and only what never arrives counts as missing. While some of this
        worker's commands are unacknowledged, a second's silence is not taken for the end: a
        server seconds behind (beyond its capacity) can pause that long between bursts."""
        await asyncio.sleep(max(0.0, end + self.spec.drain - time.monotonic()))
        deadline = end + self.spec.max_drain
        while (now := time.monotonic()) < deadline:
            quiet_for = now - self.last_frame
            enough = BEHIND_QUIET_SECONDS if self.pending else QUIET_SECONDS
            if quiet_for >= enough:
                break
            await asyncio.sleep(min(QUIET_SECONDS, enough - quiet_for))
        self.result.drain_seconds = time.monotonic() - end

    async def close_all(self) -> None:
        self.stopping = True
        self.result.unacked = len(self.pending)
        await asyncio.gather(*(client.close() for client in self.clients), return_exceptions=True)


def small_reads(transport: asyncio.BaseTransport) -> None:
    """Read at most READ_BYTES at a time (see READ_BYTES)."""
    if hasattr(transport, "max_size"):
        setattr(transport, "max_size", READ_BYTES)  # noqa: B010 - not in the typed interface


def _workshop_participant(rng: random.Random, local: int, window: float) -> list[Command]:
    """Each participant sets all ten sliders once within the window, then adjusts a few."""
    first_set = {statement: rng.uniform(0.0, 0.9) * window for statement in STATEMENTS}
    plan = [(at, local, statement, rng.randint(1, 10)) for statement, at in first_set.items()]
    for statement in rng.sample(STATEMENTS, rng.randint(1, 3)):
        plan.append((rng.uniform(first_set[statement], window), local, statement, rng.randint(1, 10)))
    return plan


def raise_file_limit(wanted: int) -> None:
    """Each socket is a file descriptor; the default soft limit (often 1024) is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def _run(spec: LoadSpec, index: int, first: int, count: int, pipe: Connection) -> WorkerResult:
    worker = Worker(spec, index, first, count)
    await worker.connect_all(timeout=60 + count / 10)
    pipe.send(("ready", worker.result.connected, worker.result.connect_seconds, worker.result.connect_errors))
    loop = asyncio.get_running_loop()
    message = await loop.run_in_executor(None, pipe.recv)  # ("go", start) or ("stop",)
    if message[0] == "go":
        start: float = message[1]
        await worker.drive(start)
        await worker.drain(start + spec.duration)
    await worker.close_all()
    return worker.result


def worker_main(spec: LoadSpec, index: int, first: int, count: int, pipe: Connection) -> None:
    """Entry point of a worker process (multiprocessing target)."""
    raise_file_limit(count + 256)
    try:
        result = asyncio.run(_run(spec, index, first, count, pipe))
        pipe.send(("result", result))
    except BaseException as error:
        pipe.send(("failed", f"{type(error).__name__}: {error}"))
        raise
    finally:
        pipe.close()
