"""The browser app's pages and static files, and the security headers on every response.

The frontend is plain files under frontend/ (no build step). Pages are the same few HTML
files whatever the room; the room id in the path is read by the page's script.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"

# No inline script or style anywhere, nothing from another host, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(FRONTEND_DIR / name, media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/")
async def start_page() -> FileResponse:
    return _page("index.html")


@router.get("/r/{room_id}")
async def participant_page(room_id: str) -> FileResponse:
    return _page("participant.html")


@router.get("/r/{room_id}/present")
async def presenter_page(room_id: str) -> FileResponse:
    return _page("presenter.html")


@router.get("/r/{room_id}/board")
async def board_page(room_id: str) -> FileResponse:
    return _page("board.html")


class SecurityHeaders:
    """Plain ASGI middleware (not BaseHTTPMiddleware): it only touches the response start,
    and leaves WebSocket traffic alone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_pages(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR), name="static")
    app.add_middleware(SecurityHeaders)
