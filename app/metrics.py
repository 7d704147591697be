"""Every metric Samskapa exposes: the named instruments, one small function per thing to
count, and the registry an app's `GET /metrics` reads (Prometheus text format).

A module that knows something happened calls one function here (`command_received`,
`events_sent`, `commit_timed`, ...); nobody keeps a counter by hand. What is a state rather
than an event (rooms loaded, connections by role, participants online) is not counted up
and down at all: it is read from the rooms at scrape time (`Census`), so no missed
decrement can ever leave it wrong.

Labels come only from small fixed sets written here or in app/protocol.py (message types,
roles, limit names, kinds of write, lease changes); a value outside its set is counted as
`other`. Never a token, a name, a room id or a note's text: a label is a new time series for
every value, and a scrape is readable by whoever holds the metrics token.

The instruments are the process's (a counter counts what happened in this process, as
Prometheus expects of one target); each app gets a registry of its own (`registry_for`)
holding them with its own census, so tests can build several apps in one process, and the
library's global default registry is never touched.

Must not import: `fastapi`, `starlette`, `sqlalchemy`, and of the app nothing but
`app.protocol` (the room, the writer, connections and the cluster import this module).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import get_args

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

import app.protocol as p

OTHER = "other"
# No `_created` series beside each counter and histogram: it doubles every scrape for a
# start time Prometheus does not use (the process's start time is there once).
disable_created_metrics()  # type: ignore[no-untyped-call]  # the library leaves it unannotated


COMMAND_TYPES = frozenset(p.type_of(model) for model in p.models_of(p.Command))
SENT_TYPES = frozenset(p.type_of(model) for model in p.models_of(p.ServerMessage))
ROLES: tuple[p.Role, ...] = get_args(p.Role)
# Per-address budgets (app/limits.py: join, identity, room), a socket's own limits
# (app/ws.py: commands, frame_size) and a room's (participants, notes) and the connection
# cap (connections), for whichever module refuses them.
LIMITS = frozenset({"join", "identity", "room", "commands", "frame_size", "participants", "notes", "connections"})
# events: a room's commands and newcomers (StoreWriter.commit); other: any other write in
# the same queue, mostly a room's batch of slider moves (StoreWriter.run).
WRITES = frozenset({"events", "other"})
LEASE_CHANGES = frozenset({"gained", "lost", "released"})


def _known(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else OTHER


# ---------------------------------------------------------------- the instruments
# registry=None: held by no registry until an app's own registry takes them (registry_for).

_commands = Counter(
    "samskapa_commands_received",
    "Commands received from clients' sockets, by protocol message type.",
    ["type"],
    registry=None,
)
_sent = Counter(
    "samskapa_events_sent",
    "Frames written to clients, by protocol message type: a frame written to 30 clients counts 30.",
    ["type"],
    registry=None,
)
_commit = Histogram(
    "samskapa_commit_seconds",
    "From handing a write to the writer until it is stored (waiting for the writer thread included).",
    ["write"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=None,
)
_commit_failures = Counter(
    "samskapa_commit_failures",
    "Writes the store refused or could not take (nothing of them was stored).",
    ["write"],
    registry=None,
)
_tick = Histogram(
    "samskapa_spectrum_tick_seconds",
    "One room's spectrum tick: computing the figures and writing them to its clients.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    registry=None,
)
_too_slow = Counter(
    "samskapa_slow_clients_dropped",
    "Clients closed with 4009 because more than SAMSKAPA_SEND_BUFFER_BYTES waited for them.",
    registry=None,
)
_loop_lag = Histogram(
    "samskapa_event_loop_lag_seconds",
    "How late the event loop ran a timer due every LOOP_PROBE_SECONDS: the wait every socket shares.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=None,
)
_leases = Counter(
    "samskapa_lease_changes",
    "Room ownership leases this instance gained, gave back (released) or lost.",
    ["change"],
    registry=None,
)
_bus_reconnects = Counter(
    "samskapa_bus_reconnects",
    "Times the bus (Redis) came back after being lost.",
    registry=None,
)
_refusals = Counter(
    "samskapa_limit_refusals",
    "Requests, hellos or frames refused by a limit, by the limit's name.",
    ["limit"],
    registry=None,
)

# Every series there is from the start, at 0: a rate() over a counter that appears only at
# its first increment misses that increment.
for _type in COMMAND_TYPES:
    _commands.labels(_type)
for _type in SENT_TYPES:
    _sent.labels(_type)
for _write in WRITES:
    _commit.labels(_write)
    _commit_failures.labels(_write)
for _change in LEASE_CHANGES:
    _leases.labels(_change)
for _limit in LIMITS:
    _refusals.labels(_limit)

_INSTRUMENTS: tuple[Collector, ...] = (
    _commands,
    _sent,
    _commit,
    _commit_failures,
    _tick,
    _too_slow,
    _loop_lag,
    _leases,
    _bus_reconnects,
    _refusals,
)


# ---------------------------------------------------------------- what modules call


def command_received(command_type: str) -> None:
    """A client's frame was read as a command of this protocol type."""
    _commands.labels(_known(command_type, COMMAND_TYPES)).inc()


def events_sent(event_type: str, count: int = 1) -> None:
    """A frame of this protocol message type was written to `count` clients."""
    if count > 0:
        _sent.labels(_known(event_type, SENT_TYPES)).inc(count)


def spectrum_tick(seconds: float) -> None:
    """One room's spectrum tick took `seconds`."""
    _tick.observe(seconds)


def commit_timed(write: str, seconds: float, failed: int = 0) -> None:
    """The writer stored a write (`events` or `other`) in `seconds`; `failed` of its items
    were not stored."""
    label = _known(write, WRITES)
    _commit.labels(label).observe(seconds)
    if failed:
        _commit_failures.labels(label).inc(failed)


def slow_client_dropped() -> None:
    _too_slow.inc()


def lease_changed(change: str) -> None:
    """`gained`, `released` (given back, e.g. an idle room unloaded) or `lost`."""
    _leases.labels(_known(change, LEASE_CHANGES)).inc()


def bus_connection_changed(connected: bool) -> None:
    """The bus's listener (Bus.on_connection_change): counts each return."""
    if connected:
        _bus_reconnects.inc()


def limit_refused(limit: str) -> None:
    _refusals.labels(_known(limit, LIMITS)).inc()


# ---------------------------------------------------------------- the event loop's lag

LOOP_PROBE_SECONDS = 0.25


async def watch_event_loop(every_seconds: float = LOOP_PROBE_SECONDS) -> None:
    """Forever (a task of the app's lifespan): sleep, and record how much later than asked
    the loop woke us. Anything that holds the loop (a long callback, a full collector pass,
    a synchronous commit) shows here as it shows to every socket."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(every_seconds)
        _loop_lag.observe(max(0.0, loop.time() - asked - every_seconds))


# ---------------------------------------------------------------- the state, at scrape time


@dataclass(frozen=True)
class Census:
    """What this instance holds now, as its rooms registry counts it (app/rooms.py)."""

    rooms: int = 0
    # Clients of the rooms this instance owns, by role, wherever their socket is (another
    # instance may relay it): summed over instances, each client counts once.
    connections: Mapping[str, int] = field(default_factory=dict)
    participants_online: int = 0
    # Sockets held here for rooms another instance owns.
    relayed_sockets: int = 0
    bus_connected: bool = True


class _CensusCollector(Collector):
    def __init__(self, take: Callable[[], Census]) -> None:
        self._take = take

    def collect(self) -> Iterator[Metric]:
        census = self._take()
        yield GaugeMetricFamily("samskapa_rooms_loaded", "Rooms this instance owns and holds in memory.", census.rooms)
        by_role = GaugeMetricFamily(
            "samskapa_connections", "Clients of the rooms this instance owns, by role.", labels=["role"]
        )
        for role in ROLES:
            by_role.add_metric([role], census.connections.get(role, 0))
        yield by_role
        yield GaugeMetricFamily(
            "samskapa_participants_online",
            "Participants with at least one open connection, in the rooms this instance owns.",
            census.participants_online,
        )
        yield GaugeMetricFamily(
            "samskapa_relayed_sockets",
            "Sockets held here for rooms another instance owns.",
            census.relayed_sockets,
        )
        yield GaugeMetricFamily(
            "samskapa_bus_connected", "1 while the bus (Redis) answers, else 0.", int(census.bus_connected)
        )


def registry_for(census: Callable[[], Census]) -> CollectorRegistry:
    """An app's own registry: the process's instruments, the process's CPU, memory and open
    files, the collector's passes, and `census` read at each scrape."""
    registry = CollectorRegistry()
    for instrument in _INSTRUMENTS:
        registry.register(instrument)
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(_CensusCollector(census))
    return registry


def exposition(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The registry in Prometheus text format, and its content type. Call it on the event
    loop: the census reads the rooms, which only the loop changes."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
