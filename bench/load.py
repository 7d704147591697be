"""Load benchmark of one live room: N participants, Samskapa against a floor, same run.

    .venv/bin/python -m bench.load --profile storm --participants 500,1000 --duration 20
    .venv/bin/python -m bench.load --profile workshop --participants 2000

For each N and each target (Samskapa, then bench.floor) it starts the server as a
subprocess on 127.0.0.1 (Samskapa on SQLite in a temporary directory), creates a room, has
a facilitator reveal the results (so every participant gets the full spectrum, the heavier
realistic case), connects N participants spread over a few worker processes
(bench/clients.py) and plays the profile:

- storm: every participant moves a random slider about twice a second, and about five notes
  a second are written across the room;
- workshop: every participant sets all ten sliders once within the window (60 s by
  default), adjusts one to three of them, and a tenth of them write a note.

It measures, per target: time from a score change until every participant has a spectrum
that includes it (ack seq S is included once a spectrum with seq >= S arrives), note fan-out
time to every participant, set_score ack round trips, server CPU and RSS (psutil on the
server's pid), loopback traffic, and correctness (each note_added exactly once per client,
event seqs strictly increasing, every command acked), then prints Samskapa/floor ratios and
the issue's targets. Bounded: at most 5,000 participants and 120 s of load per run, loopback
only. `--json`/`--markdown` write the result; `--py-spy DIR` profiles the server meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from bench import report
from bench.clients import LoadSpec, WorkerResult, raise_file_limit, worker_main
from bench.servers import (
    HOST,
    Facilitator,
    Sampler,
    Snapshot,
    create_room,
    start_py_spy,
    start_server,
    wait_healthy,
    window_figures,
)

MAX_PARTICIPANTS = 5000
MAX_DURATION = 120.0
DEFAULT_DURATION = {"storm": 20.0, "workshop": 60.0}
TARGETS = ("samskapa", "floor")


@dataclass(frozen=True)
class Options:
    profile: str
    participants: tuple[int, ...]
    duration: float
    targets: tuple[str, ...]
    workers: int | None
    deflate: bool
    seed: int
    drain: float
    moves_per_second: float
    notes_per_second: float
    note_fraction: float
    py_spy: Path | None
    repeat: int = 1
    both_deflate: bool = False  # run every N and target without, then with, permessage-deflate
    quiet_wait: float = 60.0
    retry_if_busy: float = 60.0
    server_env: tuple[tuple[str, str], ...] = ()  # extra SAMSKAPA_* settings for Samskapa
    uvicorn_ws: str | None = None
    switch_interval: float | None = None

    @property
    def variant(self) -> dict[str, Any] | None:
        """How Samskapa is started differently from `samskapa serve`, or None."""
        if not (self.deflate or self.uvicorn_ws or self.switch_interval):
            return None
        return {"deflate": self.deflate, "ws": self.uvicorn_ws, "switch_interval": self.switch_interval}

    def describe_experiment(self) -> str:
        """The Samskapa-only changes of this run, for the report ('' for none)."""
        parts = [f"uvicorn ws={self.uvicorn_ws}"] if self.uvicorn_ws else []
        parts += [f"switch interval {self.switch_interval} s"] if self.switch_interval else []
        parts += [f"SAMSKAPA_{key}={value}" for key, value in self.server_env]
        return ", ".join(parts)


# ---------------------------------------------------------------- one run


def auto_workers(participants: int) -> int:
    """About 500 clients per worker, at most one per core plus one, at least one."""
    return max(1, min((os.cpu_count() or 1) + 1, math.ceil(participants / 500)))


def _receive(pipe: Connection, timeout: float) -> tuple[Any, ...]:
    if not pipe.poll(timeout):
        raise TimeoutError(f"no word from a worker in {timeout:.0f} s")
    message: tuple[Any, ...] = pipe.recv()
    if message[0] == "failed":
        raise RuntimeError(f"a worker failed: {message[1]}")
    return message


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def run_once(target: str, participants: int, options: Options, repeat: int = 0) -> report.Metrics:
    """Start `target`, put `participants` in one room, play the profile, measure, stop."""
    floor_token = secrets.token_hex(16)
    count = options.workers or auto_workers(participants)
    with tempfile.TemporaryDirectory(prefix=f"samskapa-bench-{target}-") as tmp:
        server = start_server(
            target,
            Path(tmp),
            participants,
            floor_token,
            deflate=options.deflate,
            variant=options.variant if target == "samskapa" else None,
            server_env=options.server_env if target == "samskapa" else (),
        )
        processes: list[multiprocessing.process.BaseProcess] = []
        pipes: list[Connection] = []
        facilitator: Facilitator | None = None
        sampler: Sampler | None = None
        try:
            await asyncio.to_thread(wait_healthy, server)
            room_id, token = await asyncio.to_thread(create_room, server, floor_token)
            url = f"ws://{HOST}:{server.port}/ws/rooms/{room_id}"
            facilitator = await Facilitator.reveal(url, token, options.deflate)
            sampler = Sampler(server.process.pid)
            await asyncio.sleep(0.5)
            rss_base = sampler.rss()
            spec = LoadSpec(
                url=url,
                profile=options.profile,
                participants=participants,
                duration=options.duration,
                seed=options.seed,
                moves_per_second=options.moves_per_second,
                notes_per_second=options.notes_per_second,
                note_fraction=options.note_fraction,
                deflate=options.deflate,
                drain=options.drain,
            )
            context = multiprocessing.get_context("spawn")
            shares = [participants // count + (i < participants % count) for i in range(count)]
            first = 0
            for index, share in enumerate(shares):
                parent, child = context.Pipe()
                process: multiprocessing.process.BaseProcess = context.Process(
                    target=worker_main, args=(spec, index, first, share, child), daemon=True
                )
                process.start()
                child.close()
                processes.append(process)
                pipes.append(parent)
                first += share
            connect_budget = 90 + participants / 10
            started = time.monotonic()
            await asyncio.gather(*(asyncio.to_thread(_receive, pipe, connect_budget) for pipe in pipes))
            connect_wall = time.monotonic() - started
            await asyncio.sleep(1.0)  # let the join presence ticks go out
            rss_connected = sampler.rss()
            start = time.monotonic() + 1.0
            for pipe in pipes:
                pipe.send(("go", start))
            await _sleep_until(start)
            watched = [psutil.Process(process.pid) for process in processes if process.pid is not None]
            before = Snapshot.take(sampler.process, watched)
            spy = None
            if options.py_spy is not None:
                deflate = "-deflate" if options.deflate else ""
                name = f"{target}-{options.profile}-{participants}{deflate}-r{repeat}.txt"
                spy = start_py_spy(server.process.pid, options.duration, options.py_spy / name)
            await _sleep_until(start + options.duration)
            after = Snapshot.take(sampler.process, watched)
            budget = LoadSpec.max_drain + 60
            messages = await asyncio.gather(*(asyncio.to_thread(_receive, pipe, budget) for pipe in pipes))
            results: list[WorkerResult] = [message[1] for message in messages]
            if spy is not None:
                await asyncio.to_thread(spy.wait, 30)
        except BaseException:
            print(f"{target} server log (tail):\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            if sampler is not None:
                sampler.stop()
            if facilitator is not None:
                await facilitator.close()
            for pipe in pipes:
                with contextlib.suppress(OSError):
                    pipe.send(("stop",))
            for process in processes:
                await asyncio.to_thread(process.join, 30)
                if process.is_alive():
                    process.terminate()
            server.stop()
    metrics = report.merge(results)
    peak = sampler.peak
    connected = max(1, metrics["connected"])
    metrics.update(
        target=target,
        profile=options.profile,
        participants=participants,
        duration=options.duration,
        deflate=options.deflate,
        experiment=options.describe_experiment() if target == "samskapa" else "",
        workers=count,
        connect_wall_s=round(connect_wall, 2),
        **window_figures(before, after),
        rss_base_mb=round(rss_base / 2**20, 1),
        rss_connected_mb=round(rss_connected / 2**20, 1),
        rss_peak_mb=round(peak / 2**20, 1),
        rss_kb_per_participant=round((peak - rss_base) / 1024 / connected, 1),
        rss_total_kb_per_participant=round(peak / 1024 / connected, 1),
    )
    return metrics


# ---------------------------------------------------------------- the command


def parse_args(argv: Sequence[str] | None) -> tuple[Options, Path | None, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--profile", choices=("storm", "workshop"), default="storm")
    parser.add_argument(
        "--participants", default="500", help="N, or several separated by commas (run one after another)"
    )
    parser.add_argument(
        "--duration",
        type=float,
        help="seconds of load; default 20 for storm, 60 (the spec's window) for workshop",
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help="samskapa, floor or both")
    parser.add_argument("--workers", type=int, help="load-generator processes (default: ~500 clients each)")
    parser.add_argument(
        "--deflate",
        choices=("off", "on", "both"),
        default="off",
        help="permessage-deflate: clients offer it and both servers accept it; 'both' runs each way",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per target and N, alternating order; medians are reported"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--retry-if-busy",
        type=float,
        default=60.0,
        help="redo a run (once) when the rest of the machine used more than this %% of a core during it (0: never)",
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=60.0, help="seconds to wait for an idle machine before each run (0: none)"
    )
    experiments = parser.add_argument_group("experiments (Samskapa only; see docs/performance.md)")
    experiments.add_argument(
        "--server-env", action="append", default=[], metavar="KEY=VALUE", help="e.g. SCORE_FLUSH_SECONDS=1"
    )
    experiments.add_argument("--uvicorn-ws", choices=("websockets-sansio", "websockets", "wsproto"))
    experiments.add_argument("--switch-interval", type=float, help="sys.setswitchinterval in the server")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds to listen after the last command")
    parser.add_argument("--moves-per-second", type=float, default=2.0, help="storm: per participant")
    parser.add_argument("--notes-per-second", type=float, default=5.0, help="storm: across the room")
    parser.add_argument("--note-fraction", type=float, default=0.1, help="workshop: participants who write")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the tables as markdown here")
    parser.add_argument("--py-spy", type=Path, help="profile the server with py-spy into this directory")
    args = parser.parse_args(argv)
    participants = tuple(int(part) for part in str(args.participants).split(",") if part.strip())
    targets = tuple(part.strip() for part in str(args.targets).split(",") if part.strip())
    duration = float(args.duration or DEFAULT_DURATION[args.profile])
    if not participants or any(not 1 <= n <= MAX_PARTICIPANTS for n in participants):
        parser.error(f"participants must be between 1 and {MAX_PARTICIPANTS}")
    if not 1 <= duration <= MAX_DURATION:
        parser.error(f"duration must be between 1 and {MAX_DURATION:.0f} seconds")
    if not targets or any(target not in TARGETS for target in targets):
        parser.error(f"targets are among {', '.join(TARGETS)}")
    if not 1 <= args.repeat <= 5:
        parser.error("repeat must be between 1 and 5")
    if args.workers is not None and not 1 <= args.workers <= 16:
        parser.error("workers must be between 1 and 16")
    options = Options(
        profile=args.profile,
        participants=participants,
        duration=duration,
        targets=targets,
        workers=args.workers,
        deflate=args.deflate == "on",
        both_deflate=args.deflate == "both",
        seed=args.seed,
        drain=min(max(args.drain, 0.5), 30.0),
        moves_per_second=args.moves_per_second,
        notes_per_second=args.notes_per_second,
        note_fraction=args.note_fraction,
        py_spy=args.py_spy,
        repeat=args.repeat,
        quiet_wait=min(max(args.quiet_wait, 0.0), 300.0),
        retry_if_busy=args.retry_if_busy,
        server_env=tuple(_setting(item, parser) for item in args.server_env),
        uvicorn_ws=args.uvicorn_ws,
        switch_interval=args.switch_interval,
    )
    return options, args.json, args.markdown


def wait_for_quiet(limit_seconds: float, busy_percent: float = 25.0) -> float:
    """Wait (at most `limit_seconds`) until the machine is nearly idle; returns how busy it
    was (% of one core) in the last second looked at.

    Why: the project's machines are shared; another session's browser tests can take both
    cores for a minute. Starting a run in such a burst measures them, not Samskapa."""
    deadline = time.monotonic() + limit_seconds
    while True:
        busy = float(psutil.cpu_percent(interval=1.0)) * (os.cpu_count() or 1)
        if busy <= busy_percent or time.monotonic() >= deadline:
            return round(busy, 1)
        print(f"    machine busy ({busy:.0f}% of a core), waiting ...", file=sys.stderr)
        time.sleep(2.0)


def measure(target: str, participants: int, options: Options, repeat: int) -> report.Metrics:
    """One run, redone once if something else took a large share of the machine meanwhile."""
    for attempt in (1, 2):
        busy_before = wait_for_quiet(options.quiet_wait)
        metrics = asyncio.run(run_once(target, participants, options, repeat))
        metrics.update(repeat=repeat, busy_before_percent=busy_before, attempt=attempt)
        shown = ("connected", "spectrum_p99_ms", "note_p99_ms", "cpu_percent", "other_cpu_percent")
        print(f"    { ({k: metrics[k] for k in shown}) }", file=sys.stderr)
        if options.retry_if_busy <= 0 or metrics["other_cpu_percent"] <= options.retry_if_busy:
            break
        if attempt == 1:
            print("    the rest of the machine was busy during the load; once more", file=sys.stderr)
    return metrics


def _setting(item: str, parser: argparse.ArgumentParser) -> tuple[str, str]:
    key, equals, value = item.partition("=")
    if not equals or not key.replace("_", "").isalnum():
        parser.error(f"--server-env takes KEY=VALUE, not {item!r}")
    return key.upper().removeprefix("SAMSKAPA_"), value


def main(argv: Sequence[str] | None = None) -> int:
    options, json_path, markdown_path = parse_args(argv)
    raise_file_limit(max(options.participants) * 2 + 512)
    machine = report.machine_info()
    command = "python -m bench.load " + " ".join(sys.argv[1:] if argv is None else argv)
    runs: list[report.Metrics] = []
    modes = (False, True) if options.both_deflate else (options.deflate,)
    for participants in options.participants:
        for repeat in range(options.repeat):
            for deflate in modes:
                # Alternate which target goes first, so drift in the machine's load is shared.
                order = options.targets if repeat % 2 == 0 else tuple(reversed(options.targets))
                for target in order:
                    label = f"{target}: {options.profile}, N={participants}, {options.duration:.0f} s"
                    label += ", deflate" if deflate else ""
                    print(f"--- {label}, repeat {repeat + 1}/{options.repeat}", file=sys.stderr)
                    runs.append(measure(target, participants, replace(options, deflate=deflate), repeat))
    text = report.markdown(runs, machine, command)
    print(text)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        rows = report.summarize(runs)
        payload = {
            "command": command,
            "machine": machine,
            "summary": rows,
            "targets": report.verdicts(rows),
            "runs": runs,
        }
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
    if markdown_path is not None:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
