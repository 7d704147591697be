"""The `samskapa` command: `serve` runs the app (migrating first), `migrate` only migrates."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from app import logs
from app.db import migrate
from app.open_files import raise_open_file_limit
from app.settings import Settings, get_settings
from app.transport import check_uvicorn_internals

# Samskapa's own WebSocket protocol for uvicorn: direct writes for the room's fan-out.
WS_PROTOCOL = "app.transport:RoomSocketProtocol"
# uvicorn's h11 protocol with a per-address connection cap and a header-read timeout.
HTTP_PROTOCOL = "app.http_protocol:GuardedHttpProtocol"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app, shared by `serve` and the benchmark's variants.

    permessage-deflate is on, in app/transport.py's way: each large frame compressed once
    for every socket, nothing kept per socket (docs/performance.md, "permessage-deflate").

    uvicorn's proxy headers stay off: by default it believes X-Forwarded-For from 127.0.0.1
    and rewrites the client address itself. The app reads forwarding headers in one place,
    app/addresses.py, from the proxies SAMSKAPA_TRUSTED_PROXIES names and no others.

    Its logging is app/logs.py's, text or JSON lines (SAMSKAPA_LOG_FORMAT), for uvicorn's
    own lines as for the app's."""
    return {
        "factory": True,
        "http": HTTP_PROTOCOL,
        "ws": WS_PROTOCOL,
        "ws_max_size": settings.max_frame_bytes,
        "ws_per_message_deflate": True,
        "proxy_headers": False,
        "log_level": "info",
        "log_config": logs.config(settings.log_format),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="samskapa", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--reload", action="store_true", help="restart on code changes")
    serve.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
    commands.add_parser("migrate", help="apply database migrations and exit")
    args = parser.parse_args(argv)

    settings = get_settings()
    logs.configure(settings.log_format)
    if args.command == "serve":
        raise_open_file_limit()
    if args.command == "migrate" or not args.no_migrate:
        migrate(settings.effective_database_url)
    if args.command == "serve":
        check_uvicorn_internals()
        options = uvicorn_options(settings)
        uvicorn.run("app.main:create_app", host=args.host, port=args.port, reload=args.reload, **options)


if __name__ == "__main__":
    main()
