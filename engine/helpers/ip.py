"""IP and geography helpers (``IsIP``, ``IpToRange``, ``Distance``).

``IpInRange``, ``IsIPV4`` and ``IsIPV6`` live in :mod:`engine.expr.functions`.
"""
from __future__ import annotations

import ipaddress
import math
import re
from typing import Any

from engine.expr.errors import ExprRuntimeError
from engine.expr.functions import Function, go_parse_ip, parse_go_float
from engine.helpers._args import string

_ATOI = re.compile(r"[+-]?[0-9]+\Z")


def is_ip(ip: Any) -> bool:
    """``net.ParseIP(ip) != nil``."""
    return go_parse_ip(string(ip, "IsIP")) is not None


def netip_parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Go ``netip.ParseAddr`` without the zone (IPv4-mapped IPv6 stays IPv6)."""
    if "%" in text:
        text, _, zone = text.partition("%")
        if not zone or ":" not in text:
            return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def netip_string(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """``netip.Addr.String()``: IPv4-mapped IPv6 is written ``::ffff:1.2.3.4``."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return f"::ffff:{addr.ipv4_mapped}"
    return addr.compressed


def ip_to_range(ip: Any, cidr: Any) -> str:
    """``IpToRange("1.2.3.4", "/24")`` → ``"1.2.3.0/24"``; ``""`` on a bad IP or mask."""
    ip, cidr = string(ip, "IpToRange"), string(cidr, "IpToRange", 1)
    bits_text = cidr.removeprefix("/")
    if not _ATOI.match(bits_text):
        return ""
    bits = int(bits_text)
    addr = netip_parse(ip)
    if addr is None or bits < 0 or bits > addr.max_prefixlen:
        return ""
    net = ipaddress.ip_network((int(addr), bits), strict=False)
    if isinstance(addr, ipaddress.IPv6Address):
        return f"{netip_string(ipaddress.IPv6Address(int(net.network_address)))}/{bits}"
    return f"{net.network_address}/{bits}"


_EARTH_RADIUS_KM = 6371.0


def distance(lat1: Any, long1: Any, lat2: Any, long2: Any) -> float:
    """Great-circle distance in km (haversine, radius 6371 km) between two coordinates given as
    strings; 0 when either point is 0,0; an error when a coordinate is not a float."""
    names = ("lat1", "long1", "lat2", "long2")
    values = []
    for n, (name, raw) in enumerate(zip(names, (lat1, long1, lat2, long2))):
        try:
            values.append(parse_go_float(string(raw, "Distance", n)))
        except ValueError:
            raise ExprRuntimeError(f"{name} is not a float : {raw!r}") from None
    la1, lo1, la2, lo2 = values
    if (la1 == 0.0 and lo1 == 0.0) or (la2 == 0.0 and lo2 == 0.0):
        return 0.0
    r_la1, r_lo1 = la1 * math.pi / 180, lo1 * math.pi / 180
    r_la2, r_lo2 = la2 * math.pi / 180, lo2 * math.pi / 180
    a = (math.pow(math.sin((r_la2 - r_la1) / 2), 2)
         + math.cos(r_la1) * math.cos(r_la2) * math.pow(math.sin((r_lo2 - r_lo1) / 2), 2))
    c = 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))
    return c * _EARTH_RADIUS_KM


HELPERS: tuple[Function, ...] = (
    Function("IsIP", is_ip, 1, 1),
    Function("IpToRange", ip_to_range, 2, 2),
    Function("Distance", distance, 4, 4),
)
