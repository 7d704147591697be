"""Running out of file descriptors, and saying so without filling the disk.

When the process has no descriptor left, every accept() fails. asyncio logs each failure
with a traceback, and (CPython 3.11) goes on trying up to a hundred times per loop turn:
with 400 connections held open against a limit of 150, the log grew 22 MB in five seconds
(issue 17 saw 120 MB). `AcceptErrorLog` logs the first failure and then one line a minute
that counts the rest. `raise_open_file_limit` lifts the soft limit to the hard one at
start, so that the limit is the system's, not a shell's default of 1024.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Callable
from typing import Any

ACCEPT_FAILED = "socket.accept() out of system resource"
log = logging.getLogger("samskapa")

ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


class AcceptErrorLog:
    """An event loop exception handler: accept() failures at most once per `every_seconds`,
    everything else to the handler that was there before (or the loop's default)."""

    def __init__(
        self,
        previous: ExceptionHandler | None = None,
        every_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.previous = previous
        self.every = every_seconds
        self.clock = clock
        self.last_logged: float | None = None
        self.unlogged = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_FAILED:
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = self.clock()
        self.unlogged += 1
        if self.last_logged is not None and now - self.last_logged < self.every:
            return
        log.error(
            "accepting connections fails: %s (%d time(s) since the last report; "
            "too many open connections, see the limits in docs/deploy.md)",
            context.get("exception"),
            self.unlogged,
        )
        self.last_logged, self.unlogged = now, 0


def install_accept_error_log(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Put `AcceptErrorLog` on `loop`; returns what puts the previous handler back."""
    previous = loop.get_exception_handler()
    loop.set_exception_handler(AcceptErrorLog(previous))
    return lambda: loop.set_exception_handler(previous)


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard limit; returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft
