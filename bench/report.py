"""Turning the workers' raw observations into figures, ratios, target verdicts and tables.

Kept apart from the orchestration so the arithmetic (what "every client has it" means, what
counts as lost) is in one short place that can be read and checked on its own.
"""

from __future__ import annotations

import os
import platform
import statistics
from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from bench.clients import WorkerResult

Metrics = dict[str, Any]

# Figures compared as Samskapa/floor (lower is better for all of them): (key, label).
COMPARED = (
    ("spectrum_p50_ms", "spectrum to all, p50 (ms)"),
    ("spectrum_p95_ms", "spectrum to all, p95 (ms)"),
    ("spectrum_p99_ms", "spectrum to all, p99 (ms)"),
    ("note_p50_ms", "note fan-out to all, p50 (ms)"),
    ("note_p99_ms", "note fan-out to all, p99 (ms)"),
    ("ack_p50_ms", "set_score ack RTT, p50 (ms)"),
    ("ack_p99_ms", "set_score ack RTT, p99 (ms)"),
    ("note_ack_p50_ms", "add_note ack RTT, p50 (ms)"),
    ("note_ack_p99_ms", "add_note ack RTT, p99 (ms)"),
    ("cpu_percent", "server CPU (% of one core)"),
    ("rss_peak_mb", "server peak RSS (MB)"),
    ("rss_kb_per_participant", "RSS per participant, marginal (KB)"),
    ("rss_total_kb_per_participant", "RSS per participant, total (KB)"),
    ("loopback_mb_s", "loopback traffic (MB/s)"),
)
# Shown per run, not compared: correctness counters and the generator's own health.
COUNTERS = (
    ("connected", "participants connected"),
    ("connect_s", "connect phase (s)"),
    ("score_changes", "score changes acked"),
    ("notes", "notes acked"),
    ("drain_s", "frames still arriving after the load (s)"),
    ("lost_notes", "note_added missing at the end (client x note)"),
    ("duplicate_notes", "note_added duplicated"),
    ("out_of_order", "events out of order"),
    ("unacked", "commands never acked"),
    ("uncovered_scores", "score changes never in a spectrum at all clients"),
    ("incomplete_ticks", "spectra missed by some client"),
    ("disconnects", "clients disconnected by the server"),
    ("errors", "error replies"),
    ("client_cpu_percent", "load generator CPU (% of one core, all workers)"),
    ("other_cpu_percent", "rest of the machine during the load (% of one core)"),
    ("busy_before_percent", "machine busy just before the run (% of one core)"),
    ("lateness_p99_ms", "generator send lateness, p99 (ms)"),
)
# Where the pair's CPU and memory go, and the services it leans on: shown in the pair
# against one instance comparison (the single instance is its room's owner too).
PER_PROCESS = (
    ("owner_cpu_percent", "owner instance CPU (% of one core)"),
    ("relay_cpu_percent", "relay instance CPU (% of one core)"),
    ("owner_rss_peak_mb", "owner instance peak RSS (MB)"),
    ("relay_rss_peak_mb", "relay instance peak RSS (MB)"),
    ("redis_cpu_percent", "Redis CPU (% of one core)"),
    ("postgres_cpu_percent", "PostgreSQL backends CPU (% of one core)"),
    ("connect_wall_s", "connect phase incl. starting the workers (s)"),
    ("lease_changes", "room changed owner during the run"),
)
RATIO_LIMIT = 1.5
RSS_LIMIT_KB = 150.0

FLOOR = "floor"
SINGLE, PAIR = "samskapa-pg", "pair"  # the comparison: two instances against one, same storage
SAMSKAPA_TARGETS = ("samskapa", SINGLE, PAIR)  # the app's targets, in the tables' column order
LABELS = {"samskapa": "Samskapa", SINGLE: "Samskapa PG", PAIR: "pair", FLOOR: "floor"}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of `values` (q in 0..100); None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def merge(results: Sequence[WorkerResult]) -> Metrics:
    """The room-wide figures from every worker's share.

    A score change acked with seq S is "in every client's view" once every participant has
    received a spectrum with seq >= S. All clients get the same tick frames, so per tick the
    latest arrival over all workers is when the last client had it; the change's latency is
    that time for the first tick with seq >= S received by all clients, minus the send time.
    A note is delivered exactly once when each participant counted its note_added once.
    """
    connected = sum(r.connected for r in results)
    spectrum_last: dict[int, float] = {}
    spectrum_count: dict[int, int] = {}
    note_last: dict[int, float] = {}
    note_count: dict[int, int] = {}
    for r in results:
        for target, source in ((spectrum_last, r.spectrum_last), (note_last, r.note_last)):
            for seq, at in source.items():
                if at > target.get(seq, 0.0):
                    target[seq] = at
        for counts, source_counts in ((spectrum_count, r.spectrum_count), (note_count, r.note_count)):
            for seq, count in source_counts.items():
                counts[seq] = counts.get(seq, 0) + count
    complete = sorted(seq for seq, count in spectrum_count.items() if count >= connected)
    score_acks = [ack for r in results for ack in r.score_acks]
    first_score = min((seq for seq, _ in score_acks), default=0)
    spectrum_latency: list[float] = []
    uncovered = 0
    for seq, sent in score_acks:
        index = bisect_left(complete, seq)
        if index == len(complete):
            uncovered += 1
        else:
            spectrum_latency.append(spectrum_last[complete[index]] - sent)
    note_latency: list[float] = []
    lost = duplicated = 0
    note_acks = [ack for r in results for ack in r.note_acks]
    for seq, sent in note_acks:
        count = note_count.get(seq, 0)
        lost += max(0, connected - count)
        duplicated += max(0, count - connected)
        if count >= connected:
            note_latency.append(note_last[seq] - sent)
    rtts = [rtt for r in results for rtt in r.score_rtts]
    note_rtts = [rtt for r in results for rtt in r.note_rtts]
    errors: dict[str, int] = {}
    disconnects: dict[str, int] = {}
    for r in results:
        for code, count in r.errors.items():
            errors[code] = errors.get(code, 0) + count
        for close, count in r.disconnects.items():
            disconnects[str(close)] = disconnects.get(str(close), 0) + count
    instances = max((len(r.connected_per_url) for r in results), default=0)
    return {
        "connected": connected,
        "connected_per_instance": [
            sum(r.connected_per_url[i] for r in results if i < len(r.connected_per_url)) for i in range(instances)
        ],
        "connect_s": round(max((r.connect_seconds for r in results), default=0.0), 2),
        "connect_errors": [e for r in results for e in r.connect_errors][:10],
        "score_changes": len(score_acks),
        "spectrum_p50_ms": _ms(percentile(spectrum_latency, 50)),
        "spectrum_p95_ms": _ms(percentile(spectrum_latency, 95)),
        "spectrum_p99_ms": _ms(percentile(spectrum_latency, 99)),
        "spectrum_max_ms": _ms(max(spectrum_latency, default=None)),
        "notes": len(note_acks),
        "note_p50_ms": _ms(percentile(note_latency, 50)),
        "note_p99_ms": _ms(percentile(note_latency, 99)),
        "note_max_ms": _ms(max(note_latency, default=None)),
        "ack_p50_ms": _ms(percentile(rtts, 50)),
        "ack_p99_ms": _ms(percentile(rtts, 99)),
        "note_ack_p50_ms": _ms(percentile(note_rtts, 50)),
        "note_ack_p99_ms": _ms(percentile(note_rtts, 99)),
        "lost_notes": lost,
        "duplicate_notes": duplicated + sum(r.duplicates for r in results),
        "out_of_order": sum(r.out_of_order for r in results),
        "unacked": sum(r.unacked for r in results),
        "uncovered_scores": uncovered,
        "incomplete_ticks": sum(1 for seq, count in spectrum_count.items() if seq >= first_score and count < connected),
        "disconnects": sum(disconnects.values()),
        "disconnect_codes": disconnects,
        "errors": sum(errors.values()),
        "error_codes": errors,
        "sent_scores": sum(r.sent_scores for r in results),
        "sent_notes": sum(r.sent_notes for r in results),
        "frames_received": sum(r.frames for r in results),
        "lateness_p99_ms": _ms(max((r.lateness_p99 for r in results), default=0.0)),
        "lateness_max_ms": _ms(max((r.lateness_max for r in results), default=0.0)),
        "drain_s": round(max((r.drain_seconds for r in results), default=0.0), 1),
    }


def ratio(samskapa: Any, floor: Any) -> float | None:
    if not isinstance(samskapa, int | float) or not isinstance(floor, int | float) or floor <= 0:
        return None
    return round(samskapa / floor, 2)


# Correctness counters add up over repeats (one loss in any repeat must show); every other
# number is the median of the repeats.
SUMMED = frozenset(
    {
        "lost_notes",
        "duplicate_notes",
        "out_of_order",
        "unacked",
        "uncovered_scores",
        "incomplete_ticks",
        "disconnects",
        "errors",
        "lease_changes",
    }
)


# What a run is, not what it measured.
IDENTITY = frozenset({"target", "profile", "participants", "duration", "deflate", "experiment", "workers", "repeat"})


def _key(run: Metrics) -> tuple[str, int, bool]:
    return (run["profile"], run["participants"], run["deflate"])


def summarize(runs: Sequence[Metrics]) -> list[Metrics]:
    """One row per target, profile, N and deflate setting, over its repeats.

    Repeats alternate which target goes first, so a burst of foreign load on the shared
    machine lands on both targets' medians rather than on one of them."""
    groups: dict[tuple[str, str, int, bool], list[Metrics]] = {}
    for run in runs:
        groups.setdefault((run["target"], *_key(run)), []).append(run)
    rows = []
    for group in groups.values():
        row = dict(group[0])
        for key, value in group[0].items():
            values = [run[key] for run in group if isinstance(run.get(key), int | float)]
            if _numbers(value):
                row[key] = _elementwise_median([run.get(key) for run in group], len(value))
                continue
            if key in IDENTITY or isinstance(value, bool) or not values:
                continue
            if key in SUMMED:
                row[key] = sum(values)
            elif key == "connected":
                row[key] = min(values)
            elif isinstance(value, int):
                row[key] = round(statistics.median(values))
            elif isinstance(value, float):
                row[key] = round(statistics.median(values), 2)
        row["repeats"] = len(group)
        rows.append(row)
    return rows


def _numbers(value: Any) -> bool:
    """A per-process list of figures (e.g. each server's CPU), not a list of messages."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, int | float) for v in value)


def _elementwise_median(lists: Sequence[Any], length: int) -> list[float]:
    """Per process, the median over the repeats (repeats whose list differs are left out);
    counts stay whole numbers, as a single figure's median does."""
    same = [values for values in lists if _numbers(values) and len(values) == length]
    medians = []
    for i in range(length):
        column = [values[i] for values in same]
        median = statistics.median(column)
        medians.append(round(median) if all(isinstance(v, int) for v in column) else round(median, 2))
    return medians


def by_key(rows: Sequence[Metrics]) -> list[dict[str, Metrics]]:
    """The rows of each profile, N and deflate setting (in the order first run), by target."""
    groups: dict[tuple[str, int, bool], dict[str, Metrics]] = {}
    for row in rows:
        groups.setdefault(_key(row), {})[row["target"]] = row
    return list(groups.values())


def samskapa_targets(group: dict[str, Metrics]) -> list[str]:
    """The app's targets present in a group, in column order."""
    return [target for target in SAMSKAPA_TARGETS if target in group]


def repeat_ratios(
    runs: Sequence[Metrics], key: tuple[str, int, bool], figure: str, ours: str = "samskapa", base: str = FLOOR
) -> list[float | None]:
    """The ours/base ratio of one figure in each repeat: the spread behind the median."""
    mine = {r.get("repeat", 0): r[figure] for r in runs if _key(r) == key and r["target"] == ours}
    theirs = {r.get("repeat", 0): r[figure] for r in runs if _key(r) == key and r["target"] == base}
    return [ratio(mine[i], theirs[i]) for i in sorted(mine) if i in theirs]


def verdicts(rows: Sequence[Metrics]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value (medians) and whether it was met,
    for every app target (the runs of `samskapa` are named as they always were)."""
    found: list[dict[str, Any]] = []
    for group in by_key(rows):
        for target in samskapa_targets(group):
            found.extend(_checks(group[target], group.get(FLOOR)))
    return found


def _checks(ours: Metrics, floor: Metrics | None) -> list[dict[str, Any]]:
    name = f"{ours['profile']} N={ours['participants']}" + (" deflate" if ours["deflate"] else "")
    if ours["target"] != "samskapa":
        name = f"{ours['target']} {name}"
    complete = ours["connected"] == ours["participants"] and ours["disconnects"] == 0 and ours["uncovered_scores"] == 0
    exact = ours["lost_notes"] == 0 and ours["duplicate_notes"] == 0 and ours["out_of_order"] == 0
    checks: list[tuple[str, Any, bool]] = [
        ("completes (all connected, none dropped)", ours["connected"], complete),
        ("0 lost / duplicated / out of order", ours["lost_notes"], exact),
        (
            f"RSS per participant <= {RSS_LIMIT_KB:.0f} KB (marginal)",
            ours["rss_kb_per_participant"],
            (ours["rss_kb_per_participant"] or 0) <= RSS_LIMIT_KB,
        ),
    ]
    if floor is not None:
        figures = ["spectrum_p99_ms"] + (["note_p99_ms"] if ours["profile"] == "storm" else [])
        for figure in figures:
            value = ratio(ours[figure], floor[figure])
            checks.append((f"{figure} <= {RATIO_LIMIT}x floor", value, value is not None and value <= RATIO_LIMIT))
    return [{"run": name, "target": what, "value": value, "met": met} for what, value, met in checks]


def comparisons(rows: Sequence[Metrics]) -> list[dict[str, Any]]:
    """`pair` against `samskapa-pg` at the same profile, N and deflate setting: every
    compared figure and counter of both, with the ratio pair/single (None where the single
    instance's figure is 0 or missing)."""
    found = []
    for group in by_key(rows):
        pair, single = group.get(PAIR), group.get(SINGLE)
        if pair is None or single is None:
            continue
        figures = {
            key: {"pair": pair.get(key), "single": single.get(key), "ratio": ratio(pair.get(key), single.get(key))}
            for key, _ in (*COMPARED, *PER_PROCESS, *COUNTERS)
        }
        found.append(
            {key: pair[key] for key in ("profile", "participants", "duration", "deflate")} | {"figures": figures}
        )
    return found


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def markdown(runs: Sequence[Metrics], machine: dict[str, Any], command: str) -> str:
    """The result as markdown: one table per profile and N (medians of the repeats) with
    every app target next to the floor, the pair against one instance where both ran, then
    the per-repeat p99 ratios and the targets."""
    rows = summarize(runs)
    lines = [
        "# Samskapa load benchmark",
        "",
        f"`{command}`",
        "",
        f"Machine: {machine['cpu_model']}, {machine['nproc']} cores, {machine['ram_gb']} GB RAM, "
        f"Python {machine['python']}, load average at start {machine['loadavg']}.",
        "",
    ]
    for group in by_key(rows):
        lines += _floor_section(runs, group)
        if PAIR in group and SINGLE in group:
            lines += _pair_section(runs, group[PAIR], group[SINGLE])
        if PAIR in group or SINGLE in group:
            lines += _process_section(group)
    found = verdicts(rows)
    if found:
        lines += ["## Targets", "", "| run | target | measured | met |", "| --- | --- | ---: | --- |"]
        lines += [
            f"| {v['run']} | {v['target']} | {_fmt(v['value'])} | {'yes' if v['met'] else '**no**'} |" for v in found
        ]
        lines.append("")
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    """A markdown table row; an empty cell stays `| |`, as the tables always had it."""
    return "|" + "".join(f" {cell} |" if cell else " |" for cell in cells)


def _floor_section(runs: Sequence[Metrics], group: dict[str, Metrics]) -> list[str]:
    """The app's targets next to the floor (with one app target: today's four columns)."""
    ours = samskapa_targets(group) or ["samskapa"]
    floor = group.get(FLOOR)
    first = group.get(ours[0])
    head = first or next(iter(group.values()))
    deflate = ", permessage-deflate" if head["deflate"] else ""
    if first is not None and first.get("experiment"):
        deflate += f"; Samskapa with {first['experiment']}"
    single = len(ours) == 1
    ratios = ["ratio"] if single else [f"{LABELS[target]}/floor" for target in ours]
    columns = [LABELS[target] for target in ours] + ["floor"] + ratios
    lines = [
        f"## {head['profile']}, N={head['participants']}, {head['duration']:.0f} s{deflate}, "
        f"{head['repeats']} repeat(s)",
        "",
        _row(["figure", *columns]),
        _row(["---", *["---:"] * len(columns)]),
    ]
    for key, label in (*COMPARED, *COUNTERS):
        mine = [group.get(target, {}).get(key) for target in ours]
        theirs = (floor or {}).get(key)
        shown = [_fmt(ratio(value, theirs)) for value in mine] if (key, label) in COMPARED else [""] * len(mine)
        lines.append(_row([label, *map(_fmt, mine), _fmt(theirs), *shown]))
    lines.append("")
    if floor is not None and head["repeats"] > 1:
        for target in (t for t in ours if t in group):
            for figure in ("spectrum_p99_ms", "note_p99_ms"):
                spread = ", ".join(_fmt(r) for r in repeat_ratios(runs, _key(head), figure, target))
                lines.append(f"Per-repeat {LABELS[target]}/floor ratio of {figure}: {spread}.  ")
        lines.append("")
    return lines


def _pair_section(runs: Sequence[Metrics], pair: Metrics, single: Metrics) -> list[str]:
    """Two instances against one on the same storage, same N: what the relay hop costs and
    what spreading the sockets saves."""
    lines = [
        f"### pair (2 instances, Redis) against one instance, both on PostgreSQL: "
        f"{pair['profile']}, N={pair['participants']}",
        "",
        "| figure | pair | one instance | pair/one |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, label in (*COMPARED, *PER_PROCESS, *COUNTERS):
        mine, theirs = pair.get(key), single.get(key)
        lines.append(f"| {label} | {_fmt(mine)} | {_fmt(theirs)} | {_fmt(ratio(mine, theirs))} |")
    lines.append("")
    if pair["repeats"] > 1:
        for figure in ("spectrum_p99_ms", "note_p99_ms"):
            spread = ", ".join(_fmt(r) for r in repeat_ratios(runs, _key(pair), figure, PAIR, SINGLE))
            lines.append(f"Per-repeat pair/one ratio of {figure}: {spread}.  ")
        lines.append("")
    return lines


def _process_section(group: dict[str, Metrics]) -> list[str]:
    """Each process's share (medians): on two cores, the busiest one is where the limit is."""
    lines = [
        "### Where the CPU goes (% of one core over the load window; RSS peaks in MB)",
        "",
        "| target | process | participants | CPU | peak RSS |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for target in (*SAMSKAPA_TARGETS, FLOOR):
        row = group.get(target)
        if row is None:
            continue
        for role in row.get("roles", []):
            cells = [row.get(f"{role}_participants"), row.get(f"{role}_cpu_percent"), row.get(f"{role}_rss_peak_mb")]
            lines.append(_row([LABELS[target], role, *map(_fmt, cells)]))
        for service in ("redis", "postgres"):
            if f"{service}_cpu_percent" in row:
                name = "Redis" if service == "redis" else "PostgreSQL backends"
                lines.append(_row([LABELS[target], name, "", _fmt(row[f"{service}_cpu_percent"]), ""]))
        lines.append(_row([LABELS[target], "load generator", "", _fmt(row.get("client_cpu_percent")), ""]))
    lines.append("")
    return lines


def machine_info() -> dict[str, Any]:
    """What the figures were measured on; they mean little without it."""
    model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
