"""IP addresses and ranges as numeric intervals, for index range scans.

A decision of scope ``Ip`` or ``Range`` stores its address family size (4 or 16) and the
first and last address of its range as fixed-width (32 hex digit) strings: for one family,
string order is numeric order, so "range contains ip" is ``start <= ip <= end`` on an index.
IPv4-mapped IPv6 addresses (``::ffff:1.2.3.4``) are IPv4, as in CrowdSec.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IPRange:
    size: int  # 4 (IPv4) or 16 (IPv6), CrowdSec's ip_size
    start: int
    end: int

    @property
    def start_key(self) -> str:
        return ip_key(self.start)

    @property
    def end_key(self) -> str:
        return ip_key(self.end)

    def contains(self, other: IPRange) -> bool:
        return self.size == other.size and self.start <= other.start and other.end <= self.end


def ip_key(number: int) -> str:
    """The sortable fixed-width key of an address number."""
    return f"{number:032x}"


def parse_ip_range(text: str) -> IPRange:
    """``1.2.3.4``, ``1.2.3.0/24``, ``2001:db8::/32``… → IPRange; ValueError with a reason.

    Host bits of a CIDR are ignored (``1.2.3.4/24`` is ``1.2.3.0/24``), like Go's ParseCIDR."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"invalid ip or range {text!r}")
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            return IPRange(4 if net.version == 4 else 16, int(net.network_address),
                           int(net.broadcast_address))
        addr = ipaddress.ip_address(text)
    except ValueError as exc:
        raise ValueError(f"invalid ip or range {text!r}: {exc}") from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    size = 4 if addr.version == 4 else 16
    return IPRange(size, int(addr), int(addr))
