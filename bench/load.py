"""Load benchmark of one live room: N participants, Samskapa against a floor, same run.

    .venv/bin/python -m bench.load --profile storm --participants 500,1000 --duration 20
    .venv/bin/python -m bench.load --profile workshop --participants 2000
    .venv/bin/python -m bench.load --profile storm --participants 2000 --targets samskapa-pg,pair,floor

For each N and each target it starts the target's servers as subprocesses on 127.0.0.1,
creates a room, has a facilitator reveal the results (so every participant gets the full
spectrum, the heavier realistic case), connects N participants spread over a few worker
processes (bench/clients.py) and plays the profile:

- storm: every participant moves a random slider about twice a second, and about five notes
  a second are written across the room;
- workshop: every participant sets all ten sliders once within the window (60 s by
  default), adjusts one to three of them, and a tenth of them write a note.

Targets: `samskapa` (one instance on SQLite in a temporary directory), `samskapa-pg` (one
instance on a fresh PostgreSQL database, in-process bus), `pair` (two instances sharing a
fresh PostgreSQL database and Redis; participant i joins instance i % 2, so half the
sockets are relayed to the room's owner) and `floor` (bench.floor).

It measures, per target: time from a score change until every participant has a spectrum
that includes it (ack seq S is included once a spectrum with seq >= S arrives), note fan-out
time to every participant, set_score ack round trips, server CPU and RSS (psutil on the
servers' pids, summed and per process; Redis's and the database backends' CPU), loopback
traffic, and correctness (each note_added exactly once per client, event seqs strictly
increasing, every command acked), then prints the ratios to the floor, pair against
samskapa-pg, and the issue's targets. Bounded: at most 5,000 participants and 120 s of load
per run, loopback only. `--json`/`--markdown` write the result; `--py-spy DIR` profiles the
servers meanwhile.
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
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import redis

from bench import report
from bench.clients import LoadSpec, WorkerResult, raise_file_limit, worker_main
from bench.servers import (
    POSTGRES_TARGETS,
    REDIS_TARGETS,
    Deployment,
    Facilitator,
    Sampler,
    Server,
    Snapshot,
    create_room,
    is_samskapa,
    start_py_spy,
    window_figures,
)
from bench.services import ServiceMeter, Unreachable, check_postgres, check_redis

MAX_PARTICIPANTS = 5000
MAX_DURATION = 120.0
DEFAULT_DURATION = {"storm": 20.0, "workshop": 60.0}
TARGETS = ("samskapa", "samskapa-pg", "pair", "floor")
DEFAULT_TARGETS = ("samskapa", "floor")


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
    keep_logs: Path | None = None  # copy each server's log here after the run

    @property
    def variant(self) -> dict[str, Any] | None:
        """How Samskapa is started differently from `samskapa serve`, or None."""
        if not (self.deflate or self.uvicorn_ws or self.switch_interval):
            return None
        return {"deflate": self.deflate, "ws": self.uvicorn_ws, "switch_interval": self.switch_interval}

    def describe_experiment(self) -> str:
        """The Samskapa-only changes of this run (every app target's), for the report ('' for none)."""
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
    samskapa = is_samskapa(target)
    with tempfile.TemporaryDirectory(prefix=f"samskapa-bench-{target}-") as tmp:
        deployment = Deployment(
            target,
            Path(tmp),
            participants,
            floor_token,
            deflate=options.deflate,
            variant=options.variant if samskapa else None,
            server_env=options.server_env if samskapa else (),
        )
        processes: list[multiprocessing.process.BaseProcess] = []
        pipes: list[Connection] = []
        facilitator: Facilitator | None = None
        sampler: Sampler | None = None
        meter: ServiceMeter | None = None
        try:
            await asyncio.to_thread(deployment.start)
            room_id, token = await asyncio.to_thread(create_room, deployment.servers[0], floor_token)
            urls = deployment.room_urls(room_id)
            facilitator = await Facilitator.reveal(urls[0], token, options.deflate)
            meter = await asyncio.to_thread(deployment.meter)
            owner = _owner(target, meter, room_id)
            sampler = Sampler([server.process.pid for server in deployment.servers])
            await asyncio.sleep(0.5)
            rss_base = sampler.rss_each()
            spec = LoadSpec(
                urls=urls,
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
            _spawn_workers(spec, count, processes, pipes)
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
            before = Snapshot.take(sampler.processes, watched, meter)
            spies = _start_spies(deployment, options, repeat)
            await _sleep_until(start + options.duration)
            after = Snapshot.take(sampler.processes, watched, meter)
            budget = LoadSpec.max_drain + 60
            messages = await asyncio.gather(*(asyncio.to_thread(_receive, pipe, budget) for pipe in pipes))
            results: list[WorkerResult] = [message[1] for message in messages]
            for spy in spies:
                await asyncio.to_thread(spy.wait, 30)
            owner_after = _owner(target, meter, room_id, required=False)
        except BaseException:
            print(deployment.log_tails(), file=sys.stderr)
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
            if meter is not None:
                meter.close()
            deployment.stop()
            if options.keep_logs is not None:
                _keep_logs(deployment, options.keep_logs, _run_name(deployment, options, repeat))
    metrics = report.merge(results)
    peak = sampler.peak
    connected = max(1, metrics["connected"])
    window = window_figures(before, after)
    metrics.update(
        target=target,
        profile=options.profile,
        participants=participants,
        duration=options.duration,
        deflate=options.deflate,
        experiment=options.describe_experiment() if samskapa else "",
        workers=count,
        connect_wall_s=round(connect_wall, 2),
        **window,
        rss_base_mb=round(sum(rss_base) / 2**20, 1),
        rss_connected_mb=round(rss_connected / 2**20, 1),
        rss_peak_mb=round(peak / 2**20, 1),
        rss_kb_per_participant=round((peak - sum(rss_base)) / 1024 / connected, 1),
        rss_total_kb_per_participant=round(peak / 1024 / connected, 1),
    )
    metrics.update(per_process(deployment.roles, window["process_cpu_percent"], rss_base, sampler.peaks, metrics))
    if target in REDIS_TARGETS:
        metrics["lease_changes"] = int(owner_after != owner)
    return metrics


def _spawn_workers(
    spec: LoadSpec, count: int, processes: list[multiprocessing.process.BaseProcess], pipes: list[Connection]
) -> None:
    """Start `count` load-generator processes with consecutive slices of the participants.

    Appends to the caller's lists as it goes, so that a failure half-way still stops the
    workers already started."""
    participants = spec.participants
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


def _owner(target: str, meter: ServiceMeter | None, room_id: str, required: bool = True) -> str | None:
    """The instance id holding the room's lease (pair only; None for the other targets).

    Right after the facilitator's welcome only the first instance has seen the room, so a
    lease then can only be the first instance's: the pair's owner is known, not guessed."""
    if target not in REDIS_TARGETS or meter is None:
        return None
    if not required:  # after the load: a Redis hiccup now must not void the measurement
        try:
            return meter.lease_holder(room_id)
        except redis.RedisError:
            return None  # unconfirmed, so counted as a change of owner
    holder = meter.lease_holder(room_id)
    if holder is None:
        raise RuntimeError(f"no instance holds the lease on room {room_id} after the facilitator joined")
    return holder


def _run_name(deployment: Deployment, options: Options, repeat: int) -> str:
    deflate = "-deflate" if options.deflate else ""
    return f"{deployment.target}-{options.profile}-{deployment.participants}{deflate}-r{repeat}"


def _per_server(deployment: Deployment, name: str) -> list[tuple[Server, str]]:
    """Each server process with the run's name for its files (its role added for a pair)."""
    many = len(deployment.servers) > 1
    return [
        (server, f"{name}-{role}" if many else name)
        for role, server in zip(deployment.roles, deployment.servers, strict=True)
    ]


def _keep_logs(deployment: Deployment, directory: Path, name: str) -> None:
    """Copy the servers' logs out of the run's temporary directory: why a server closed
    sockets or fell behind is in them, and the directory is gone once the run ends."""
    directory.mkdir(parents=True, exist_ok=True)
    for server, stem in _per_server(deployment, name):
        if server.log_path.exists():
            shutil.copyfile(server.log_path, directory / f"{stem}.log")


def _start_spies(deployment: Deployment, options: Options, repeat: int) -> list[subprocess.Popen[bytes]]:
    """py-spy on every server process of the target (one file per process), if asked."""
    if options.py_spy is None:
        return []
    spies = []
    for server, stem in _per_server(deployment, _run_name(deployment, options, repeat)):
        spy = start_py_spy(server.process.pid, options.duration, options.py_spy / f"{stem}.txt")
        if spy is not None:
            spies.append(spy)
    return spies


def per_process(
    roles: Sequence[str], cpu: Sequence[float], rss_base: Sequence[int], peaks: Sequence[int], metrics: report.Metrics
) -> dict[str, Any]:
    """Each server process's figures under its role (owner, relay; the floor's "server"), so
    the report can say which process ran out of core first. Flat keys: medians over repeats
    are then taken like every other figure."""
    sockets = metrics.get("connected_per_instance", [])
    figures: dict[str, Any] = {"roles": list(roles)}
    for index, role in enumerate(roles):
        figures[f"{role}_participants"] = sockets[index] if index < len(sockets) else None
        figures[f"{role}_cpu_percent"] = cpu[index]
        figures[f"{role}_rss_base_mb"] = round(rss_base[index] / 2**20, 1)
        figures[f"{role}_rss_peak_mb"] = round(peaks[index] / 2**20, 1)
    return figures


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
    parser.add_argument(
        "--targets",
        default=",".join(DEFAULT_TARGETS),
        help=f"comma-separated, among {', '.join(TARGETS)} (samskapa-pg needs PostgreSQL, pair also Redis)",
    )
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
    experiments = parser.add_argument_group(
        "experiments (the app's targets only: samskapa, samskapa-pg, pair; see docs/performance.md)"
    )
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
    parser.add_argument(
        "--py-spy", type=Path, help="profile the server(s) with py-spy into this directory (one file per process)"
    )
    parser.add_argument("--keep-logs", type=Path, help="copy each server's log into this directory after each run")
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
        keep_logs=args.keep_logs,
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
        shown: tuple[str, ...] = ("connected", "spectrum_p99_ms", "note_p99_ms", "cpu_percent", "other_cpu_percent")
        shown += ("owner_cpu_percent", "relay_cpu_percent", "redis_cpu_percent") if target in REDIS_TARGETS else ()
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


def run_order(targets: Sequence[str], repeat: int) -> tuple[str, ...]:
    """The targets' order in one repeat: as given, then reversed, and so on.

    Why reversed rather than rotated: over each two repeats every target's mean position is
    the same, whatever the number of targets, so a drift in the shared machine's load lands
    on all of them alike (with two targets it is the alternation it always was)."""
    return tuple(targets) if repeat % 2 == 0 else tuple(reversed(targets))


def services_problem(targets: Sequence[str]) -> str | None:
    """Why PostgreSQL or Redis cannot serve these targets, or None: checked before the first
    run, so a missing service ends the command at once instead of after the other targets."""
    needed = [(check_postgres, POSTGRES_TARGETS), (check_redis, REDIS_TARGETS)]
    for check, users in needed:
        if users.intersection(targets):
            try:
                check()
            except Unreachable as error:
                return f"{error} (needed by --targets {', '.join(sorted(users.intersection(targets)))})"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    options, json_path, markdown_path = parse_args(argv)
    problem = services_problem(options.targets)
    if problem is not None:
        print(f"bench.load: {problem}", file=sys.stderr)
        return 2
    raise_file_limit(max(options.participants) * 2 + 512)
    machine = report.machine_info()
    command = "python -m bench.load " + " ".join(sys.argv[1:] if argv is None else argv)
    runs: list[report.Metrics] = []
    modes = (False, True) if options.both_deflate else (options.deflate,)
    for participants in options.participants:
        for repeat in range(options.repeat):
            for deflate in modes:
                for target in run_order(options.targets, repeat):
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
            "pair_vs_single": report.comparisons(rows),
            "runs": runs,
        }
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
    if markdown_path is not None:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
