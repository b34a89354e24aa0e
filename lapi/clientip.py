"""Who is asking: the client address, and whether it is trusted.

As CrowdSec (``api.server``): the client address is the TCP peer, unless forwarded-for
headers are in use (``use_forwarded_for_headers`` / ``trusted_proxies``) and the peer is a
trusted proxy. Then ``X-Forwarded-For`` is read from the right (the nearest proxy's entry)
skipping trusted proxies; the first untrusted address (or the leftmost one) is the client.
``X-Real-IP`` is the fallback, the peer the last resort. ``trusted_ips`` are the addresses
allowed to delete alerts; loopback always is.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: CrowdSec trusts every proxy when forwarded headers are on without ``trusted_proxies``
#: (it lists 0.0.0.0/0 only, which leaves IPv6 proxies out: both families here)
ANY_PROXY = ("0.0.0.0/0", "::/0")
FORWARDED_HEADERS = ("x-forwarded-for", "x-real-ip")


def parse_networks(values: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    """Addresses or CIDR ranges (host bits ignored, as Go's ``ParseCIDR``); ValueError names
    a bad one."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or range: {value!r}") from None
    return tuple(out)


def parse_address(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def contains(networks: Sequence[IPNetwork], address: IPAddress) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def _from_header(value: str, proxies: Sequence[IPNetwork]) -> str | None:
    items = [item.strip() for item in value.split(",")]
    for index in range(len(items) - 1, -1, -1):
        address = parse_address(items[index])
        if address is None:
            return None
        if index == 0 or not contains(proxies, address):
            return str(address)
    return None


def client_address(peer: str, headers: Iterable[tuple[str, str]],
                   trusted_proxies: Sequence[IPNetwork] | None) -> str:
    """The client address of a request from ``peer`` with ``headers`` (lower-case names;
    repeated headers are joined). ``trusted_proxies`` None: forwarded headers are ignored."""
    address = parse_address(peer)
    if address is None:
        return peer
    if trusted_proxies is None or not contains(trusted_proxies, address):
        return str(address)
    joined: dict[str, list[str]] = {}
    for name, value in headers:
        if name in FORWARDED_HEADERS:
            joined.setdefault(name, []).append(value)
    for name in FORWARDED_HEADERS:
        if name in joined:
            found = _from_header(",".join(joined[name]), trusted_proxies)
            if found is not None:
                return found
    return str(address)


def is_trusted(address: str, trusted_ips: Sequence[IPNetwork]) -> bool:
    """Whether ``address`` may use the trusted-only endpoints (loopback always may)."""
    parsed = parse_address(address)
    return parsed is not None and (str(parsed) in ("127.0.0.1", "::1")
                                   or contains(trusted_ips, parsed))
