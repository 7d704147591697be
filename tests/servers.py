"""Real servers for the tests: `samskapa serve` in a subprocess on a free loopback port, on
SQLite or on a fresh PostgreSQL database, exactly as a user would run it."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("SAMSKAPA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as error:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {error}"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database for one test module, dropped afterwards."""
    import psycopg

    name = f"samskapa_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ServerProcess:
    """One `samskapa serve` process; can be stopped (gracefully or killed) and started again
    on the same port and database, to test what survives a restart."""

    def __init__(
        self, database_url: str, data_dir: Path, command: tuple[str, ...] | None = None, **settings: str
    ) -> None:
        """`command` (the server's argv after the Python interpreter, with `{port}` for the
        port) replaces `samskapa serve`, e.g. to run the app under plain uvicorn."""
        self.port = free_port()
        self.command = command or ("-m", "app.cli", "serve", "--port", "{port}")
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "SAMSKAPA_DATABASE_URL": database_url,
            "SAMSKAPA_DATA_DIR": str(data_dir),
            "SAMSKAPA_PUBLIC_URL": self.base_url,
            # Every test client comes from 127.0.0.1: per-address limits lifted unless a
            # test sets its own.
            "SAMSKAPA_JOIN_LOOKUPS_PER_MINUTE": "10000",
            "SAMSKAPA_NEW_PARTICIPANTS_PER_MINUTE": "100000",
            "SAMSKAPA_MAX_CONNECTIONS_PER_ADDRESS": "100000",
            "SAMSKAPA_ROOMS_CREATED_PER_HOUR": "100000",
            # No shared Redis unless a test asks for one: a developer's own setting would
            # make every test server share budgets and the bus.
            "SAMSKAPA_REDIS_URL": "",
            **{f"SAMSKAPA_{key.upper()}": value for key, value in settings.items()},
        }
        self.log_path = data_dir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *(part.replace("{port}", str(self.port)) for part in self.command)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not come up in {timeout}s:\n{self.log()}")

    def stop(self, kill: bool = False, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def running(*servers: ServerProcess) -> Iterator[tuple[ServerProcess, ...]]:
    """Start the servers in order, and stop every one afterwards, however the test ended."""
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


async def export_through(server: ServerProcess, room: dict[str, Any], fmt: str = "json") -> httpx.Response:
    """The room's export asked of `server` with the facilitator's token, whichever instance
    owns the room: answered as it is, for the test to judge."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as http:
        return await http.get(
            f"/api/rooms/{room['room_id']}/export",
            params={"format": fmt},
            headers={"Authorization": f"Bearer {room['facilitator_token']}"},
        )
