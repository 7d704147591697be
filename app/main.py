"""The ASGI application: routes, error handlers and the lifespan that owns the services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import api, export_api, ws
from app.bus import make_bus
from app.db import make_engine
from app.errors import install_error_handlers
from app.limits import SlidingWindowLimiter
from app.pages import install_pages
from app.room import now_utc
from app.rooms import RoomRegistry
from app.services import Services
from app.settings import Settings, get_settings
from app.store import Store

log = logging.getLogger("samskapa")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url)
        store = Store(engine)
        bus = make_bus(settings.redis_url)
        await bus.start()
        rooms = RoomRegistry(store, bus, settings)
        app.state.services = Services(
            settings=settings,
            store=store,
            bus=bus,
            rooms=rooms,
            join_limiter=SlidingWindowLimiter(settings.join_lookups_per_minute, 60.0),
            identity_limiter=SlidingWindowLimiter(settings.new_participants_per_minute, 60.0),
        )
        sweeper = asyncio.create_task(_sweep_expired(rooms, settings.expiry_sweep_seconds))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await rooms.shutdown()
            await bus.stop()
            engine.dispose()

    app = FastAPI(
        title="Samskapa",
        version="0.1.0",
        summary="A real-time, self-hosted workshop board for reflecting on service logic.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(export_api.router)
    app.include_router(ws.router)
    install_pages(app)
    return app


async def _sweep_expired(rooms: RoomRegistry, every_seconds: float) -> None:
    """Rooms expire (30 days by default): their data is deleted, their join code freed."""
    while True:
        try:
            removed = await rooms.delete_expired(now_utc())
            if removed:
                log.info("deleted %d expired rooms", removed)
        except Exception:
            log.exception("sweeping expired rooms failed")
        await asyncio.sleep(every_seconds)
