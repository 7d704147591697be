"""The servers under test, seen from the load script: starting a target's processes on
loopback (Samskapa on SQLite, Samskapa on a fresh PostgreSQL database, two Samskapa
instances sharing PostgreSQL and Redis, or the floor), waiting for health, creating the
room, the facilitator who reveals the results, and the psutil and /proc counters that make
the CPU, RSS and traffic figures (per server process, and summed over them).

Split from bench/load.py so that file keeps to the run and the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from app.client import RoomClient
from bench.services import Database, ServiceMeter, fresh_database, redis_url

HOST = "127.0.0.1"  # loopback only, never configurable
ROOT = Path(__file__).resolve().parent.parent
# Server processes per target; "pair" is two instances sharing PostgreSQL and Redis.
INSTANCES = {"samskapa": 1, "samskapa-pg": 1, "pair": 2, "floor": 1}
POSTGRES_TARGETS = frozenset({"samskapa-pg", "pair"})
REDIS_TARGETS = frozenset({"pair"})
MIGRATE_TIMEOUT = 120.0

# Samskapa as `samskapa serve` runs it, with what the CLI hard-codes made variable, for the
# experiments in docs/performance.md (the benchmark must not edit app/ to try them):
# permessage-deflate, uvicorn's WebSocket implementation, the GIL switch interval.
SERVE_VARIANT = """
import json, logging, sys, uvicorn
from app.cli import uvicorn_options
from app.db import migrate
from app.settings import get_settings
host, port, variant = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
if variant.get("switch_interval"):
    sys.setswitchinterval(variant["switch_interval"])
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
settings = get_settings()
if variant.get("migrate", True):
    migrate(settings.effective_database_url)
options = uvicorn_options(settings)
options.update(ws_per_message_deflate=variant["deflate"], ws=variant.get("ws") or options["ws"])
uvicorn.run("app.main:create_app", host=host, port=port, **options)
"""


def is_samskapa(target: str) -> bool:
    """Every target but the floor runs the app (and takes the Samskapa-only experiments)."""
    return target != "floor"


def stop_process(process: subprocess.Popen[bytes], grace_seconds: float) -> None:
    """SIGTERM, as an operator stops a server, and SIGKILL if it is not gone in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class Server:
    target: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def http(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        stop_process(self.process, grace_seconds=20)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_server(
    target: str,
    workdir: Path,
    participants: int,
    token: str,
    deflate: bool = False,
    variant: dict[str, Any] | None = None,
    server_env: Sequence[tuple[str, str]] = (),
    database_url: str = "",
    bus_url: str = "",
    migrate: bool = True,
    name: str = "server",
    root: Path = ROOT,
) -> Server:
    """Start Samskapa (`samskapa serve`, or SERVE_VARIANT when `variant` is given) or the
    floor on a free loopback port, logging to workdir/<name>.log.

    `database_url` "" means SQLite in workdir; `bus_url` "" means the in-process bus (one
    instance); `migrate=False` when the database was migrated once for several instances;
    `root` is the checkout whose app is run (another commit's worktree, to compare)."""
    port = free_port()
    env = server_environment(workdir, port, participants, database_url, bus_url)
    if is_samskapa(target):
        env.update((f"SAMSKAPA_{key.upper()}", value) for key, value in server_env)
    if is_samskapa(target) and variant is not None:
        command = [sys.executable, "-c", SERVE_VARIANT, HOST, str(port), json.dumps({**variant, "migrate": migrate})]
    elif is_samskapa(target):
        command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
        command += [] if migrate else ["--no-migrate"]
    else:
        command = [sys.executable, "-m", "bench.floor", "--port", str(port), f"--facilitator-token={token}"]
        command += ["--deflate"] if deflate else []
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Server(target, process, port, log_path)


def server_environment(
    workdir: Path, port: int, participants: int, database_url: str = "", bus_url: str = ""
) -> dict[str, str]:
    """The caller's environment without its SAMSKAPA_* settings, plus the benchmark's: a
    run must not pick up a database or Redis from the shell that started it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMSKAPA_")}
    env.update(
        SAMSKAPA_DATA_DIR=str(workdir),
        SAMSKAPA_DATABASE_URL=database_url,  # "": SQLite in workdir, whatever the caller's environment says
        SAMSKAPA_PUBLIC_URL=f"http://{HOST}:{port}",
        SAMSKAPA_MAX_PARTICIPANTS_PER_ROOM=str(max(5000, participants + 100)),
        # Every benchmark participant joins from 127.0.0.1 within seconds: lift the
        # per-address limits (abuse protection, not what is measured here).
        SAMSKAPA_NEW_PARTICIPANTS_PER_MINUTE=str(100_000),
        SAMSKAPA_MAX_CONNECTIONS_PER_ADDRESS=str(max(1000, 2 * participants + 100)),
    )
    if bus_url:
        env["SAMSKAPA_REDIS_URL"] = bus_url
    return env


def migrate_database(database_url: str, workdir: Path) -> None:
    """`samskapa migrate` once, before the instances start with --no-migrate: two instances
    migrating one empty database at the same moment would race on creating the schema."""
    log_path = workdir / "migrate.log"
    env = server_environment(workdir, 0, 0, database_url)
    with log_path.open("wb") as log:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "migrate"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=MIGRATE_TIMEOUT,
            check=False,
        )
    if done.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"samskapa migrate failed ({done.returncode}):\n{tail}")


class Deployment:
    """One target's server processes for one run, and the database they share.

    For "pair" the first instance is the room's owner: the room is created there and the
    facilitator's hello, the first for the room, makes it take the lease (see
    docs/architecture.md); the second relays its participants' sockets through Redis."""

    def __init__(
        self,
        target: str,
        workdir: Path,
        participants: int,
        token: str,
        deflate: bool = False,
        variant: dict[str, Any] | None = None,
        server_env: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.target = target
        self.workdir = workdir
        self.participants = participants
        self.token = token
        self.deflate = deflate
        self.variant = variant
        self.server_env = tuple(server_env)
        self.servers: list[Server] = []
        self.database: Database | None = None
        self._resources = contextlib.ExitStack()
        # start() runs in a thread; an interrupted run calls stop() while it may still be
        # going. The lock and flag make sure nothing is started after stop() began (a
        # server or a database nobody would clean up on a shared machine).
        self._lock = threading.Lock()
        self._stopping = False

    @property
    def roles(self) -> list[str]:
        """What each server process is, in self.servers' order. A single app instance owns
        its rooms too (the in-process bus grants every lease), so "owner" compares across
        targets: the pair's owner against the one instance doing everything."""
        if not is_samskapa(self.target):
            return ["server"]
        return ["owner", "relay"] if INSTANCES[self.target] == 2 else ["owner"]

    def start(self) -> None:
        """Database (fresh, migrated), then the servers, then wait until all are healthy."""
        if self.target in POSTGRES_TARGETS:
            with self._lock:
                self._check_not_stopping()
                self.database = self._resources.enter_context(fresh_database())
            migrate_database(self.database.url, self.workdir)
        for index in range(INSTANCES[self.target]):
            with self._lock:
                self._check_not_stopping()
                self.servers.append(self._start_one(index))
        for server in self.servers:
            wait_healthy(server)

    def _check_not_stopping(self) -> None:
        if self._stopping:
            raise RuntimeError(f"{self.target}: stopped while starting")

    def _start_one(self, index: int) -> Server:
        single = INSTANCES[self.target] == 1
        workdir = self.workdir if single else self.workdir / f"instance-{index}"
        workdir.mkdir(exist_ok=True)
        return start_server(
            self.target,
            workdir,
            self.participants,
            self.token,
            deflate=self.deflate,
            variant=self.variant,
            server_env=self.server_env,
            database_url=self.database.url if self.database is not None else "",
            bus_url=redis_url() if self.target in REDIS_TARGETS else "",
            migrate=self.database is None,
            name="server" if single else f"server-{index}",
        )

    def meter(self) -> ServiceMeter | None:
        """Redis and PostgreSQL counters for the targets that use them."""
        if self.database is None and self.target not in REDIS_TARGETS:
            return None
        name = self.database.name if self.database is not None else None
        return ServiceMeter(name, uses_redis=self.target in REDIS_TARGETS)

    def room_urls(self, room_id: str) -> tuple[str, ...]:
        """The room's WebSocket URL on each server, the owner's first."""
        return tuple(f"ws://{HOST}:{server.port}/ws/rooms/{room_id}" for server in self.servers)

    def log_tails(self) -> str:
        return "\n".join(
            f"{self.target} {server.log_path.name} (tail):\n{server.log_tail()}" for server in self.servers
        )

    def stop(self) -> None:
        """Servers first (relay before owner, so the relay does not see its owner vanish),
        then the database."""
        with self._lock:
            self._stopping = True
        try:
            for server in reversed(self.servers):
                server.stop()
        finally:
            self._resources.close()


def wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.target} exited early:\n{server.log_tail()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{server.http}/healthz", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{server.target} did not come up in {timeout:.0f} s:\n{server.log_tail()}")


def create_room(server: Server, floor_token: str) -> tuple[str, str]:
    """(room id, facilitator token): a real room on Samskapa, a fixed one on the floor."""
    if server.target == "floor":
        return "bench", floor_token
    request = urllib.request.Request(
        f"{server.http}/api/rooms",
        data=json.dumps({"title": "Load benchmark"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        created = json.load(response)
    return str(created["room_id"]), str(created["facilitator_token"])


class Facilitator:
    """The room's facilitator, on the package's own client (app/client.py): reveals the
    results, then keeps reading so that it is never 'too slow'."""

    def __init__(self, client: RoomClient) -> None:
        self.client = client

    @classmethod
    async def reveal(cls, url: str, token: str, deflate: bool) -> Facilitator:
        base_url, _, room_id = url.replace("ws://", "http://").partition("/ws/rooms/")
        client = RoomClient(base_url, room_id, token, deflate=deflate)
        await client.connect()
        await client.command("set_results_visible", visible=True)
        return cls(client)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.client.close()


class Sampler:
    """Samples the servers' RSS a few times a second: the peak of their sum (what the
    target needs at once) and each process's own peak (owner against relay)."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]
        self.peak = 0
        self.peaks = [0] * len(self.processes)
        self.task = asyncio.create_task(self._run())

    def rss(self) -> int:
        return sum(self.rss_each())

    def rss_each(self) -> list[int]:
        each = [int(process.memory_info().rss) for process in self.processes]
        self.peaks = [max(peak, rss) for peak, rss in zip(self.peaks, each, strict=True)]
        self.peak = max(self.peak, sum(each))
        return each

    async def _run(self) -> None:
        with contextlib.suppress(psutil.Error):
            while True:
                self.rss()
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        self.task.cancel()


def cpu_seconds(process: psutil.Process) -> float:
    with contextlib.suppress(psutil.Error):
        times = process.cpu_times()
        return float(times.user + times.system)
    return 0.0


@dataclass(frozen=True)
class Snapshot:
    """CPU and traffic counters at one moment; two of them make the load window's figures."""

    at: float
    servers: tuple[float, ...]  # CPU seconds of each server process
    generator: float  # the worker processes and this one
    machine: float  # every process on the machine: what is left over is someone else's
    loopback: int
    redis: float | None = None  # Redis's own CPU seconds, for the targets that use it
    postgres: dict[int, float] = field(default_factory=dict)  # the run's database backends: pid -> CPU s

    @property
    def server(self) -> float:
        return sum(self.servers)

    @classmethod
    def take(
        cls, servers: Sequence[psutil.Process], workers: Sequence[psutil.Process], meter: ServiceMeter | None = None
    ) -> Snapshot:
        # The services first: their queries take a few ms, the counters below stay together.
        redis = meter.redis_cpu_seconds() if meter is not None else None
        postgres = meter.postgres_cpu_seconds() if meter is not None else {}
        times = psutil.cpu_times()
        busy = float(sum(times)) - float(times.idle) - float(getattr(times, "iowait", 0.0))
        generator = sum(cpu_seconds(worker) for worker in workers) + cpu_seconds(psutil.Process())
        at = time.monotonic()
        own = tuple(cpu_seconds(server) for server in servers)
        return cls(at, own, generator, busy, loopback_bytes(), redis, postgres)


def loopback_bytes() -> int:
    """Bytes through the loopback interface so far (one direction: lo's rx equals its tx)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/dev").read_text().splitlines():
            name, _, counters = line.partition(":")
            if name.strip() == "lo":
                return int(counters.split()[0])
    return 0


def window_figures(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """CPU as % of one core over the load window (the servers' sum, each server, and Redis
    and PostgreSQL when the target uses them), and loopback MB/s.

    Redis and the run's database backends work for the target, so they are not counted as
    the rest of the machine (which decides whether a run was disturbed and is redone)."""
    wall = max(after.at - before.at, 1e-9)
    server = after.server - before.server
    generator = after.generator - before.generator
    redis = after.redis - before.redis if after.redis is not None and before.redis is not None else None
    postgres = sum(seconds - before.postgres.get(pid, 0.0) for pid, seconds in after.postgres.items())
    services = (redis or 0.0) + postgres
    other = after.machine - before.machine - server - generator - services
    figures: dict[str, Any] = {
        "cpu_percent": round(100 * server / wall, 1),
        "client_cpu_percent": round(100 * generator / wall, 1),
        "other_cpu_percent": round(max(0.0, 100 * other / wall), 1),
        "loopback_mb_s": round((after.loopback - before.loopback) / 2**20 / wall, 2),
        "process_cpu_percent": [
            round(100 * (end - start) / wall, 1) for start, end in zip(before.servers, after.servers, strict=True)
        ],
    }
    if redis is not None:
        figures["redis_cpu_percent"] = round(100 * redis / wall, 1)
    if after.postgres or before.postgres:
        figures["postgres_cpu_percent"] = round(100 * postgres / wall, 1)
    return figures


def start_py_spy(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """Sample the server's stacks during the load (raw collapsed stacks, see the docs)."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        print("py-spy not found; skipping the profile", file=sys.stderr)
        return None
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [binary, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds)))]
    command += ["--rate", "97", "--format", "raw", "--nonblocking", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
