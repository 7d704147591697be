"""The participant's page on a weak link: how long a phone on slow 3G waits before it can grade.

    .venv/bin/python -m bench.page_load --baseline 1b46191 --repeat 5 \\
        --json bench/results/page-load.json --markdown bench/results/page-load.md

Each target is a checkout of the app: this one ("after") and, with `--baseline REF`, the
commit REF in a temporary detached `git worktree` ("before"), removed afterwards. Each
target's server is `samskapa serve` started from its checkout as a user would start it
(SQLite in a temporary directory, loopback only). For each sample a new room is created, its
facilitator opens the grade phase, and headless Chromium emulating a phone (390x844, touch)
opens the participant link on the link of issue 15: Chrome DevTools Protocol
`Network.emulateNetworkConditions`, 400 ms latency and 400 kbit/s down and up.

A sample is two visits of one phone:

- first: an empty browser profile (nothing cached, no identity in localStorage);
- returning: the browser closed and started again on the same profile, so only what a
  phone keeps when its browser is closed survives (the disk cache, and localStorage with
  the participant's identity), and the same link opened again. It comes RETURN_AFTER_S
  after the first visit ended, when whatever the server let a browser reuse briefly
  without asking (app/assets.py, UNVERSIONED_SECONDS) has expired: a phone that returns
  an hour later pays the same.

"Ready to grade" is the first moment the page, joined to the live room, shows every
statement of the room's template with the first statement's grading control enabled and
on screen, so that a tap would grade (READY below). It is taken inside the page as
`performance.now()` (milliseconds from the start of the navigation), checked on every
animation frame. Requests, bytes and cache hits come from the DevTools protocol's network
events up to that moment: `requests` went to the server (a revalidation that the server
answered 304 counts), `cached` were answered by the browser's cache without asking;
`wire` is what arrived for them, headers included, compressed where the server
compressed; `decoded` is the same bodies uncompressed; `socket` is what the room socket
received (handshake and frames: the welcome with the room's state), as DevTools reports
frames: decoded, so a welcome sent compressed (permessage-deflate) counts at its JSON's
size, 9.1 KB where 3.8 crossed the link. `depth` is the longest
chain of network requests in which each was started by the one before (the page's
document is 0; a module imported by a module imported by the page is 2).

With `--https` the phone reaches each target through Caddy on TLS (bench/tls_proxy.py), as
docs/deploy.md's TLS set-up serves the app, where Chromium speaks HTTP/2: one connection
for every request instead of HTTP/1.1's six. `protocol` says what the page came over.

Latency in DevTools' emulation is added to each request, not to each TCP or TLS round
trip, so a real slow-3G phone waits longer than these figures for its first connection.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, CDPSession, Page, Playwright, sync_playwright
from websockets.sync.client import ClientConnection, connect

from app.assets import UNVERSIONED_SECONDS
from bench.servers import HOST, ROOT, Server, create_room, start_server, wait_healthy
from bench.tls_proxy import TlsProxy, start_tls_proxy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
# Issue 15's slow 3G: 400 ms round trip, 400 kbit/s each way (the protocol wants bytes/s).
LINK = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
TARGET_MS = 2000.0
READY_TIMEOUT_MS = 60_000
RETURN_AFTER_S = UNVERSIONED_SECONDS + 2
SETTLE_QUIET_MS = 1500  # after ready, wait for this long without a request in flight ...
SETTLE_TIMEOUT_S = 20  # ... or at most this long, so the bytes fetched after ready are counted too
VISITS = ("first", "returning")

# Ready to grade, in the participant page's markup (frontend/js/grading.js): every statement
# is a row of the grading list, and the first row has an enabled grading control on screen
# (today the radio buttons 1-10 of frontend/js/scale.js). Follow the markup here
# when it changes: a condition that never holds fails the run after READY_TIMEOUT_MS.
READY = """(statements) => {
  const rows = document.querySelectorAll("section.grading li.statement");
  if (rows.length !== statements) return false;
  const control = rows[0].querySelector('input[type="radio"]:enabled, input[type="range"]:enabled');
  if (!control || control.getClientRects().length === 0) return false;
  return performance.now();
}"""


@dataclass
class Visit:
    """One page load as the phone's browser saw it, until the page was ready to grade."""

    ready_ms: float
    requests: int
    cached: int
    wire_bytes: int
    decoded_bytes: int
    socket_bytes: int
    depth: int
    after_ready_requests: int  # what the page still fetched over the network afterwards
    after_ready_bytes: int
    protocol: str  # what the page itself came over: "http/1.1", "h2"
    urls: list[str] = field(default_factory=list)  # the network requests, in order
    # Where the time went, in ms from the page's request: per request before ready, [path,
    # Chromium's priority, sent, response headers, last byte] (a cache hit too, with its path
    # in parentheses),
    # then the room socket's [event, at]: "socket" (handshake sent), "handshake" (answered),
    # and each frame received ("frame <bytes>").
    timeline: list[list[Any]] = field(default_factory=list)


@dataclass
class NetworkLog:
    """The DevTools protocol's network events of one page (timestamps: monotonic seconds)."""

    sent: dict[str, tuple[float, str]] = field(default_factory=dict)  # request id -> (time, URL)
    initiator: dict[str, str] = field(default_factory=dict)  # request id -> the URL that started it
    priority: dict[str, str] = field(default_factory=dict)  # request id -> Chromium's initial priority
    finished: dict[str, int] = field(default_factory=dict)  # request id -> bytes on the wire
    answered_at: dict[str, float] = field(default_factory=dict)  # request id -> response headers
    finished_at: dict[str, float] = field(default_factory=dict)  # request id -> last byte
    decoded: dict[str, int] = field(default_factory=dict)  # request id -> body bytes decoded
    from_cache: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    socket: list[tuple[float, int]] = field(default_factory=list)  # (time, bytes)
    socket_events: list[tuple[float, str]] = field(default_factory=list)
    protocol: str = ""
    document_sent: float | None = None

    def attach(self, session: CDPSession) -> None:
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.requestServedFromCache", lambda event: self.from_cache.add(event["requestId"]))
        session.on("Network.responseReceived", self._response)
        session.on("Network.dataReceived", self._data)
        session.on("Network.loadingFinished", self._finished)
        session.on("Network.loadingFailed", self._failed)
        session.on("Network.webSocketWillSendHandshakeRequest", self._handshake_sent)
        session.on("Network.webSocketHandshakeResponseReceived", self._handshake)
        session.on("Network.webSocketFrameReceived", self._frame)

    def _sent(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        if url.startswith("data:"):
            return
        if event.get("type") == "Document" and self.document_sent is None:
            self.document_sent = float(event["timestamp"])
        self.sent[event["requestId"]] = (float(event["timestamp"]), url)
        self.priority[event["requestId"]] = event["request"].get("initialPriority", "")
        initiator = event.get("initiator") or {}
        frames = (initiator.get("stack") or {}).get("callFrames") or [{}]
        self.initiator[event["requestId"]] = initiator.get("url") or frames[0].get("url") or ""

    def _response(self, event: dict[str, Any]) -> None:
        self.answered_at[event["requestId"]] = float(event["timestamp"])
        response = event["response"]
        if event.get("type") == "Document" and not self.protocol:
            self.protocol = response.get("protocol", "")
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.from_cache.add(event["requestId"])

    def _data(self, event: dict[str, Any]) -> None:
        self.decoded[event["requestId"]] = self.decoded.get(event["requestId"], 0) + int(event["dataLength"])

    def _finished(self, event: dict[str, Any]) -> None:
        self.finished[event["requestId"]] = int(event["encodedDataLength"])
        self.finished_at[event["requestId"]] = float(event["timestamp"])

    def _failed(self, event: dict[str, Any]) -> None:
        self.failed.add(event["requestId"])
        self.finished.setdefault(event["requestId"], 0)

    def _handshake_sent(self, event: dict[str, Any]) -> None:
        self.socket_events.append((float(event["timestamp"]), "socket"))

    def _handshake(self, event: dict[str, Any]) -> None:
        self.socket.append((float(event["timestamp"]), len(event["response"].get("headersText") or "")))
        self.socket_events.append((float(event["timestamp"]), "handshake"))

    def _frame(self, event: dict[str, Any]) -> None:
        size = len(event["response"]["payloadData"].encode())
        self.socket.append((float(event["timestamp"]), size))
        self.socket_events.append((float(event["timestamp"]), f"frame {size}"))

    def answered_locally(self, rid: str) -> bool:
        """Whether the cache answered: flagged so, or finished without a byte on the wire
        (a request that waited for another one's entry is not always flagged)."""
        return rid in self.from_cache or (self.finished.get(rid) == 0 and rid not in self.failed)

    def in_flight(self) -> int:
        return len(set(self.sent) - set(self.finished))

    def depth(self, request_ids: Sequence[str]) -> int:
        """The longest chain of `request_ids` each started by the one before (the document 0)."""
        by_url = {url: rid for rid, (_, url) in self.sent.items()}
        known: dict[str, int] = {}

        def of(rid: str, seen: frozenset[str] = frozenset()) -> int:
            if rid not in known:
                parent = by_url.get(self.initiator.get(rid, ""))
                known[rid] = 0 if parent is None or parent in seen | {rid} else 1 + of(parent, seen | {rid})
            return known[rid]

        return max((of(rid) for rid in request_ids), default=0)

    def visit(self, ready_ms: float, ready_at: float) -> Visit:
        """What happened up to `ready_at` (a protocol timestamp), and over the network after it."""
        before = [rid for rid, (at, _) in self.sent.items() if at <= ready_at]
        after = [rid for rid, (at, _) in self.sent.items() if at > ready_at and not self.answered_locally(rid)]
        network = [rid for rid in before if not self.answered_locally(rid)]
        return Visit(
            ready_ms=round(ready_ms, 1),
            requests=len(network),
            cached=len(before) - len(network),
            wire_bytes=sum(self.finished.get(rid, 0) for rid in network),
            decoded_bytes=sum(self.decoded.get(rid, 0) for rid in network),
            socket_bytes=sum(size for at, size in self.socket if at <= ready_at),
            depth=self.depth(network),
            after_ready_requests=len(after),
            after_ready_bytes=sum(self.finished.get(rid, 0) for rid in after),
            protocol=self.protocol,
            urls=[self.sent[rid][1] for rid in network],
            timeline=self.timeline(before, ready_at),
        )

    def timeline(self, request_ids: Sequence[str], ready_at: float) -> list[list[Any]]:
        start = self.document_sent or 0.0

        def ms(at: float | None) -> float | None:
            return None if at is None else round((at - start) * 1000)

        rows: list[list[Any]] = []
        for rid in sorted(request_ids, key=lambda rid: self.sent[rid][0]):
            path = urlsplit(self.sent[rid][1]).path
            path = f"({path})" if self.answered_locally(rid) else path
            rows.append(
                [
                    path,
                    self.priority[rid],
                    ms(self.sent[rid][0]),
                    ms(self.answered_at.get(rid)),
                    ms(self.finished_at.get(rid)),
                ]
            )
        rows += [[what, ms(at)] for at, what in self.socket_events if at <= ready_at]
        return rows


class Phone:
    """One phone's browser profile on disk; every visit starts the browser anew on it."""

    def __init__(self, playwright: Playwright, profile: Path, trusted_keys: Sequence[str] = ()) -> None:
        self.playwright = playwright
        self.profile = profile
        # Through bench/tls_proxy.py: the keys of its certificate authority, trusted.
        self.args = (
            [*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={','.join(trusted_keys)}"]
            if trusted_keys
            else CHROMIUM_ARGS
        )

    @contextlib.contextmanager
    def browser(self) -> Iterator[BrowserContext]:
        context = self.playwright.chromium.launch_persistent_context(
            self.profile,
            executable_path=str(CHROMIUM) if CHROMIUM.exists() else None,
            args=self.args,
            headless=True,
            viewport={"width": 390, "height": 844},
            device_scale_factor=3,
            is_mobile=True,
            has_touch=True,
            locale="sv-SE",
        )
        try:
            yield context
        finally:
            context.close()

    def visit(self, url: str, statements: int) -> Visit:
        with self.browser() as context:
            page = context.pages[0] if context.pages else context.new_page()
            session = context.new_cdp_session(page)
            log = NetworkLog()
            log.attach(session)
            session.send("Network.enable")
            session.send("Network.emulateNetworkConditions", LINK)
            page.goto(url, wait_until="commit")
            ready_ms = wait_ready(page, statements)
            ready_at = protocol_time(page, log, ready_ms)
            settle(page, log)
            return log.visit(ready_ms, ready_at)


def wait_ready(page: Page, statements: int) -> float:
    try:
        ready = page.wait_for_function(READY, arg=statements, polling="raf", timeout=READY_TIMEOUT_MS)
    except Exception as error:
        raise RuntimeError(
            f"the page was not ready to grade within {READY_TIMEOUT_MS / 1000:.0f} s: "
            "has the participant page's markup changed? (READY in bench/page_load.py)"
        ) from error
    return float(ready.json_value())


def protocol_time(page: Page, log: NetworkLog, ready_ms: float) -> float:
    """`ready_ms` (page time) as a protocol timestamp: the document's request was sent at the
    navigation's `fetchStart`, which both clocks saw."""
    if log.document_sent is None:
        raise RuntimeError("the page's own request was not seen")
    fetch_start = float(page.evaluate("performance.getEntriesByType('navigation')[0].fetchStart"))
    return log.document_sent + (ready_ms - fetch_start) / 1000


def settle(page: Page, log: NetworkLog) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if log.in_flight():
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= SETTLE_QUIET_MS:
            return
        page.wait_for_timeout(100)  # lets Playwright deliver the protocol's events meanwhile


# ---------------------------------------------------------------- the room


def grading_room(server: Server) -> tuple[str, int]:
    """A new room whose facilitator has opened the grade phase: (participant link, number of
    statements). Plain synchronous `websockets`: Playwright's sync API owns this thread's loop."""
    room_id, token = create_room(server, "")
    with connect(f"ws://{HOST}:{server.port}/ws/rooms/{room_id}", open_timeout=10, max_size=None) as socket:
        socket.send(json.dumps({"type": "hello", "token": token}))
        welcome = _receive(socket, lambda message: message["type"] in {"welcome", "error"})
        if welcome["type"] == "error":
            raise RuntimeError(f"the facilitator could not join: {welcome}")
        socket.send(json.dumps({"type": "set_phase", "phase": "grade", "cid": "bench-grade"}))
        reply = _receive(socket, lambda message: message.get("cid") == "bench-grade")
        if reply["type"] != "ack":
            raise RuntimeError(f"set_phase was refused: {reply}")
    return f"{server.http}/r/{room_id}", len(welcome["snapshot"]["template"]["statements"])


def _receive(socket: ClientConnection, wanted: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if wanted(message):
            return message


# ---------------------------------------------------------------- targets and the run


@dataclass(frozen=True)
class Target:
    name: str
    root: Path  # the checkout whose `samskapa serve` is run
    commit: str


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


def this_checkout(name: str) -> Target:
    changed = git(ROOT, "status", "--porcelain", "--", "app", "frontend")
    return Target(name, ROOT, git(ROOT, "rev-parse", "--short", "HEAD") + (" with changes" if changed else ""))


@contextlib.contextmanager
def baseline_checkout(ref: str, workdir: Path) -> Iterator[Target]:
    """REF in a temporary detached `git worktree`, removed afterwards."""
    path = workdir / "baseline"
    git(ROOT, "worktree", "add", "--detach", "--quiet", str(path), ref)
    try:
        yield Target("before", path, git(path, "rev-parse", "--short", "HEAD"))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)


def sample(playwright: Playwright, server: Server, profile: Path, proxy: TlsProxy | None = None) -> dict[str, Visit]:
    url, statements = grading_room(server)
    if proxy is not None:
        url = url.replace(server.http, proxy.https, 1)
    phone = Phone(playwright, profile, proxy.spki_hashes() if proxy is not None else ())
    first = phone.visit(url, statements)
    time.sleep(RETURN_AFTER_S)  # a later visit, not a synchronisation
    return {"first": first, "returning": phone.visit(url, statements)}


def run(targets: Sequence[Target], repeat: int, workdir: Path, https: bool = False) -> dict[str, Any]:
    servers: dict[str, Server] = {}
    proxies: dict[str, TlsProxy] = {}
    samples: dict[str, list[dict[str, Visit]]] = {target.name: [] for target in targets}
    try:
        for target in targets:
            (workdir / target.name).mkdir()
            servers[target.name] = start_server("samskapa", workdir / target.name, 10, "", root=target.root)
        for name, server in servers.items():
            wait_healthy(server)
            if https:
                proxies[name] = start_tls_proxy(server.port, workdir / name / "caddy")
        with sync_playwright() as playwright:
            for index in range(repeat):
                # Alternating the order: a machine that slows down during the run slows both.
                for target in targets if index % 2 == 0 else list(reversed(targets)):
                    profile = workdir / target.name / f"phone-{index}"
                    visits = sample(playwright, servers[target.name], profile, proxies.get(target.name))
                    samples[target.name].append(visits)
                    print(
                        f"{target.name} {index + 1}/{repeat}: ready after {visits['first'].ready_ms:.0f} ms "
                        f"(first visit), {visits['returning'].ready_ms:.0f} ms (returning)",
                        file=sys.stderr,
                    )
    finally:
        for proxy in proxies.values():
            proxy.stop()
        for server in servers.values():
            server.stop()
    return {
        "link": LINK,
        "https": https,
        "target_ms": TARGET_MS,
        "return_after_s": RETURN_AFTER_S,
        "targets": {
            target.name: {
                "commit": target.commit,
                "summary": summarize(samples[target.name]),
                "samples": [{kind: asdict(visit) for kind, visit in visits.items()} for visits in samples[target.name]],
            }
            for target in targets
        },
    }


# ---------------------------------------------------------------- figures


FIGURES = ("ready_ms", "requests", "cached", "wire_bytes", "decoded_bytes", "socket_bytes", "depth")


def summarize(samples: Sequence[dict[str, Visit]]) -> dict[str, dict[str, Any]]:
    """Per visit kind: the median of each figure, and the range of the ready times."""
    summary: dict[str, dict[str, Any]] = {}
    for kind in VISITS:
        visits = [visits[kind] for visits in samples]
        figures: dict[str, Any] = {name: statistics.median(getattr(v, name) for v in visits) for name in FIGURES}
        ready = [v.ready_ms for v in visits]
        figures.update(ready_min_ms=min(ready), ready_max_ms=max(ready), samples=len(visits))
        summary[kind] = figures
    return summary


def markdown(results: dict[str, Any], command: str) -> str:
    targets = results["targets"]
    columns = [f"{name} ({target['commit']}), {kind}" for name, target in targets.items() for kind in VISITS]
    lines = [
        f"`{command}`",
        "",
        f"Link: {LINK['latency']} ms latency, {LINK['downloadThroughput'] * 8 / 1000:.0f} kbit/s down and up; "
        f"medians of {next(iter(targets.values()))['summary']['first']['samples']} samples"
        + ("; through Caddy on TLS (HTTP/2)." if results.get("https") else "; HTTP/1.1 to `samskapa serve`."),
        "",
        "| figure | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * (len(targets) * len(VISITS)),
    ]

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> str:
        cells = [cell(t["summary"][kind]) for t in targets.values() for kind in VISITS]
        return f"| {label} | " + " | ".join(cells) + " |"

    lines += [
        row("ready to grade, ms (median)", lambda s: f"**{s['ready_ms']:.0f}**"),
        row("ready to grade, ms (range)", lambda s: f"{s['ready_min_ms']:.0f}–{s['ready_max_ms']:.0f}"),
        row(f"within {TARGET_MS:.0f} ms", lambda s: "yes" if s["ready_ms"] <= TARGET_MS else "no"),
        row("requests to the server", lambda s: f"{s['requests']:g}"),
        row("answered by the cache", lambda s: f"{s['cached']:g}"),
        row("longest request chain", lambda s: f"{s['depth']:g}"),
        row("received, KB (headers and bodies)", lambda s: f"{s['wire_bytes'] / 1000:.1f}"),
        row("bodies decoded, KB", lambda s: f"{s['decoded_bytes'] / 1000:.1f}"),
        row("room socket, KB as decoded", lambda s: f"{s['socket_bytes'] / 1000:.1f}"),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="REF", help="also measure this commit, in a temporary git worktree")
    parser.add_argument("--repeat", type=int, default=5, help="samples per target (default 5)")
    parser.add_argument("--json", type=Path, help="write every sample here")
    parser.add_argument("--markdown", type=Path, help="write the summary table here")
    parser.add_argument(
        "--https", action="store_true", help="reach each target through Caddy on TLS, over HTTP/2 (bench/tls_proxy.py)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    command = "python -m bench.page_load " + " ".join(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="samskapa-page-load-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        targets = [stack.enter_context(baseline_checkout(args.baseline, workdir))] if args.baseline else []
        targets.append(this_checkout("after" if args.baseline else "this"))
        results = run(targets, args.repeat, workdir, https=args.https)
    table = markdown(results, command)
    for path, text in ((args.json, json.dumps(results, indent=2)), (args.markdown, table)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n")
    print(table)


if __name__ == "__main__":
    main()
