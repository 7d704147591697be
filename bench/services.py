"""PostgreSQL and Redis for the benchmark targets that need them (`samskapa-pg`, `pair`).

Both services already run on the machine (the tests use the same ones); the benchmark only
borrows them: a fresh database per run, dropped afterwards, and fresh room ids in Redis, so
nothing is flushed and nothing another session keeps there is touched. Their CPU is measured
too, because on a 2-core machine a busy Redis is one of the places the pair's limit can be.

    SAMSKAPA_TEST_POSTGRES  admin URL (default postgresql://postgres@127.0.0.1:5432/test)
    SAMSKAPA_TEST_REDIS     Redis URL (default redis://127.0.0.1:6379/0)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]
import psycopg
import redis
from psycopg import sql

from app.cluster import lease_key

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
LOOPBACK_HOSTS = frozenset({"", "127.0.0.1", "localhost", "::1"})  # "": a Unix socket
CONNECT_TIMEOUT = 3  # seconds: an unreachable service must fail the run, not hang it


class Unreachable(RuntimeError):
    """A service a target needs does not answer (or is not on loopback)."""


def postgres_admin_url() -> str:
    return os.environ.get("SAMSKAPA_TEST_POSTGRES", DEFAULT_POSTGRES)


def redis_url() -> str:
    return os.environ.get("SAMSKAPA_TEST_REDIS", DEFAULT_REDIS)


def _require_loopback(url: str, what: str) -> None:
    """The benchmark stays on this machine: its load must never reach a shared server."""
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise Unreachable(f"{what} at {url} is not on loopback; the benchmark only uses 127.0.0.1")


def check_postgres() -> None:
    """Raise Unreachable unless the admin URL answers within CONNECT_TIMEOUT."""
    url = postgres_admin_url()
    _require_loopback(url, "PostgreSQL")
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT):
            return
    except psycopg.Error as error:
        raise Unreachable(f"PostgreSQL at {url} is not reachable: {_one_line(error)}") from error


def check_redis() -> None:
    """Raise Unreachable unless Redis answers PING within CONNECT_TIMEOUT."""
    url = redis_url()
    _require_loopback(url, "Redis")
    try:
        with _redis_client() as client:
            client.ping()
    except redis.RedisError as error:
        raise Unreachable(f"Redis at {url} is not reachable: {_one_line(error)}") from error


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        redis_url(), socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT, decode_responses=True
    )


@dataclass(frozen=True)
class Database:
    name: str
    url: str  # what the app gets as SAMSKAPA_DATABASE_URL


@contextlib.contextmanager
def fresh_database() -> Iterator[Database]:
    """A new, empty database for one run, dropped (even with connections left) afterwards.

    Why fresh per run: a run's figures must not depend on what earlier runs left behind
    (table sizes, autovacuum), and the repeats of one N must start from the same state."""
    admin_url = postgres_admin_url()
    name = f"samskapa_bench_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Database(name, f"{admin_url.rsplit('/', 1)[0]}/{name}")
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class ServiceMeter:
    """CPU seconds of Redis and of the app's PostgreSQL backends, and the room's lease.

    Redis reports its own CPU (INFO cpu), so no pid is needed; the database's share is the
    backend processes connected to this run's database (pg_stat_activity), read with psutil.
    Both are machine-wide services: another session using them at the same time shows up here.
    """

    def __init__(self, database: str | None, uses_redis: bool) -> None:
        self.database = database
        self.redis = _redis_client() if uses_redis else None
        # A statement timeout too: a stuck server must fail the run, not stall its window.
        self.admin = (
            psycopg.connect(
                postgres_admin_url(),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                options=f"-c statement_timeout={CONNECT_TIMEOUT * 1000}",
            )
            if database is not None
            else None
        )

    def redis_cpu_seconds(self) -> float | None:
        if self.redis is None:
            return None
        info = self.redis.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def postgres_cpu_seconds(self) -> dict[int, float]:
        """Backend pid -> CPU seconds, for the backends serving this run's database."""
        if self.admin is None:
            return {}
        rows = self.admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)).fetchall()
        seconds: dict[int, float] = {}
        for (pid,) in rows:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(int(pid)).cpu_times()
                seconds[int(pid)] = float(times.user + times.system)
        return seconds

    def lease_holder(self, room_id: str) -> str | None:
        """The instance id owning the room (None without Redis or without a lease)."""
        if self.redis is None:
            return None
        holder = self.redis.get(lease_key(room_id))
        return None if holder is None else str(holder)

    def close(self) -> None:
        if self.redis is not None:
            self.redis.close()
        if self.admin is not None:
            self.admin.close()
