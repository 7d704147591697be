"""app/transport.py subclasses uvicorn's WebSocket protocol and relies on its internals; the
start-up check must pass on the pinned uvicorn and name what is missing on any other. Each
test double below is uvicorn's protocol lacking one thing the transport relies on."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from app.transport import UvicornChanged, check_uvicorn_internals


def test_the_pinned_uvicorn_has_everything_the_transport_relies_on(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        check_uvicorn_internals()
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("uvicorn")]
    assert not logged, "the probe's handshake is silent: no app runs, nothing is answered"


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


def test_a_scope_the_handshake_keeps_under_another_name_is_named() -> None:
    """Without `scope` the socket would never offer its direct writer and every broadcast
    would fall back to awaited sends: slower, and silently so."""

    class ScopeElsewhere(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Request) -> None:
            super().handle_connect(event)
            self.asgi_scope = self.__dict__.pop("scope")

    with pytest.raises(UvicornChanged, match="no longer sets 'scope' in the handshake"):
        check_uvicorn_internals(ScopeElsewhere)


def test_a_handshake_response_kept_under_another_name_is_named() -> None:
    """`send` lets go of the handshake's request and response by these names."""

    class ResponseElsewhere(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Request) -> None:
            super().handle_connect(event)
            self.handshake_response = self.__dict__.pop("response")

    with pytest.raises(UvicornChanged, match="no longer sets 'response' in the handshake"):
        check_uvicorn_internals(ResponseElsewhere)


def test_a_scope_without_extensions_is_named() -> None:
    class NoExtensions(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Request) -> None:
            super().handle_connect(event)
            del self.scope["extensions"]

    with pytest.raises(UvicornChanged, match=r"scope\['extensions'\]"):
        check_uvicorn_internals(NoExtensions)


def test_a_protocol_that_fails_the_handshake_is_named() -> None:
    class Broken(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Request) -> None:
            raise AttributeError("no such thing")

    with pytest.raises(UvicornChanged, match="Broken fails a handshake in memory"):
        check_uvicorn_internals(Broken)


def test_a_protocol_that_refuses_a_client_s_handshake_is_named() -> None:
    class Refusing(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Request) -> None:
            del event.headers["Sec-WebSocket-Version"]
            event.headers["Sec-WebSocket-Version"] = "8"
            super().handle_connect(event)

    with pytest.raises(UvicornChanged, match="answers a client's handshake with 400, not 101"):
        check_uvicorn_internals(Refusing)
