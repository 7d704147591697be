"""Export and import benchmark: a board with 500 participants' scores and 1,000 notes.

    .venv/bin/python -m bench.exports [--participants 500 --notes 1000 --repeat 5]

The board is made as a live room makes it, without a server: a `Board` (seeded random, the
default template) that every participant joins, where each grades all ten statements
(about one answer in twenty "don't know"), the results are revealed and notes are written
in the five areas and voted for, each through the board's own decide/evolve. It is then
exported by the app's own `snapshot` (schema_version 3: figures, notes and the answers
sealed for the room and its facilitator token) with the key of a real `samskapa serve` on
SQLite, imported there with that token, so that every answer is restored (timed), and
exported in each format through the HTTP API (timed). Loopback only; each step is repeated
and the median and worst are reported. Target (issue 5): each under 2 s on the project's
2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from app import protocol as p
from app.board import Actor, Board, Emitted
from app.db import make_engine
from app.export_answers import seal_answers
from app.sealing import Sealer
from app.snapshot import BoardExport, snapshot
from app.store import Store
from app.templates import builtin_templates
from app.tokens import hash_token

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 2.0
ROOM_ID = "benchmark-room"
# The name under which a deployment keeps the key that seals exports (app/main.py).
SEALING_KEY = "export-groups"
FACILITATOR = Actor("facilitator", None)
COLORS: list[p.Color] = ["yellow", "pink", "blue", "green"]
WORDS = [
    "värde",
    "brukare",
    "tid",
    "möte",
    "rutin",
    "ledarskap",
    "kompetens",
    "samarbete",
    "fråga",
    "idé",
    "prova",
    "lyssna",
]


def _answer(rng: random.Random) -> p.Answer:
    """Mostly a score; about one answer in twenty is "don't know", as in a real group."""
    return "unknown" if rng.random() < 0.05 else rng.randint(1, 10)


@dataclass(frozen=True)
class Generated:
    """The export, and what was done to make it (for a test to check the figures against)."""

    document: dict[str, Any]  # the JSON export, schema_version 3
    answers: dict[tuple[str, str], p.Answer]  # (participant, statement) -> the answer given


class _Room:
    """A board driven as a live room drives it: decide, then evolve every event."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.seq = 0

    def do(self, command: p.Command, actor: Actor, now: datetime) -> list[p.Event]:
        return self._apply(self.board.decide(command, actor, now), actor)

    def join(self, participant_id: str, name: str | None) -> None:
        self._apply(self.board.decide_join(participant_id, name), Actor("participant", participant_id))

    def _apply(self, emitted: list[Emitted], actor: Actor) -> list[p.Event]:
        for event, _audience in emitted:
            self.board.evolve(event, actor)
            self.seq += 1
        return [event for event, _audience in emitted]


def make_export(participants: int, notes: int, sealer: Sealer, facilitator_token: str, seed: int = 1) -> Generated:
    """A realistic export of a big board, made by the app's own export from a board the
    live protocol made, its answers sealed by `sealer` for `facilitator_token`: so that the
    deployment holding that key restores them for whoever sends that token. Checked
    against the export model here, so that a change of the format fails with its field
    named instead of as an HTTP 422 half-way through the benchmark."""
    rng = random.Random(seed)
    template = builtin_templates()["tjanstelogik"]
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    room = _Room(
        Board(
            room_id=ROOM_ID,
            template=template,
            config=p.RoomConfig(title="Benchmark: stor konferens", language="sv"),
            created_at=now,
            expires_at=now + timedelta(days=30),
            flow=p.RoomFlow(phase="grade"),
        )
    )
    ids = [f"p{i}" for i in range(1, participants + 1)]
    for number, participant_id in enumerate(ids, start=1):
        room.join(participant_id, f"Deltagare {number}" if number % 2 else None)
    answers: dict[tuple[str, str], p.Answer] = {}
    for participant_id in ids:
        for statement_id in template.statement_ids():
            answer = answers[(participant_id, statement_id)] = _answer(rng)
            grade = p.SetScore(type="set_score", cid=f"s-{statement_id}", statement_id=statement_id, value=answer)
            room.do(grade, Actor("participant", participant_id), now)
    room.do(p.SetResultsVisible(type="set_results_visible", cid="reveal", visible=True), FACILITATOR, now)
    room.do(p.SetPhase(type="set_phase", cid="document", phase="document"), FACILITATOR, now)
    authors = ids[: max(2, participants // 4)]
    area_ids = template.area_ids()
    for index in range(notes):
        author = Actor("participant", rng.choice(authors))
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))[:500].strip()
        area_id = area_ids[index % len(area_ids)]
        written = now + timedelta(seconds=index)
        added = p.AddNote(type="add_note", cid=f"n{index}", area_id=area_id, text=text, color=rng.choice(COLORS))
        (note_added,) = room.do(added, author, written)
        assert isinstance(note_added, p.NoteAdded)
        note_id = note_added.note.id
        for voter in rng.sample(ids, min(len(ids), rng.randint(0, 5))):
            voted = p.VoteNote(type="vote_note", cid=f"v{index}", note_id=note_id, voted=True)
            room.do(voted, Actor("participant", voter), written)
    sealed_for_the_room = partial(seal_answers, sealer, ROOM_ID, hash_token(facilitator_token))
    exported = snapshot(room.board, room.seq, now + timedelta(seconds=notes), sealed_for_the_room)
    document = exported.model_dump(mode="json")
    BoardExport.model_validate(document)
    return Generated(document, answers)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[float, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
    return time.perf_counter() - started, body


def _start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """A server on SQLite in `data_dir`: the process, its address and its database's URL."""
    port = _free_port()
    base = f"http://{HOST}:{port}"
    database_url = f"sqlite:///{data_dir / 'samskapa.db'}"
    env = {
        **os.environ,
        "SAMSKAPA_DATA_DIR": str(data_dir),
        "SAMSKAPA_PUBLIC_URL": base,
        "SAMSKAPA_DATABASE_URL": database_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _request(f"{base}/healthz")
            return process, base, database_url
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def _sealer_of(database_url: str) -> Sealer:
    """The deployment's own sealing key, which the server made when it started: a file
    sealed with it is one this deployment exported."""

    def never_made() -> bytes:
        raise RuntimeError("the server has no sealing key yet")

    store = Store(make_engine(database_url))
    try:
        return Sealer(store.server_key(SEALING_KEY, never_made))
    finally:
        store.close()


def run(participants: int, notes: int, repeat: int) -> dict[str, dict[str, float]]:
    results: dict[str, list[float]] = {}
    facilitator_token = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as data_dir:
        process, base, database_url = _start_server(Path(data_dir))
        try:
            generated = make_export(participants, notes, _sealer_of(database_url), facilitator_token)
            document = json.dumps(generated.document).encode()
            proof = {"Content-Type": "application/json", "Authorization": f"Bearer {facilitator_token}"}
            room: dict[str, Any] = {}
            for _ in range(repeat):
                took, body = _request(f"{base}/api/rooms/import", document, proof)
                results.setdefault("import", []).append(took)
                room = json.loads(body)
                if (room["restored"], room["groups_not_restored"], room["answers_not_restored"]) != ("answers", 0, 0):
                    raise RuntimeError(f"the import did not restore every answer: {body[:300]!r}")
            auth = {"Authorization": f"Bearer {room['facilitator_token']}"}
            for fmt in ("json", "csv", "md", "html"):
                for _ in range(repeat):
                    took, _body = _request(f"{base}/api/rooms/{room['room_id']}/export?format={fmt}", headers=auth)
                    results.setdefault(f"export {fmt}", []).append(took)
        finally:
            process.terminate()
            process.wait(10)
    return {
        name: {"median": statistics.median(times), "worst": max(times), "first": times[0]}
        for name, times in results.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    figures = run(min(args.participants, 5000), min(args.notes, 5000), max(1, min(args.repeat, 20)))
    print(f"{args.participants} participants x 10 scores, {args.notes} notes; {args.repeat} runs each\n")
    print("| step | median s | worst s | first s | under 2 s |")
    print("|---|---:|---:|---:|---|")
    for name, row in figures.items():
        ok = "yes" if row["worst"] < TARGET_SECONDS else "NO"
        print(f"| {name} | {row['median']:.3f} | {row['worst']:.3f} | {row['first']:.3f} | {ok} |")


if __name__ == "__main__":
    main()
