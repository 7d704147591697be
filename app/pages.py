"""The browser app's pages and static files, and the security headers on every response.

The frontend is plain files under frontend/ (no build step). Pages are the same few HTML
files whatever the room; the room id in the path is read by the page's script. Each page
is completed once, at start, for a slow phone: its modules are all announced in its head
(so the browser fetches them at once instead of one import level per round trip) and its
files are linked under versioned URLs that may be cached for good (app/assets.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.assets import REVALIDATE, STATIC_PREFIX, AssetVersion, VersionedStaticFiles
from app.brotli_assets import accepts_brotli, compress
from app.inlined_files import InliningError, inline_files
from app.module_graph import ModuleGraphError, module_closure

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"


# No inline script anywhere, no inline style but a page's own style sheets (allowed by their
# hashes, app/inlined_files.py), nothing from another host, no framing.
def content_security_policy(style_hashes: tuple[str, ...] = ()) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            " ".join(["style-src 'self'", *style_hashes]),
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# A script, a style sheet or a locale under /static is never a page: a browser runs or
# applies it for one, under that page's policy, and the opener and permissions policies
# mean nothing for it. It keeps what does apply to it (nosniff; the referrer policy, which a
# style sheet's own fetches follow) and a policy that forbids everything, should it ever be
# opened as a document. 270 bytes less on each of the participant page's 16 such answers,
# 4.3 KB of its first visit (docs/performance.md). Pages, images, API answers and exports
# keep SECURITY_HEADERS.
ASSET_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ASSET_TYPES = frozenset({"text/javascript", "text/css", "application/json"})

# Each page (a file under frontend/) and its path; a page's head is completed at start.
PAGES = {
    "index.html": "/",
    "participant.html": "/r/{room_id}",
    "presenter.html": "/r/{room_id}/present",
    "board.html": "/r/{room_id}/board",
    "screen.html": "/r/{room_id}/screen",
}
# Level 6 (zlib's default) writes as few bytes as 9 for these files (29.1 KB of the
# participant page's 91.5 KB), in 2.3 ms of CPU against 2.6; docs/performance.md.
GZIP_LEVEL = 6
TAG = re.compile(r"<(?:link|script)\b[^>]*>")
STATIC_URL = re.compile(r'\b(src|href)="/static/([^"]+)"')
MODULE_SCRIPT = re.compile(r'[ \t]*<script\b[^>]*\btype="module"[^>]*\bsrc="/static/([^"]+)"[^>]*>')


class PageError(ValueError):
    """A page refers to a file that is not there: found at start, not by a participant."""


@dataclass(frozen=True)
class Page:
    body: bytes
    brotli: bytes  # the same body at brotli's best, made once at start (app/brotli_assets.py)
    etag: str
    policy: str  # its Content-Security-Policy, which allows its own style sheets

    @classmethod
    def render(cls, name: str, assets: AssetVersion) -> Page:
        try:
            page = inline_files(name, (assets.directory / name).read_text("utf-8"), assets.directory)
        except InliningError as error:
            raise PageError(str(error)) from error
        body = render_head(name, page.html, assets).encode()
        etag = hashlib.sha256(body).hexdigest()[:16]
        return cls(body, compress(body), etag, content_security_policy(page.style_hashes))

    def response(self, request: Request) -> Response:
        """The page, revalidated on every visit (`no-cache`): it names the current version
        of every asset, so it must never be older than the server. As brotli to a browser
        that asks (then under its own tag), else as written (GZipMiddleware may gzip it)."""
        brotli = accepts_brotli(request.headers.get("accept-encoding", ""))
        etag = f'"{self.etag}-br"' if brotli else f'"{self.etag}"'
        headers = {"Cache-Control": REVALIDATE, "ETag": etag, "Content-Security-Policy": self.policy}
        if brotli:
            headers.update({"Content-Encoding": "br", "Vary": "Accept-Encoding"})
        asked = [tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")]
        if etag in asked or "*" in asked:
            return Response(status_code=304, headers=headers)
        return Response(self.brotli if brotli else self.body, media_type="text/html; charset=utf-8", headers=headers)


def render_head(name: str, html: str, assets: AssetVersion) -> str:
    """The page as served: before each of its module scripts, a `<link rel="modulepreload">`
    for every module that script imports (directly or not) and no earlier one announced, and
    every file it loads itself under its versioned URL.

    A page may have several module scripts: the participant page's first one is small and
    opens the room's socket while the second one's modules still arrive. Its modules are
    announced first, so the browser asks for them first (it has six connections to a host).

    A `<link rel="preload" as="fetch">` is versioned too: it must be the very URL a script
    will `fetch()`, and the scripts build theirs from `import.meta.url`, which is versioned."""
    entries = list(MODULE_SCRIPT.finditer(html))
    scripts = {entry.group(1) for entry in entries}
    announced: list[str] = []
    blocks: list[tuple[int, str]] = []
    for entry in entries:
        indent = entry.group(0)[: len(entry.group(0)) - len(entry.group(0).lstrip())]
        try:
            closure = module_closure(assets.directory, entry.group(1))
        except ModuleGraphError as error:
            raise PageError(f"{name}: {error}") from error
        needed = [module for module in closure if module not in scripts and module not in announced]
        announced += needed
        blocks.append(
            (entry.start(), "".join(f'{indent}<link rel="modulepreload" href="/static/{m}">\n' for m in needed))
        )
    for at, preloads in reversed(blocks):  # from the end, so that each offset still holds
        html = html[:at] + preloads + html[at:]

    def version(tag: re.Match[str]) -> str:
        return STATIC_URL.sub(lambda url: f'{url.group(1)}="{_url(name, url.group(2), assets)}"', tag.group(0))

    return TAG.sub(version, html)


def _url(page: str, relative: str, assets: AssetVersion) -> str:
    if relative not in assets.files:
        raise PageError(f"{page} loads /static/{relative}, which is not a file under {assets.directory}")
    return assets.url(relative)


def page_router(assets: AssetVersion) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for name, path in PAGES.items():
        router.add_api_route(path, _endpoint(Page.render(name, assets)), methods=["GET"], name=name)
    return router


def _endpoint(page: Page) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        return page.response(request)

    return serve


class SecurityHeaders:
    """Plain ASGI middleware (not BaseHTTPMiddleware): it only touches the response start,
    and leaves WebSocket traffic alone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        static = scope["path"].startswith(STATIC_PREFIX + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                media_type = headers.get("content-type", "").partition(";")[0].strip()
                chosen = ASSET_SECURITY_HEADERS if static and media_type in ASSET_TYPES else SECURITY_HEADERS
                for name, value in chosen.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_pages(app: FastAPI) -> None:
    """The pages and /static, plus what every HTTP response gets: compression when the
    client accepts it (any text of 500 bytes or more: pages, assets, API answers, exports,
    the QR code), and the security headers. Neither touches the room socket, which
    app/main.py hands to app/ws.py before FastAPI sees it."""
    assets = AssetVersion.of(FRONTEND_DIR)
    app.include_router(page_router(assets))
    app.mount(STATIC_PREFIX, VersionedStaticFiles(assets), name="static")
    app.add_middleware(GZipMiddleware, compresslevel=GZIP_LEVEL)
    app.add_middleware(SecurityHeaders)
