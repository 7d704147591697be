"""Protocol versions negotiated in the hello (issue 23), over a real server and real sockets.

A hello names the versions its client speaks; the server answers with the highest it speaks
too, or refuses with `unsupported_protocol` and a close code that tells the page what to do:
4426, reload (the page is too old), or 4427, reconnect (this instance is the older one in a
rolling upgrade). Clients from before the negotiation send `"protocol": 1` and nothing else,
and must be welcomed as before.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from app import protocol as p
from app.client import Message
from tests.conftest import NewRoom
from tests.servers import ServerProcess
from tests.test_bad_input import close_code_of, receive


@pytest.fixture
async def ws_url(new_room: NewRoom, server: ServerProcess) -> str:
    room = await new_room()
    return server.base_url.replace("http://", "ws://") + f"/ws/rooms/{room['room_id']}"


async def hello_reply(url: str, hello: dict[str, Any]) -> tuple[Message, ClientConnection]:
    socket = await connect(url)
    await socket.send(json.dumps({"type": "hello", **hello}))
    return await receive(socket), socket


@pytest.mark.parametrize(
    ("hello", "chosen"),
    [({"protocol": 1}, 1), ({}, 1), ({"protocols": [1, 2]}, 1), ({"protocol": 2, "protocols": [1, 2, 7]}, 1)],
    ids=["protocol-1", "nothing-said", "protocols-1-2", "newer-client-that-also-speaks-1"],
)
async def test_a_hello_is_welcomed_with_the_highest_common_version(
    ws_url: str, hello: dict[str, Any], chosen: int
) -> None:
    welcome, socket = await hello_reply(ws_url, {**hello, "name": "Ada"})
    async with socket:
        assert welcome["type"] == "welcome", welcome
        assert welcome["protocol"] == chosen
        assert welcome["you"]["name"] == "Ada"


async def test_the_url_hello_is_welcomed_with_protocol_1(ws_url: str) -> None:
    async with connect(ws_url + "?join=new") as socket:
        welcome = await receive(socket)
        assert welcome["type"] == "welcome" and welcome["protocol"] == 1


async def test_a_client_newer_than_the_server_is_told_to_reconnect(ws_url: str) -> None:
    """A page from the next release reaching an instance of this one, mid-upgrade."""
    error, socket = await hello_reply(ws_url, {"protocol": 2, "protocols": [2]})
    assert error["type"] == "error" and error["code"] == "unsupported_protocol", error
    assert await close_code_of(socket) == p.CloseCode.SERVER_TOO_OLD
    assert int(p.CloseCode.SERVER_TOO_OLD) == 4427, "a documented code never changes"


async def test_a_newer_protocol_alone_is_not_an_invalid_message(ws_url: str) -> None:
    """`"protocol": 2` without a list: the close code, not invalid_message, which the client
    could never fix by sending the hello again."""
    error, socket = await hello_reply(ws_url, {"protocol": 2})
    assert error["code"] == "unsupported_protocol"
    assert await close_code_of(socket) == p.CloseCode.SERVER_TOO_OLD


async def test_a_refused_hello_leaves_the_room_serving(ws_url: str) -> None:
    _, refused = await hello_reply(ws_url, {"protocols": [3]})
    await close_code_of(refused)
    welcome, socket = await hello_reply(ws_url, {"protocol": 1})
    async with socket:
        assert welcome["type"] == "welcome"


# ---------------------------------------------------------------- choosing, without a server


@pytest.mark.parametrize(
    ("spoken", "supported", "expected"),
    [
        ({1}, {1}, 1),
        ({1, 2}, {1}, 1),
        ({1, 2, 3}, {2, 3, 4}, 3),
        ({2}, {1}, p.CloseCode.SERVER_TOO_OLD),
        ({5, 9}, {1, 2}, p.CloseCode.SERVER_TOO_OLD),
        ({1}, {2, 3}, p.CloseCode.CLIENT_TOO_OLD),
        ({1, 2}, {3}, p.CloseCode.CLIENT_TOO_OLD),
        ({1, 4}, {2, 3}, p.CloseCode.CLIENT_TOO_OLD),
    ],
)
def test_choose_protocol(spoken: set[int], supported: set[int], expected: int) -> None:
    """The highest common version; without one, the side that is behind decides the close:
    a client wholly older than the server reloads, one wholly newer reconnects."""
    chosen = p.choose_protocol(spoken, supported)
    if isinstance(expected, p.CloseCode):
        assert isinstance(chosen, p.Unsupported) and chosen.close_code == expected
    else:
        assert chosen == expected


def test_a_hello_without_protocols_speaks_its_protocol() -> None:
    assert p.Hello(type="hello").speaks() == {1}
    assert p.Hello(type="hello", protocol=2).speaks() == {2}
    assert p.Hello(type="hello", protocol=1, protocols=[1, 2]).speaks() == {1, 2}


def test_the_server_speaks_its_announced_version() -> None:
    assert p.PROTOCOL_VERSION in p.SUPPORTED_PROTOCOLS
    assert p.choose_protocol({p.PROTOCOL_VERSION}) == p.PROTOCOL_VERSION
