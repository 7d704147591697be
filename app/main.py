"""The ASGI application: routes, error handlers and the lifespan that owns the services."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app import api, co_facilitators, export_api, facilitator_link, logs, metrics, ws
from app.addresses import ClientAddresses
from app.body_limit import BodyLimit
from app.bus import make_bus
from app.clock import now_utc
from app.connection_caps import PEER_GUARD, CapPerClient, OpenConnections, PeerGuard
from app.db import make_engine
from app.errors import ApiError, install_error_handlers
from app.limits import Budgets
from app.locales import messages
from app.open_files import install_accept_error_log
from app.pages import install_pages
from app.rooms import RoomRegistry, RoomStanding
from app.sealing import Sealer, new_key
from app.services import Services
from app.settings import Settings, get_settings
from app.store import Store
from app.templates import LANGUAGES
from app.text import is_room_id
from app.writer import StoreWriter

log = logging.getLogger("samskapa")

# The room a request is about, for its log lines: /r/{room_id}/..., /api/rooms/{room_id}/...
_ROOM_PATH = re.compile(r"^/(?:r|api/rooms)/([^/]+)")


class Samskapa:
    """The app as the server sees it: room sockets go straight to app/ws.py (why: its
    docstring), everything else, lifespan included, to FastAPI."""

    def __init__(self, api: FastAPI) -> None:
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bound = logs.bind_room(_room_of(scope)) if scope["type"] in {"http", "websocket"} else None
        try:
            if scope["type"] == "websocket" and (room_id := ws.room_id_of(scope["path"])) is not None:
                await ws.room_socket(scope, receive, send, self.api.state.services, room_id)
            else:
                await self.api(scope, receive, send)
        finally:
            if bound is not None:
                logs.unbind_room(bound)


def _room_of(scope: Scope) -> str | None:
    """The room id a request's path names, if it is one (never any other text of the path)."""
    path: str = scope["path"]
    found = ws.room_id_of(path)
    if found is None and (match := _ROOM_PATH.match(path)) is not None:
        found = match.group(1)
    return found if found is not None and is_room_id(found) else None


def create_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or get_settings()
    addresses = ClientAddresses(settings.trusted_proxies)
    # Outermost the connection cap (nothing is read from a client over it), then the body
    # limit (nothing parses a body over it), then the app.
    bodies = BodyLimit(Samskapa(create_api(settings)), {export_api.IMPORT_PATH: export_api.MAX_IMPORT_BYTES})
    return CapPerClient(bodies, addresses, settings.max_connections_per_address)


def create_api(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, object]]:
        engine = make_engine(settings.effective_database_url)
        store = Store(engine)
        writer = StoreWriter(store)
        sealer = Sealer(await asyncio.to_thread(store.server_key, "export-groups", new_key))
        bus = make_bus(settings.redis_url)
        await bus.start()
        logs.set_instance(bus.instance_id)
        bus.on_connection_change(metrics.bus_connection_changed)
        rooms = RoomRegistry(store, writer, bus, settings, sealer)
        app.state.metrics = metrics.registry_for(rooms.census)
        budgets = Budgets(settings.redis_url, on_refused=metrics.limit_refused)
        app.state.services = Services(
            settings=settings,
            store=store,
            bus=bus,
            rooms=rooms,
            sealer=sealer,
            join_limiter=budgets.per_address("join", settings.join_lookups_per_minute, 60),
            identity_limiter=budgets.per_address("identity", settings.new_participants_per_minute, 60),
            room_limiter=budgets.per_address("room", settings.rooms_created_per_hour, 3600),
            addresses=ClientAddresses(settings.trusted_proxies),
        )
        sweeper = asyncio.create_task(_sweep_expired(rooms, settings.expiry_sweep_seconds))
        loop_watch = asyncio.create_task(metrics.watch_event_loop())
        restore_exception_handler = install_accept_error_log(asyncio.get_running_loop())
        # For app/http_protocol.py, which reads it from the ASGI state the server keeps.
        peer_guard = PeerGuard(
            app.state.services.addresses,
            OpenConnections(settings.max_connections_per_address),
            settings.header_timeout_seconds,
        )
        _freeze_what_lives_forever()
        try:
            yield {PEER_GUARD: peer_guard}
        finally:
            restore_exception_handler()
            for task in (sweeper, loop_watch):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await rooms.shutdown()
            await bus.stop()
            await budgets.close()
            writer.close()
            store.close()

    app = FastAPI(
        title="Samskapa",
        version="0.1.0",
        summary="A real-time, self-hosted workshop board for reflecting on service logic.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(export_api.router)
    app.include_router(facilitator_link.router)
    app.include_router(co_facilitators.router)
    _install_metrics(app, settings)

    async def room_standing(room_id: str) -> RoomStanding:
        services: Services = app.state.services
        return await services.rooms.standing(room_id)

    install_pages(app, room_standing, {language: messages(language) for language in LANGUAGES})
    return app


def _install_metrics(app: FastAPI, settings: Settings) -> None:
    """GET /metrics for a Prometheus holding the operator's token. Without a token set there
    is no such route: a 404 like any unknown path, nothing to guess at."""
    if settings.metrics_token is None:
        return
    expected = settings.metrics_token.get_secret_value().encode()

    @app.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        # On the loop, not in a thread: the census reads the rooms, which only the loop changes.
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("latin-1"), expected):
            message = "Send the metrics token as 'Authorization: Bearer …'."
            raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})
        body, content_type = metrics.exposition(app.state.metrics)
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def _freeze_what_lives_forever() -> None:
    """Exempt what exists once the app is built (modules, models, routes: ~120,000 objects)
    from the cyclic collector. Its full passes visit every tracked object while the event
    loop stands still; under load they came every few seconds and took 100-200 ms, longer
    than the whole latency budget of a spectrum update (docs/performance.md)."""
    gc.collect()
    gc.freeze()


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
