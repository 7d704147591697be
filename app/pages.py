"""The browser app's pages and static files, and the security headers on every response.

The frontend is plain files under frontend/ (no build step). Pages are the same few HTML
files whatever the room; the room id in the path is read by the page's script. Each page
is completed once, at start, for a slow phone: its modules are all announced in its head
(so the browser fetches them at once instead of one import level per round trip) and its
files are linked under versioned URLs that may be cached for good (app/assets.py).

A room's pages are served only while the room is there: the address of a room that never
was or was deleted answers 404, of one that has expired 410, with a small page that says
so (`GonePage`), as the room's socket would (`not_found`). Asking costs no query for a room
in memory or an id of no room's shape (app/rooms.py), and a live room's page is revalidated
and answered 304 as before.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.assets import REVALIDATE, STATIC_PREFIX, AssetVersion, VersionedStaticFiles
from app.brotli_assets import accepts_brotli, compress
from app.inlined_files import InliningError, inline_files
from app.module_graph import ModuleGraphError, module_closure

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"
log = logging.getLogger(__name__)

# How a room stands, for its pages (app/rooms.py's RoomRegistry.standing), and where a page
# asks it: given by app/main.py, which has the services.
RoomStanding = Literal["live", "expired", "unknown"]
StandingOf = Callable[[str], Awaitable[RoomStanding]]
# The UI's words by language (frontend/locales/*.json through app/locales.py), the first
# language first: what a page without a script says, it says in each.
Words = Mapping[str, Mapping[str, str]]


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
        body, policy = complete(name, (assets.directory / name).read_text("utf-8"), assets)
        etag = hashlib.sha256(body).hexdigest()[:16]
        return cls(body, compress(body), etag, policy)

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


def complete(name: str, page: str, assets: AssetVersion) -> tuple[bytes, str]:
    """A page as served, and its Content-Security-Policy: its style sheets and Swedish in
    it (app/inlined_files.py), its modules announced and its files versioned."""
    try:
        inlined = inline_files(name, page, assets.directory)
    except InliningError as error:
        raise PageError(str(error)) from error
    return render_head(name, inlined.html, assets).encode(), content_security_policy(inlined.style_hashes)


GONE_PAGE = """<!doctype html>
<html lang="{language}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light">
  <meta name="robots" content="noindex">
  <title>{title} – Samskapa</title>
  <link rel="icon" href="/static/img/icon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/css/app.css">
</head>
<body class="page-gone">
  <a class="skip-link" href="#main">{skip}</a>
  <header class="start-header"><a class="logo" href="/">Samskapa</a></header>
  <main id="main" tabindex="-1" class="start gone">
{sections}  </main>
</body>
</html>
"""
# The first language's words stand out; the others follow, each in its own language.
GONE_FIRST = """    <section class="card gone-card" lang="{language}">
      <h1>{heading}</h1>
      <p class="lead">{text}</p>
      <p><a class="button-link" href="/">{home}</a></p>
    </section>
"""
GONE_OTHER = """    <section class="gone-other" lang="{language}">
      <h2>{heading}</h2>
      <p>{text}</p>
      <p><a href="/">{home}</a></p>
    </section>
"""
GONE_STATUS: dict[RoomStanding, int] = {"unknown": 404, "expired": 410}
GONE_KEYS: dict[RoomStanding, str] = {"unknown": "gone.notFound", "expired": "gone.expired"}


@dataclass(frozen=True)
class GonePage:
    """What a room's address answers once the room is not there: 404 when nothing is known
    of it (never made, deleted, or expired and swept away), 410 when it has expired. Not the
    room's page: that would load its scripts and open a socket only to be told `not_found`.

    The server does not know the reader's language (the app keeps that choice in the
    browser), so the page says it in Swedish, every page's first language, then in English
    and Finnish, each in its own `lang`. No script; made once at start, as brotli too, and
    never kept by the browser (`no-store`): the same address may soon answer otherwise
    (expired now, unknown once swept)."""

    status: int
    body: bytes
    brotli: bytes
    policy: str

    @classmethod
    def render(cls, standing: RoomStanding, words: Words, assets: AssetVersion) -> GonePage:
        key = GONE_KEYS[standing]
        sections = []
        for index, (language, table) in enumerate(words.items()):
            section = GONE_OTHER if index else GONE_FIRST
            heading, text, home = (escape(table[k]) for k in (f"{key}.heading", f"{key}.text", "gone.home"))
            sections.append(section.format(language=language, heading=heading, text=text, home=home))
        first, first_words = next(iter(words.items()))
        page = GONE_PAGE.format(
            language=first,
            title=escape(first_words[f"{key}.heading"]),
            skip=escape(first_words["skip.main"]),
            sections="".join(sections),
        )
        body, policy = complete(f"the {GONE_STATUS[standing]} page", page, assets)
        return cls(GONE_STATUS[standing], body, compress(body), policy)

    def response(self, request: Request) -> Response:
        brotli = accepts_brotli(request.headers.get("accept-encoding", ""))
        headers = {"Cache-Control": "no-store", "Content-Security-Policy": self.policy}
        if brotli:
            headers.update({"Content-Encoding": "br", "Vary": "Accept-Encoding"})
        body = self.brotli if brotli else self.body
        return Response(body, status_code=self.status, media_type="text/html; charset=utf-8", headers=headers)


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


def page_router(assets: AssetVersion, standing_of: StandingOf, words: Words) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    gone = {standing: GonePage.render(standing, words, assets) for standing in GONE_STATUS}
    for name, path in PAGES.items():
        page = Page.render(name, assets)
        endpoint = _room_endpoint(page, standing_of, gone) if "{room_id}" in path else _endpoint(page)
        router.add_api_route(path, endpoint, methods=["GET"], name=name)
    return router


def _endpoint(page: Page) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        return page.response(request)

    return serve


def _room_endpoint(
    page: Page, standing_of: StandingOf, gone: Mapping[RoomStanding, GonePage]
) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        """The room's page while it is there (revalidated and 304 as any page), else what
        says it is not. Asked before the validator is looked at: a browser that kept the page
        of a room since deleted must not hear that its copy is still good."""
        try:
            standing = await standing_of(request.path_params["room_id"])
        except Exception as error:
            # The page needs nothing of the store: served, its socket says what it finds
            # (`unavailable`, and it tries again) rather than the visitor getting a 500.
            log.warning("could not tell whether a room is there (%s); serving its page", type(error).__name__)
            standing = "live"
        return page.response(request) if standing == "live" else gone[standing].response(request)

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


def install_pages(app: FastAPI, standing_of: StandingOf, words: Words) -> None:
    """The pages and /static, plus what every HTTP response gets: compression when the
    client accepts it (any text of 500 bytes or more: pages, assets, API answers, exports,
    the QR code), and the security headers. Neither touches the room socket, which
    app/main.py hands to app/ws.py before FastAPI sees it. `standing_of` tells a room's
    pages whether the room is there; `words` are the UI's, for the page that says it is not."""
    assets = AssetVersion.of(FRONTEND_DIR)
    app.include_router(page_router(assets, standing_of, words))
    app.mount(STATIC_PREFIX, VersionedStaticFiles(assets), name="static")
    app.add_middleware(GZipMiddleware, compresslevel=GZIP_LEVEL)
    app.add_middleware(SecurityHeaders)
