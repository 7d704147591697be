"""The floor: a minimal broadcast server speaking the benchmark's subset of the protocol.

Why it exists: absolute latencies on a shared two-core machine mean little, so the load
script runs the same load against this server in the same run and reports every Samskapa
figure as a ratio to it. It is the least a Python server can do for the same messages:
`websockets.asyncio.server` with `websockets.broadcast` (one frame written to every
transport, no per-connection task), in-memory histograms, no database, no validation models,
no rate limits. It keeps Samskapa's shapes where the load observes them: hello -> welcome
with `seq`, set_score -> score_set (to the sender) + ack with `seq`, spectrum coalesced at
10/s with the same JSON shape (full once the facilitator reveals, else `statements: null`),
add_note -> note_added to everyone + ack, set_results_visible, ping -> pong, presence.

Loopback only: `python -m bench.floor --port 8765 --facilitator-token T`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import signal
import time
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

HOST = "127.0.0.1"  # never any other address: this is a benchmark target, not a server
STATEMENTS = tuple(f"s{i}" for i in range(1, 11))
AREAS = frozenset({"thoughts", "insights", "who", "now", "needed"})
COLORS = frozenset({"yellow", "pink", "blue", "green", "orange", "purple"})
MAX_FRAME_BYTES = 65536  # as Samskapa's ws_max_size


def dumps(message: dict[str, Any]) -> str:
    """Compact JSON, the same bytes pydantic's model_dump_json writes for these shapes."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Histogram:
    """One statement's aggregate, kept incrementally as Samskapa's Aggregate is."""

    __slots__ = ("buckets", "n", "total", "total_squares")

    def __init__(self) -> None:
        self.buckets = [0] * 10
        self.n = self.total = self.total_squares = 0

    def add(self, value: int, sign: int) -> None:
        self.buckets[value - 1] += sign
        self.n += sign
        self.total += sign * value
        self.total_squares += sign * value * value

    def view(self, statement_id: str) -> dict[str, Any]:
        """The statement's figures in Samskapa's StatementSpectrum shape (same keys, same
        order, so the frames are as long): `insight` by sd only (Samskapa also looks for two
        camps), no rounds, no "desired" answers."""
        n = self.n
        mean = median = sd = None
        if n:
            mean = self.total / n
            sd = math.sqrt(max(self.total_squares / n - mean * mean, 0.0))
            median = (self._at_rank((n - 1) // 2) + self._at_rank(n // 2)) / 2
        insight = "too_few" if n < 3 else "agreement" if (sd or 0.0) < 2.0 else "spread"
        return {
            "statement_id": statement_id,
            "n": n,
            "unknown": 0,
            "mean": mean,
            "median": median,
            "sd": sd,
            "histogram": list(self.buckets),
            "insight": insight,
            "previous": None,
            "desired": None,
            "gap": None,
        }

    def _at_rank(self, rank: int) -> int:
        seen = 0
        for offset, count in enumerate(self.buckets):
            seen += count
            if rank < seen:
                return offset + 1
        return 10


class FloorRoom:
    """One room: sequence numbers, aggregates, notes and the coalesced spectrum tick."""

    def __init__(self, room_id: str, facilitator_token: str, spectrum_hz: float) -> None:
        self.room_id = room_id
        self.facilitator_token = facilitator_token
        self.interval = 1.0 / spectrum_hz
        self.seq = 0
        self.last_score_seq = 0
        self.visible = False
        self.connections: set[ServerConnection] = set()
        self.facilitators: set[ServerConnection] = set()
        self.participants: dict[str, str] = {}  # token -> participant id
        self.scores: dict[tuple[str, str], int] = {}
        self.histograms = {statement_id: Histogram() for statement_id in STATEMENTS}
        self.answered: dict[str, int] = {}
        self.voters = self.completed = 0
        self.notes: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._tick_handle: asyncio.TimerHandle | None = None
        self._last_tick = 0.0
        self._spectrum_dirty = self._presence_dirty = False

    # ------------------------------------------------------------ joining

    def join(self, connection: ServerConnection, token: str | None) -> dict[str, Any]:
        """Identify the client and build its welcome (the room registers it right after)."""
        fresh: str | None = None
        if token is not None and token == self.facilitator_token:
            role, participant_id = "facilitator", None
        elif token is not None and token in self.participants:
            role, participant_id = "participant", self.participants[token]
        else:
            role, participant_id = "participant", f"p_{next(self._ids)}"
            fresh = f"t_{participant_id}"
            self.participants[fresh] = participant_id
            self.seq += 1  # participant_joined, as Samskapa counts it
        full = role == "facilitator" or self.visible
        return {
            "type": "welcome",
            "protocol": 1,
            "epoch": "floor",
            "seq": self.seq,
            "server_time": now_iso(),
            "you": {"role": role, "participant_id": participant_id, "token": fresh},
            "snapshot": {
                "room_id": self.room_id,
                "settings": {"results_visible": self.visible},
                "notes": list(self.notes.values()),
                "online": len(self.connections),
                "spectrum": self.spectrum(full),
            },
            "events": None,
        }

    def register(self, connection: ServerConnection, role: str) -> None:
        self.connections.add(connection)
        if role == "facilitator":
            self.facilitators.add(connection)
        self._presence_dirty = True
        self._schedule_tick()

    def leave(self, connection: ServerConnection) -> None:
        self.connections.discard(connection)
        self.facilitators.discard(connection)
        self._presence_dirty = True
        self._schedule_tick()

    # ------------------------------------------------------------ commands

    def set_score(self, participant_id: str, statement_id: str, value: int) -> tuple[str, int]:
        """Apply one score change; returns the score_set frame for the sender and its seq."""
        key = (participant_id, statement_id)
        previous = self.scores.get(key)
        histogram = self.histograms[statement_id]
        if previous is not None:
            histogram.add(previous, -1)
        else:
            before = self.answered.get(participant_id, 0)
            self.answered[participant_id] = before + 1
            self.voters += before == 0
            self.completed += before + 1 == len(STATEMENTS)
        histogram.add(value, 1)
        self.scores[key] = value
        self.seq += 1
        self.last_score_seq = self.seq
        self._spectrum_dirty = True
        self._schedule_tick()
        event = {
            "seq": self.seq,
            "type": "score_set",
            "statement_id": statement_id,
            "kind": "today",
            "round": 1,
            "value": value,
        }
        return dumps(event), self.seq

    def add_note(self, author_id: str, note_id: str, area_id: str, text: str, color: str) -> int:
        """Store the note in memory and broadcast note_added to everyone; returns its seq."""
        stamp = now_iso()
        last = max((n["position"] for n in self.notes.values() if n["area_id"] == area_id), default=0.0)
        note = {
            "id": note_id,
            "area_id": area_id,
            "text": text,
            "color": color,
            "author_id": author_id,
            "author_name": None,
            "statement_id": None,
            "position": float(int(last) + 1),
            "votes": 0,
            "version": 1,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.notes[note_id] = note
        self.seq += 1
        broadcast(self.connections, dumps({"seq": self.seq, "type": "note_added", "note": note}))
        return self.seq

    def set_visible(self, visible: bool) -> int:
        self.seq += 1
        self.visible = visible
        broadcast(self.connections, dumps({"seq": self.seq, "type": "results_visibility", "visible": visible}))
        self._spectrum_dirty = True
        self._schedule_tick()
        return self.seq

    # ------------------------------------------------------------ the tick

    def spectrum(self, full: bool) -> dict[str, Any]:
        statements = None
        overall = None
        if full:
            statements = [self.histograms[s].view(s) for s in STATEMENTS]
            means = [s["mean"] for s in statements if s["mean"] is not None]
            overall = sum(means) / len(means) if means else None
        return {
            "type": "spectrum",
            "seq": self.last_score_seq,
            "round": 1,
            "visible": self.visible,
            "voters": self.voters,
            "completed": self.completed,
            "statements": statements,
            "overall": overall,
            "groups": None,
            "hidden_groups": 0,
        }

    def _schedule_tick(self) -> None:
        if self._tick_handle is not None:
            return
        delay = max(0.0, self._last_tick + self.interval - time.monotonic())
        self._tick_handle = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        """At most `spectrum_hz` times a second, one broadcast per audience."""
        self._tick_handle = None
        self._last_tick = time.monotonic()
        if self._spectrum_dirty:
            self._spectrum_dirty = False
            full = dumps(self.spectrum(True))
            if self.visible:
                broadcast(self.connections, full)
            else:
                broadcast(self.facilitators, full)
                broadcast(self.connections - self.facilitators, dumps(self.spectrum(False)))
        if self._presence_dirty:
            self._presence_dirty = False
            presence = {
                "type": "presence",
                "online": len(self.connections),
                "participants": len(self.participants),
            }
            broadcast(self.connections, dumps(presence))


class Floor:
    """The server: rooms on demand under /ws/rooms/{id}, GET /healthz for the load script."""

    def __init__(self, facilitator_token: str, spectrum_hz: float) -> None:
        self.facilitator_token = facilitator_token
        self.spectrum_hz = spectrum_hz
        self.rooms: dict[str, FloorRoom] = {}

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/healthz":
            return connection.respond(HTTPStatus.OK, "ok\n")
        if not request.path.startswith("/ws/rooms/"):
            return connection.respond(HTTPStatus.NOT_FOUND, "no such path\n")
        return None

    async def handle(self, connection: ServerConnection) -> None:
        room_id = connection.request.path.removeprefix("/ws/rooms/") if connection.request else ""
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = FloorRoom(room_id, self.facilitator_token, self.spectrum_hz)
        hello = json.loads(await connection.recv())
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            await connection.close(4011, "hello first")
            return
        welcome = room.join(connection, hello.get("token"))
        role = welcome["you"]["role"]
        participant_id = welcome["you"]["participant_id"]
        await connection.send(dumps(welcome))
        room.register(connection, role)
        try:
            async for frame in connection:
                await self._command(room, connection, role, participant_id, frame)
        except ConnectionClosed:
            pass
        finally:
            room.leave(connection)

    async def _command(
        self, room: FloorRoom, connection: ServerConnection, role: str, participant_id: str | None, frame: Any
    ) -> None:
        try:
            message = json.loads(frame)
            kind, cid = message["type"], message.get("cid")
        except (ValueError, TypeError, KeyError):
            await connection.send(dumps({"type": "error", "code": "invalid_json", "message": "bad frame"}))
            return
        if kind == "set_score" and participant_id is not None:
            statement_id, value = message.get("statement_id"), message.get("value")
            if statement_id in room.histograms and isinstance(value, int) and 1 <= value <= 10:
                event, seq = room.set_score(participant_id, statement_id, value)
                await connection.send(event)
                await connection.send(dumps({"type": "ack", "cid": cid, "seq": seq}))
                return
        elif kind == "add_note":
            area_id, text, color = message.get("area_id"), message.get("text"), message.get("color", "yellow")
            if area_id in AREAS and isinstance(text, str) and 0 < len(text.strip()) <= 500 and color in COLORS:
                author = participant_id or "facilitator"
                seq = room.add_note(author, f"n_{author}_{cid}", area_id, text.strip(), color)
                await connection.send(dumps({"type": "ack", "cid": cid, "seq": seq}))
                return
        elif kind == "set_results_visible" and role == "facilitator":
            seq = room.set_visible(bool(message.get("visible")))
            await connection.send(dumps({"type": "ack", "cid": cid, "seq": seq}))
            return
        elif kind == "ping":
            await connection.send(dumps({"type": "pong", "cid": cid, "server_time": now_iso()}))
            return
        error = {"type": "error", "code": "invalid_message", "message": f"refused {kind!r}", "cid": cid}
        await connection.send(dumps(error))


async def serve_floor(port: int, facilitator_token: str, spectrum_hz: float, deflate: bool) -> None:
    """Serve until SIGTERM or SIGINT."""
    floor = Floor(facilitator_token, spectrum_hz)
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with serve(
        floor.handle,
        HOST,
        port,
        process_request=floor.process_request,
        compression="deflate" if deflate else None,
        max_size=MAX_FRAME_BYTES,
        backlog=4096,
    ):
        await stop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--facilitator-token", default="floor-facilitator")
    parser.add_argument("--spectrum-hz", type=float, default=10.0)
    parser.add_argument("--deflate", action="store_true", help="accept permessage-deflate")
    args = parser.parse_args(argv)
    asyncio.run(serve_floor(args.port, args.facilitator_token, args.spectrum_hz, args.deflate))


if __name__ == "__main__":
    main()
