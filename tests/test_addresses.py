"""Per-address limits behind a proxy (app/addresses.py): the rule on its own, then against a
real server in both directions: a forged X-Forwarded-For from an untrusted peer changes
nothing, and behind a trusted proxy each person has their own budget, which rotating the
header's left part cannot renew."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from websockets.asyncio.client import connect

from app.addresses import ClientAddresses, parse_networks
from app.settings import Settings
from tests.servers import ServerProcess

PROXY = ClientAddresses(parse_networks("10.0.0.0/24, 2001:db8:ffff::/48"))
TIMEOUT = 10.0


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # An untrusted peer is the client, whatever it claims.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        ("203.0.113.9", [], "203.0.113.9"),
        # From the proxy: the right-most hop that is not a trusted proxy.
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6, 7.7.7.7, 198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.0.0.3"], "198.51.100.1"),
        # Only proxies in the chain (or no header: the proxy's own request): the furthest.
        ("10.0.0.2", ["10.0.0.7, 10.0.0.3"], "10.0.0.7"),
        ("10.0.0.2", [], "10.0.0.2"),
        # IPv6 people are counted by their /64; mapped IPv4 is IPv4.
        ("10.0.0.2", ["2001:db8:1:2:aaaa::1"], "2001:db8:1:2::/64"),
        ("2001:db8:1:2::7", [], "2001:db8:1:2::/64"),
        ("10.0.0.2", ["::ffff:198.51.100.1"], "198.51.100.1"),
        ("2001:db8:ffff::1", ["198.51.100.1"], "198.51.100.1"),
        (None, ["198.51.100.1"], "unknown"),
        # A hop that names no address stands for the trusted proxy that wrote it.
        ("10.0.0.2", ["unknown"], "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1, unknown-2"], "10.0.0.2"),
        ("10.0.0.2", ["garbage, 10.0.0.3"], "10.0.0.3"),
        ("10.0.0.2", ["x" * 200], "10.0.0.2"),
        # A port some proxies add is not part of the address.
        ("10.0.0.2", ["198.51.100.1:4711"], "198.51.100.1"),
        ("10.0.0.2", ["[2001:db8:1:2::1]:4711"], "2001:db8:1:2::/64"),
        ("10.0.0.3:443", ["198.51.100.1"], "198.51.100.1"),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(peer: str | None, forwarded: list[str], client: str) -> None:
    assert PROXY.client(peer, forwarded) == client


def test_nothing_is_trusted_by_default() -> None:
    assert Settings().trusted_proxies == ()
    assert ClientAddresses().client("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"


def test_a_bad_proxy_setting_stops_the_server_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMSKAPA_TRUSTED_PROXIES", "172.30.0.0/24, caddy")
    with pytest.raises(ValidationError, match="'caddy' is not an IP address or network"):
        Settings()
    monkeypatch.setenv("SAMSKAPA_TRUSTED_PROXIES", "172.30.0.0/24,127.0.0.1")
    assert [str(n) for n in Settings().trusted_proxies] == ["172.30.0.0/24", "127.0.0.1/32"]


def test_rotating_the_left_part_of_the_header_gives_one_client() -> None:
    seen = {PROXY.client("10.0.0.2", [f"{secrets.randbelow(256)}.1.2.3, 198.51.100.1"]) for _ in range(50)}
    assert seen == {"198.51.100.1"}


# ---------------------------------------------------------------- against a real server

LOOKUPS = 3
IDENTITIES = 3
# Loopback has all of 127.0.0.0/8: the test plays a proxy that is not 127.0.0.1 (as Caddy in
# a container is not), from an address of its own.
PROXY_ADDRESS = "127.0.0.2"


def start(tmp_path: Path, **settings: str) -> ServerProcess:
    """One instance whose budgets start empty: kept in its own memory, never in a Redis that
    SAMSKAPA_REDIS_URL in the environment names, where the budgets of these fixed addresses
    would still hold an earlier run's requests for a minute (tests/test_address_limits.py
    tests the budgets on Redis, with addresses of their own)."""
    limits = {"join_lookups_per_minute": str(LOOKUPS), "new_participants_per_minute": str(IDENTITIES)}
    alone = {"redis_url": ""}
    server = ServerProcess(f"sqlite:///{tmp_path / 'samskapa.db'}", tmp_path, None, **limits, **alone, **settings)
    server.start()
    return server


@pytest.fixture
def direct_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """No proxy trusted (the default): the test client is a person on the internet."""
    server = start(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def proxied_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """The test client plays the reverse proxy, from an address the server trusts."""
    server = start(tmp_path, trusted_proxies=PROXY_ADDRESS)
    yield server
    server.stop()


def from_proxy(server: ServerProcess, address: str = PROXY_ADDRESS) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT, transport=transport)


async def lookup(http: httpx.AsyncClient, forwarded_for: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return (await http.get(f"/api/join/{secrets.randbelow(10**6):06d}", headers=headers)).status_code


async def join(server: ServerProcess, room_id: str, forwarded_for: str, address: str = PROXY_ADDRESS) -> str:
    """A new participant through the 'proxy': 'welcome', or the refusal's code."""
    url = server.base_url.replace("http://", "ws://") + f"/ws/rooms/{room_id}"
    headers = {"X-Forwarded-For": forwarded_for}
    async with connect(url, additional_headers=headers, local_addr=(address, 0)) as socket:
        await socket.send(json.dumps({"type": "hello"}))
        async with asyncio.timeout(TIMEOUT):
            reply = json.loads(await socket.recv())
    return "welcome" if reply["type"] == "welcome" else str(reply["code"])


async def new_room(http: httpx.AsyncClient) -> str:
    response = await http.post("/api/rooms", json={"title": "Bakom proxyn"})
    assert response.status_code == 201, response.text
    return str(response.json()["room_id"])


# 127.0.0.1 too: uvicorn believed forwarding headers from it by default.
@pytest.mark.parametrize("peer", ["127.0.0.1", "127.0.0.3"])
async def test_a_forged_header_from_an_untrusted_peer_changes_nothing(direct_server: ServerProcess, peer: str) -> None:
    async with from_proxy(direct_server, peer) as http:
        answers = [await lookup(http, f"198.51.100.{i}") for i in range(LOOKUPS + 2)]
        assert answers[:LOOKUPS] == [404] * LOOKUPS and answers[LOOKUPS:] == [429, 429]
        room_id = await new_room(http)
    joins = [await join(direct_server, room_id, f"198.51.100.{i}", peer) for i in range(IDENTITIES + 1)]
    assert joins == ["welcome"] * IDENTITIES + ["limit_reached"]


async def test_behind_a_trusted_proxy_each_person_has_their_own_budget(proxied_server: ServerProcess) -> None:
    """Issue 17: behind Caddy, 20 of 40 people looking up a code once each got 429."""
    async with from_proxy(proxied_server) as http:
        answers = [await lookup(http, f"198.51.100.{i}") for i in range(40)]
        assert answers == [404] * 40
        # Each person's own budget still holds.
        own = [await lookup(http, "203.0.113.5") for _ in range(LOOKUPS + 1)]
        assert own == [404] * LOOKUPS + [429]
        room_id = await new_room(http)
    joins = [await join(proxied_server, room_id, f"198.51.100.{i}") for i in range(12)]
    assert joins == ["welcome"] * 12


async def test_rotating_the_forwarded_header_behind_a_trusted_proxy_renews_nothing(
    proxied_server: ServerProcess,
) -> None:
    """The proxy appends the address it saw; what the client wrote before it is ignored."""
    async with from_proxy(proxied_server) as http:
        rotating = [await lookup(http, f"10.{i}.0.1, 203.0.113.77") for i in range(LOOKUPS + 2)]
        assert rotating[:LOOKUPS] == [404] * LOOKUPS and rotating[LOOKUPS:] == [429, 429]
        room_id = await new_room(http)
    joins = [await join(proxied_server, room_id, f"10.{i}.0.1, 203.0.113.78") for i in range(IDENTITIES + 1)]
    assert joins == ["welcome"] * IDENTITIES + ["limit_reached"]


async def test_a_trusted_proxys_header_that_names_no_address_renews_nothing(proxied_server: ServerProcess) -> None:
    """Issue 22: each value that was not an address ("unknown-1", "unknown-2", ...) became a
    key of its own, so a proxy passing such values on gave unlimited budgets. Now they are
    the proxy's own address: one budget, which the proxy's own requests share."""
    async with from_proxy(proxied_server) as http:
        answers = [await lookup(http, f"unknown-{i}") for i in range(LOOKUPS + 1)]
        assert answers == [404] * LOOKUPS + [429]
        assert await lookup(http, "garbage") == 429
        assert await lookup(http, None) == 429
        # Someone the proxy does name keeps a budget of their own.
        assert await lookup(http, "198.51.100.9") == 404
        room_id = await new_room(http)
    joins = [await join(proxied_server, room_id, f"unknown-{i}") for i in range(IDENTITIES + 1)]
    assert joins == ["welcome"] * IDENTITIES + ["limit_reached"]
