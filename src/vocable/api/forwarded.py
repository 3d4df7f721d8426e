"""Who the client is behind reverse proxies: ``X-Forwarded-For``, believed only from named proxies.

Each proxy appends the address it received the request from, so the list reads client, proxy 1,
proxy 2, ... and only its right end is written by machines we trust: walking it from the right,
the first address that is not a trusted proxy is the client. Whatever a client writes to the left
of that is ignored, and a peer that is not a trusted proxy is the client whatever it sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=16)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return address


def _trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def forwarded_client(peer: str, forwarded_for: Iterable[str], networks: Sequence[IPNetwork]) -> str:
    """The client's address: ``peer`` itself unless it is a trusted proxy, else the right-most
    address of the ``X-Forwarded-For`` values (in header order) that is not a trusted proxy."""
    nearest = _address(peer)
    if nearest is None or not _trusted(nearest, networks):
        return str(nearest) if nearest is not None else peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # not an address: a proxy we trust wrote nonsense; stop at it
            break
        nearest = address
        if not _trusted(address, networks):
            break
    return str(nearest)
