"""Export and import benchmark: a board with 500 participants' scores and 1,000 notes.

    .venv/bin/python -m bench.exports [--participants 500 --notes 1000 --repeat 5]

The board is made as a JSON export (seeded random, the default template, every participant
grading all ten statements, notes spread over the five areas with votes), imported into a
real `samskapa serve` on SQLite (timed), then exported in each format through the HTTP API
(timed). Loopback only; each step is repeated and the median and worst are reported.
Target (issue 5): each under 2 s on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.snapshot import BoardExport
from app.templates import builtin_templates

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 2.0
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


def _answer(rng: random.Random) -> int | str:
    """Mostly a score; about one answer in twenty is "don't know", as in a real group."""
    return "unknown" if rng.random() < 0.05 else rng.randint(1, 10)


def make_export(participants: int, notes: int, seed: int = 1) -> dict[str, Any]:
    """A realistic schema_version 2 document built without a server, checked against the
    app's own export model here, so that a change of the format fails with its field named
    instead of as an HTTP 422 half-way through the benchmark."""
    rng = random.Random(seed)
    template = builtin_templates()["tjanstelogik"]
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    ids = [f"r{i}" for i in range(1, participants + 1)]
    # A benchmark file from nowhere: its seals open on no server, as a file from elsewhere.
    respondents = [{"id": rid, "group_seal": "x" * 123} for rid in ids]
    authors = [f"a{i}" for i in range(1, max(2, participants // 4) + 1)]
    voter_ids = [f"v{i}" for i in range(1, participants + 1)]
    statement_ids = template.statement_ids()
    answered = {(rid, sid): _answer(rng) for rid in ids for sid in statement_ids}
    scores = [
        {"respondent": rid, "round": 1, "kind": "today", "statement_id": sid, "value": answer}
        for (rid, sid), answer in answered.items()
    ]
    aggregates: list[dict[str, Any]] = []
    means: list[float] = []
    for sid in statement_ids:
        answers = [answered[(pid, sid)] for pid in ids]
        values = [answer for answer in answers if isinstance(answer, int)]
        means.append(statistics.fmean(values))
        histogram = [values.count(v) for v in range(1, 11)]
        aggregates.append(
            {
                "round": 1,
                "kind": "today",
                "statement_id": sid,
                "n": len(values),
                "unknown": len(answers) - len(values),
                "mean": means[-1],
                "median": statistics.median(values),
                "sd": statistics.pstdev(values),
                "histogram": histogram,
            }
        )
    area_ids = template.area_ids()
    per_area: dict[str, int] = dict.fromkeys(area_ids, 0)
    exported_notes = []
    for index in range(notes):
        area = area_ids[index % len(area_ids)]
        voters = rng.sample(voter_ids, rng.randint(0, 5))
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))[:500]
        exported_notes.append(
            {
                "id": f"n{index}",
                "area_id": area,
                "order": per_area[area],
                "text": text,
                "color": rng.choice(["yellow", "pink", "blue", "green"]),
                "author": (author := rng.choice(authors)),
                "author_name": f"Deltagare {author[1:]}" if int(author[1:]) % 2 else None,
                "voters": sorted(voters),
                "votes": len(voters),
                "version": 1,
                "created_at": (now + timedelta(seconds=index)).isoformat(),
                "updated_at": (now + timedelta(seconds=index)).isoformat(),
            }
        )
        per_area[area] += 1
    document = {
        "schema_version": 2,
        "exported_at": now.isoformat(),
        "room": {
            "title": "Benchmark: stor konferens",
            "language": "sv",
            "phase": "document",
            "results_visible": True,
            "voting_locked": False,
            "timer_ends_at": None,
            "groups": [],
            "round": 1,
            "created_at": now.isoformat(),
            "seq": 0,
        },
        "template": template.model_dump(mode="json"),
        "participants": participants,
        "respondents": respondents,
        "scores": scores,
        "aggregates": aggregates,
        "overall": statistics.fmean(means),
        "voters": participants,
        "notes": exported_notes,
    }
    BoardExport.model_validate(document)
    return document


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


def _start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    base = f"http://{HOST}:{port}"
    env = {**os.environ, "SAMSKAPA_DATA_DIR": str(data_dir), "SAMSKAPA_PUBLIC_URL": base, "SAMSKAPA_DATABASE_URL": ""}
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
            return process, base
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def run(participants: int, notes: int, repeat: int) -> dict[str, dict[str, float]]:
    document = json.dumps(make_export(participants, notes)).encode()
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        process, base = _start_server(Path(data_dir))
        try:
            room: dict[str, Any] = {}
            for _ in range(repeat):
                took, body = _request(f"{base}/api/rooms/import", document, {"Content-Type": "application/json"})
                results.setdefault("import", []).append(took)
                room = json.loads(body)
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
