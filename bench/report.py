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
RATIO_LIMIT = 1.5
RSS_LIMIT_KB = 150.0


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
    return {
        "connected": connected,
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


def pair_runs(rows: Sequence[Metrics]) -> list[tuple[Metrics | None, Metrics | None]]:
    """(Samskapa, floor) for each profile, N and deflate setting, either possibly missing."""
    keys = list(dict.fromkeys(_key(row) for row in rows))
    by = {(row["target"], *_key(row)): row for row in rows}
    return [(by.get(("samskapa", *key)), by.get(("floor", *key))) for key in keys]


def repeat_ratios(runs: Sequence[Metrics], key: tuple[str, int, bool], figure: str) -> list[float | None]:
    """The Samskapa/floor ratio of one figure in each repeat: the spread behind the median."""
    ours = {r.get("repeat", 0): r[figure] for r in runs if _key(r) == key and r["target"] == "samskapa"}
    floor = {r.get("repeat", 0): r[figure] for r in runs if _key(r) == key and r["target"] == "floor"}
    return [ratio(ours[i], floor[i]) for i in sorted(ours) if i in floor]


def verdicts(rows: Sequence[Metrics]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value (medians) and whether it was met."""
    found: list[dict[str, Any]] = []
    for ours, floor in pair_runs(rows):
        if ours is None:
            continue
        name = f"{ours['profile']} N={ours['participants']}" + (" deflate" if ours["deflate"] else "")
        complete = (
            ours["connected"] == ours["participants"] and ours["disconnects"] == 0 and ours["uncovered_scores"] == 0
        )
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
        found.extend({"run": name, "target": what, "value": value, "met": met} for what, value, met in checks)
    return found


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def markdown(runs: Sequence[Metrics], machine: dict[str, Any], command: str) -> str:
    """The result as markdown: one table per profile and N (medians of the repeats), then
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
    for ours, floor in pair_runs(rows):
        head = ours or floor
        assert head is not None
        deflate = ", permessage-deflate" if head["deflate"] else ""
        if ours is not None and ours.get("experiment"):
            deflate += f"; Samskapa with {ours['experiment']}"
        lines += [
            f"## {head['profile']}, N={head['participants']}, {head['duration']:.0f} s{deflate}, "
            f"{head['repeats']} repeat(s)",
            "",
            "| figure | Samskapa | floor | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        for key, label in COMPARED:
            mine, theirs = (ours or {}).get(key), (floor or {}).get(key)
            lines.append(f"| {label} | {_fmt(mine)} | {_fmt(theirs)} | {_fmt(ratio(mine, theirs))} |")
        for key, label in COUNTERS:
            mine, theirs = (ours or {}).get(key), (floor or {}).get(key)
            lines.append(f"| {label} | {_fmt(mine)} | {_fmt(theirs)} | |")
        lines.append("")
        if ours is not None and floor is not None and head["repeats"] > 1:
            for figure in ("spectrum_p99_ms", "note_p99_ms"):
                spread = ", ".join(_fmt(r) for r in repeat_ratios(runs, _key(head), figure))
                lines.append(f"Per-repeat Samskapa/floor ratio of {figure}: {spread}.  ")
            lines.append("")
    found = verdicts(rows)
    if found:
        lines += ["## Targets", "", "| run | target | measured | met |", "| --- | --- | ---: | --- |"]
        lines += [
            f"| {v['run']} | {v['target']} | {_fmt(v['value'])} | {'yes' if v['met'] else '**no**'} |" for v in found
        ]
        lines.append("")
    return "\n".join(lines)


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
