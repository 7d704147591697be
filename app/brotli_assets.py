"""Brotli for the frontend's versioned files: compressed once, at brotli's best, and kept.

GZipMiddleware compresses a response while it is sent, at a level cheap enough to pay on
every request. A file under the current version never changes under its URL
(app/assets.py), so it can be compressed once at the quality that costs the most CPU and
saves the most bytes, and the bytes kept for every later phone. Brotli's quality 11 writes
the participant page's first screen in 31.4 KB where gzip writes 36.8 (its dictionary knows
the words of JavaScript and CSS): on slow 3G a tenth of a second, and on the projector's
laptop nothing at all (docs/performance.md). Browsers ask for `br` over TLS (and on
localhost), which is how docs/deploy.md serves the app; a client that does not ask, or asks
for a range, gets what it got before.

Compression runs in a worker thread on a file's first request, so the event loop that
serves the rooms never waits for it; two first requests at once compress twice, harmlessly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio.to_thread
import brotli

QUALITY = 11  # brotli's highest; once per file per process
# What compresses: the versioned files a page loads (images other than SVG already are).
MEDIA_TYPES = frozenset({"text/javascript", "text/css", "application/json", "image/svg+xml", "text/html"})


def accepts_brotli(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header names `br` with a weight above zero (RFC 9110
    §12.5.3). A bare `*` is left to the identity and gzip answers: no browser sends it."""
    for item in accept_encoding.split(","):
        coding, _, parameters = item.partition(";")
        if coding.strip().lower() != "br":
            continue
        name, _, weight = parameters.strip().partition("=")
        if name.strip().lower() != "q":
            return True
        try:
            return float(weight) > 0
        except ValueError:
            return False
    return False


class BrotliBodies:
    """Each file's brotli body, by its path under the frontend directory (only a file cached
    for good is compressed: under its URL it never changes)."""

    def __init__(self) -> None:
        self._bodies: dict[str, bytes] = {}

    async def body(self, relative: str, served: Callable[[], Awaitable[bytes]]) -> bytes:
        """The body as brotli; `served` gives it uncompressed, and is asked only the first
        time, so that a file kept compressed is not read again on every request."""
        if relative not in self._bodies:
            self._bodies[relative] = await anyio.to_thread.run_sync(compress, await served())
        return self._bodies[relative]


def compress(served: bytes) -> bytes:
    return bytes(brotli.compress(served, quality=QUALITY))
