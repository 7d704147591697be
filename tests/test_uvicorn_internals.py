"""app/transport.py subclasses uvicorn's WebSocket protocol and relies on its internals; the
start-up check must pass on the pinned uvicorn and name what is missing on any other."""

from __future__ import annotations

from typing import Any

import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.transport import UvicornChanged, check_uvicorn_internals


def test_the_pinned_uvicorn_has_everything_the_transport_relies_on() -> None:
    check_uvicorn_internals()


def test_a_method_gone_from_uvicorn_is_named() -> None:
    class Renamed(WebSocketsSansIOProtocol):
        keepalive_timeout = None  # type: ignore[assignment]

    with pytest.raises(UvicornChanged, match="'keepalive_timeout'"):
        check_uvicorn_internals(Renamed)


def test_an_attribute_uvicorn_no_longer_sets_is_named() -> None:
    class Forgetful(WebSocketsSansIOProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            del self.read_paused

    with pytest.raises(UvicornChanged, match="'read_paused'"):
        check_uvicorn_internals(Forgetful)
