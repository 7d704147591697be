"""The servers under test, seen from the load script: starting Samskapa or the floor on
loopback, waiting for health, creating the room, the facilitator who reveals the results,
and the psutil and /proc counters that make the CPU, RSS and traffic figures.

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
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
from websockets.asyncio.client import ClientConnection, connect

from bench.clients import small_reads

HOST = "127.0.0.1"  # loopback only, never configurable
ROOT = Path(__file__).resolve().parent.parent

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
migrate(settings.effective_database_url)
options = uvicorn_options(settings)
options.update(ws_per_message_deflate=variant["deflate"], ws=variant.get("ws") or options["ws"])
uvicorn.run("app.main:create_app", host=host, port=port, **options)
"""


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
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


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
) -> Server:
    """Start Samskapa (`samskapa serve`, or SERVE_VARIANT when `variant` is given) or the
    floor on a free loopback port, logging to workdir/server.log."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMSKAPA_")}
    env.update(
        SAMSKAPA_DATA_DIR=str(workdir),
        SAMSKAPA_DATABASE_URL="",  # SQLite in workdir, whatever the caller's environment says
        SAMSKAPA_PUBLIC_URL=f"http://{HOST}:{port}",
        SAMSKAPA_MAX_PARTICIPANTS_PER_ROOM=str(max(5000, participants + 100)),
        # Every benchmark participant joins from 127.0.0.1 within seconds: lift the
        # per-address join limit (abuse protection, not what is measured here).
        SAMSKAPA_NEW_PARTICIPANTS_PER_MINUTE=str(100_000),
    )
    if target == "samskapa":
        env.update((f"SAMSKAPA_{key.upper()}", value) for key, value in server_env)
    if target == "samskapa" and variant is not None:
        command = [sys.executable, "-c", SERVE_VARIANT, HOST, str(port), json.dumps(variant)]
    elif target == "samskapa":
        command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
    else:
        command = [sys.executable, "-m", "bench.floor", "--port", str(port), f"--facilitator-token={token}"]
        command += ["--deflate"] if deflate else []
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Server(target, process, port, log_path)


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
    """Reveals the results, then reads (and drops) everything so it is never 'too slow'."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.reader = asyncio.create_task(self._discard())

    @classmethod
    async def reveal(cls, url: str, token: str, deflate: bool) -> Facilitator:
        socket = await connect(url, compression="deflate" if deflate else None, ping_interval=None)
        small_reads(socket.transport)
        await socket.send(json.dumps({"type": "hello", "token": token}))
        async with asyncio.timeout(10):
            while not (await socket.recv(decode=False)).startswith(b'{"type":"welcome"'):
                pass
            await socket.send('{"type":"set_results_visible","cid":"reveal","visible":true}')
            while not (await socket.recv(decode=False)).startswith(b'{"type":"ack","cid":"reveal"'):
                pass
        return cls(socket)

    async def _discard(self) -> None:
        with contextlib.suppress(Exception):
            async for _ in self.socket:
                pass

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.socket.close()
        self.reader.cancel()


class Sampler:
    """Samples the server's RSS a few times a second and keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.task = asyncio.create_task(self._run())

    def rss(self) -> int:
        rss = int(self.process.memory_info().rss)
        self.peak = max(self.peak, rss)
        return rss

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process)

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
    server: float
    generator: float  # the worker processes and this one
    machine: float  # every process on the machine: what is left over is someone else's
    loopback: int

    @classmethod
    def take(cls, server: psutil.Process, workers: Sequence[psutil.Process]) -> Snapshot:
        times = psutil.cpu_times()
        busy = float(sum(times)) - float(times.idle) - float(getattr(times, "iowait", 0.0))
        generator = sum(cpu_seconds(worker) for worker in workers) + cpu_seconds(psutil.Process())
        return cls(time.monotonic(), cpu_seconds(server), generator, busy, loopback_bytes())


def loopback_bytes() -> int:
    """Bytes through the loopback interface so far (one direction: lo's rx equals its tx)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/dev").read_text().splitlines():
            name, _, counters = line.partition(":")
            if name.strip() == "lo":
                return int(counters.split()[0])
    return 0


def window_figures(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU as % of one core over the load window, and loopback MB/s."""
    wall = max(after.at - before.at, 1e-9)
    server = after.server - before.server
    generator = after.generator - before.generator
    other = after.machine - before.machine - server - generator
    return {
        "cpu_percent": round(100 * server / wall, 1),
        "client_cpu_percent": round(100 * generator / wall, 1),
        "other_cpu_percent": round(max(0.0, 100 * other / wall), 1),
        "loopback_mb_s": round((after.loopback - before.loopback) / 2**20 / wall, 2),
    }


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
