"""A size limit on every request body, enforced before the app parses a byte of it.

Issue 17: POST /api/rooms parsed a 200 MB body before refusing it. Here a body is refused
with 413 `too_large` when its Content-Length says it is too big, and otherwise counted as
it streams in and refused the moment it passes the limit; only a body within the limit is
handed to the app (buffered, then replayed). Each path may have its own limit (an import is
a whole board); every other path gets `MAX_BODY_BYTES`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest valid template (30 statements, 20 questions, 12 areas, three languages, 400
# characters a text) is about 160,000 characters: under 1 MB even with every character
# escaped as JSON \u sequences. Twice that is room enough.
MAX_BODY_BYTES = 2 * 1024 * 1024


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


class BodyLimit:
    def __init__(self, app: ASGIApp, limits: Mapping[str, int], default: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limits = dict(limits)
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before it had sent its body
            body += message.get("body", b"")
            if len(body) > limit:
                await _too_large(send, limit)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            # h11 has already refused a Content-Length that is not a number.
            return int(value) if value.isdigit() else None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then whatever the client sends next (its disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"code": "too_large", "message": f"The body may be at most {_megabytes(limit)}."}).encode()
    # No "connection: close": closing with the rest of the body unread makes the kernel reset
    # the connection, and a client still sending would lose this answer. uvicorn reads on and
    # drops the rest instead (nothing of it is kept), then the connection may carry on.
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
