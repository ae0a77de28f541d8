"""Address arithmetic: networks, containment and overlap, never mixing address families.

Comparisons go through integer bounds (:func:`bounds`), so an IPv4 network and an IPv6
network are simply disjoint instead of an error, and a CIDR with host bits set
(``10.0.1.5/16``) is read as its network, as AWS and Terraform expect it written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Address space that is never the internet: RFC 1918, shared (CGNAT), loopback,
# link-local, unique-local and IPv6 link-local.
NON_PUBLIC_BLOCKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(c)
    for c in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def network(text: str) -> IPNetwork:
    return ipaddress.ip_network(text, strict=False)


@lru_cache(maxsize=1 << 20)
def parse_address(text: str) -> IPAddress:
    """``ipaddress.ip_address``, remembered: the same few thousand addresses are parsed
    again for every edge, unit and rule that names them (a ValueError is not cached)."""
    return ipaddress.ip_address(text)


def canonical_cidr(text: str) -> str:
    """The network-address form AWS and Terraform require: ``10.0.0.0/16``."""
    return str(network(text))


def bounds(net: IPNetwork) -> tuple[int, int, int]:
    """``(version, first, last)`` as integers: comparisons that never mix families."""
    return net.version, int(net.network_address), int(net.broadcast_address)


def subnet_of(inner: IPNetwork, outer: IPNetwork) -> bool:
    v1, a1, b1 = bounds(inner)
    v2, a2, b2 = bounds(outer)
    return v1 == v2 and a2 <= a1 and b1 <= b2


def overlaps(a: IPNetwork, b: IPNetwork) -> bool:
    v1, a1, b1 = bounds(a)
    v2, a2, b2 = bounds(b)
    return v1 == v2 and a1 <= b2 and a2 <= b1


def covered(inner: IPNetwork, outer: Iterable[IPNetwork]) -> bool:
    """Whether ``inner`` lies inside one of ``outer`` (same address family)."""
    return any(subnet_of(inner, o) for o in outer)


def collapse(nets: Iterable[IPNetwork]) -> list[IPNetwork]:
    """The fewest networks covering exactly ``nets`` (each family on its own), sorted."""
    items = list(nets)
    v4 = [n for n in items if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in items if isinstance(n, ipaddress.IPv6Network)]
    out: list[IPNetwork] = [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]
    return out
