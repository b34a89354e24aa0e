"""IP addresses and ranges as numeric intervals, for index range scans.

A decision of scope ``Ip`` or ``Range`` stores its address family size (4 or 16) and the
first and last address of its range as fixed-width (32 hex digit) strings: for one family,
string order is numeric order, so "range contains ip" is ``start <= ip <= end`` on an index.
IPv4-mapped IPv6 addresses (``::ffff:1.2.3.4``) are IPv4, as in CrowdSec.

Every stored interval is a CIDR block (an address is a /32 or /128), so the blocks that contain
a given block start at one of its few prefixes (:func:`containing_starts`): "which decisions
contain this IP" is a handful of index seeks on the start key, not a scan of every decision
that starts below it.
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

    @property
    def bits(self) -> int:
        return 32 if self.size == 4 else 128

    def prefix_length(self) -> int | None:
        """The CIDR prefix length of this interval, None when it is not a CIDR block."""
        count = self.end - self.start + 1
        host_bits = count.bit_length() - 1
        if count != 1 << host_bits or self.start & (count - 1):
            return None
        return self.bits - host_bits


def containing_starts(rng: IPRange) -> list[str] | None:
    """The start keys of every CIDR block containing the block ``rng`` (one per prefix
    length up to its own, duplicates removed); None when ``rng`` is not a CIDR block."""
    length = rng.prefix_length()
    if length is None:
        return None
    full = (1 << rng.bits) - 1
    starts = {rng.start & (full ^ ((1 << (rng.bits - p)) - 1)) for p in range(length + 1)}
    return [ip_key(start) for start in sorted(starts)]


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
