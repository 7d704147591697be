"""Who is asking: the one rule for the client address that every per-address limit uses.

Behind a reverse proxy every connection comes from the proxy, so the proxy's address says
nothing about the person (issue 17: behind Caddy, forty people shared one join-lookup
budget). The proxy says who it forwards in X-Forwarded-For, appending its own peer to
whatever the client sent. Hence the rule:

- A peer that is not a trusted proxy (SAMSKAPA_TRUSTED_PROXIES; none by default) is the
  client, whatever headers it sends: a forged X-Forwarded-For is ignored.
- From a trusted proxy, the client is the right-most hop of X-Forwarded-For that is not
  itself a trusted proxy: the address the first trusted proxy saw. Everything left of it
  was written by the client and is ignored, so rotating it changes nothing.
- A hop there that is not an IP address ("unknown", which RFC 7239 lets a proxy say of a
  client it cannot name, or whatever a proxy passes on unchecked) stands for the trusted
  proxy that wrote it: it shares that proxy's budget instead of each value minting one.
- An IPv6 client is counted by its /64 network, which one household or phone holds whole:
  per address, it would have 2^64 fresh budgets.

uvicorn's own proxy-header handling is switched off (app/cli.py), so that this module is
the only place a forwarding header is read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

Network = IPv4Network | IPv6Network
UNKNOWN = "unknown"
FORWARDED_FOR = b"x-forwarded-for"
# What one hop may be (an address is at most 45 characters); a longer one is cut.
_MAX_HOP = 64


def parse_networks(spec: str | Iterable[str]) -> tuple[Network, ...]:
    """Comma- or space-separated addresses and networks ("172.30.0.0/24, ::1") as networks;
    ValueError names the first entry that is neither."""
    entries = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec)
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"{entry!r} is not an IP address or network") from error
    return tuple(networks)


def _address(text: str) -> IPv4Address | IPv6Address | None:
    """The IP address a hop names, without a port some proxies add ("198.51.100.1:4711",
    "[2001:db8::1]:4711"): a port is a new one for every connection, and so would the
    budget be if it were part of the key."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class ClientAddresses:
    """The rule, built once from the trusted proxies."""

    trusted: tuple[Network, ...] = ()

    def is_trusted(self, peer: str | None) -> bool:
        address = _address(peer) if peer else None
        return address is not None and any(address in network for network in self.trusted)

    def client(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str:
        """The key for per-address limits of a request from `peer` carrying these
        X-Forwarded-For values (in header order)."""
        if not peer:
            return UNKNOWN
        if not self.is_trusted(peer):
            return _key(peer)
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
        proxy = peer  # the trusted proxy that wrote the hop looked at next
        for hop in reversed(hops):
            if _address(hop) is None:
                # Not an address ("unknown", garbage): the proxy could not name whom it
                # forwards, so it counts as the client. A name of its own would be a fresh
                # budget for every value a client can make the proxy write.
                return _key(proxy)
            if not self.is_trusted(hop):
                return _key(hop)
            proxy = hop
        # Only trusted hops (or no header: the proxy's own health check): the furthest one.
        return _key(proxy)

    def client_of(self, scope: Any) -> str:
        """The same, for an ASGI HTTP or WebSocket scope."""
        peer = scope.get("client")
        host = peer[0] if peer else None
        if not self.is_trusted(host):
            return _key(host) if host else UNKNOWN
        forwarded = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == FORWARDED_FOR]
        return self.client(host, forwarded)


def _key(hop: str) -> str:
    address = _address(hop)
    if address is None:
        # A peer that is not an IP address (a server on a Unix socket may see one): its own
        # name, cut so that it cannot become an unbounded key.
        return hop[:_MAX_HOP]
    if isinstance(address, IPv6Address):
        return str(IPv6Network((address, 64), strict=False))
    return str(address)
