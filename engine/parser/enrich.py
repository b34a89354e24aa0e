"""Enrichers: the functions a static's ``method:`` calls (CrowdSec ``pkg/parser/enrich*.go``).

An enricher takes the static's value and the event and returns entries to merge into
``evt.Enriched`` (or None). :func:`build_enrichers` binds them to one content's outside world
(:class:`engine.runtime.RuntimeOptions`): the GeoLite2 files of ``data_dir`` and the reverse
DNS ``resolver``. Outputs, by method:

* ``ParseDate``: ``MarshaledTime`` (RFC 3339, nanoseconds); in time-machine mode ``evt.Time``.
* ``GeoIpCity``: ``IsoCode``, ``IsInEU`` (``"true"``/``"false"``), ``Latitude``,
  ``Longitude`` (``%f``), from ``GeoLite2-City.mmdb``. An address the database does not know
  gives the zero record (``IsoCode ""``, ``IsInEU "false"``, ``0.000000``), as geoip2-golang.
* ``GeoIpASN``: ``ASNNumber``, ``ASNumber`` (same value), ``ASNOrg``, from
  ``GeoLite2-ASN.mmdb`` (unknown address: ``"0"`` and ``""``).
* ``IpToRange``: ``SourceRange``, the network of the ASN database record holding the address
  (``1.0.0.0/24``); nothing when there is no record.
* ``reverse_dns``: ``reverse_dns``, the first name the resolver gives (with its trailing dot,
  as DNS writes it); nothing without a resolver or a name.
* ``UnmarshalJSON``: decodes ``evt.Line.Raw`` (not the static's value, as CrowdSec does) into
  ``evt.Unmarshaled``; JSON numbers become floats (Go ``float64``); returns nothing.

Without a database file (or an invalid address, or an empty value) the GeoIP enrichers return
nothing. The files are opened on first use; no reader is shared between contents.
"""
from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine import gojson
from engine.event import TIMEMACHINE, Event
from engine.gotime import GoTime, Layout

if TYPE_CHECKING:
    from engine.runtime import RuntimeOptions

log = logging.getLogger("crowdstream.engine.parser")

Enricher = Callable[[str, Event], "Mapping[str, str] | None"]

# CrowdSec's GenDateParse layouts, in its order.
DATE_LAYOUTS: tuple[Layout, ...] = tuple(Layout(text) for text in (
    "2006-01-02T15:04:05Z07:00",  # RFC3339
    "02/Jan/2006:15:04:05 -0700",
    "Mon Jan 2 15:04:05 2006",
    "02-Jan-2006 15:04:05 europe/paris",
    "01/02/2006 15:04:05",
    "2006-01-02 15:04:05.999999999 -0700 MST",
    "Jan  2 15:04:05",
    "Mon Jan 02 15:04:05.000000 2006",
    "2006-01-02T15:04:05Z07:00",
    "2006/01/02",
    "2006/01/02 15:04",
    "2006-01-02",
    "2006-01-02 15:04",
    "2006/01/02 15:04:05",
    "2006-01-02 15:04:05",
    "2006-01-02T15:04:05",
))
_INT64 = 2**63


@lru_cache(maxsize=64)
def _layout(text: str) -> Layout | None:
    """A parser-provided layout (``evt.StrTimeFormat``), compiled once (pure memo)."""
    try:
        return Layout(text)
    except re.error:
        return None


def reference_time(evt: Event, now: Callable[[], float] | None = None) -> GoTime:
    """The "now" of date parsing, never the wall clock: the event's acquisition time, else
    ``evt.Time``, else the injected clock ``now`` (epoch seconds) when both are zero."""
    if not evt.Line.Time.IsZero():
        return evt.Line.Time
    if evt.Time.IsZero() and now is not None:
        return GoTime.from_unix(now())
    return evt.Time


def parse_date(value: str, evt: Event, now: Callable[[], float] | None = None) -> GoTime | None:
    """CrowdSec's date guessing: ``StrTimeFormat`` first, then the known layouts, then a unix
    epoch. A year-less date (syslog ``Jan  2 15:04:05``) takes the ingest time's year."""
    if not value:
        return None
    year = reference_time(evt, now).year()
    layouts = DATE_LAYOUTS
    if evt.StrTimeFormat:
        custom = _layout(evt.StrTimeFormat)
        if custom is not None:
            layouts = (custom,) + DATE_LAYOUTS
    for layout in layouts:
        parsed = layout.try_parse(value, ref_year=year)
        if parsed is not None and not parsed.IsZero():
            return parsed
    # ParseUnixTime: strconv.ParseInt of the part before the first ".", > 0
    head = value.split(".", 1)[0]
    digits = head[1:] if head[:1] in "+-" else head
    if digits.isascii() and digits.isdigit():
        seconds = int(head)
        if 0 < seconds < _INT64:
            return GoTime(seconds * 1_000_000_000)
    return None


def enrich_parse_date(value: str, evt: Event, now: Callable[[], float] | None = None) -> dict[str, str]:
    """``ParseDate``: ``Enriched.MarshaledTime``; in time-machine mode ``evt.Time`` too.
    When nothing parses, the ingest time is used (CrowdSec uses "now")."""
    parsed = parse_date(value, evt, now)
    if parsed is None:
        return {"MarshaledTime": reference_time(evt, now).marshal_text()}
    if evt.ExpectMode == TIMEMACHINE:
        evt.Time = parsed
    return {"MarshaledTime": parsed.marshal_text()}


# --- UnmarshalJSON ------------------------------------------------------------------------

def enrich_unmarshal_json(value: str, evt: Event) -> None:
    """``UnmarshalJSON``: merge the JSON object of ``evt.Line.Raw`` into ``evt.Unmarshaled``
    (Go decodes into the existing map). Invalid JSON or a non-object changes nothing."""
    try:
        data = gojson.loads(evt.Line.Raw)
    except (ValueError, RecursionError) as exc:
        log.debug("UnmarshalJSON: could not parse JSON: %s", exc)
        return None
    if data is None:  # JSON null sets Go's map to nil: it reads as empty
        evt.Unmarshaled = {}
    elif isinstance(data, dict):
        evt.Unmarshaled.update(data)
    else:
        log.debug("UnmarshalJSON: JSON %s is not an object", type(data).__name__)
    return None


# --- GeoIP ----------------------------------------------------------------------------------

def go_parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Go ``net.ParseIP`` as the GeoIP lookups use it: no zone; an IPv4-mapped IPv6 address
    is looked up as IPv4 (``To4``)."""
    if not value or "%" in value:
        return None
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


class GeoIP:
    """The GeoLite2 databases of one data directory, opened on first use."""

    CITY = "GeoLite2-City.mmdb"
    ASN = "GeoLite2-ASN.mmdb"

    def __init__(self, data_dir: Path | str | None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._readers: dict[str, Any] = {}

    def reader(self, name: str) -> Any:
        """The maxminddb reader of ``name`` in ``data_dir``, or None when it is missing."""
        if self.data_dir is None:
            return None
        if name in self._readers:
            return self._readers[name]
        reader = None
        if (self.data_dir / name).is_file():
            try:
                import maxminddb  # noqa: PLC0415 - only needed when GeoIP is used

                reader = maxminddb.open_database(str(self.data_dir / name))
            except (OSError, ValueError, ImportError) as exc:
                log.error("unable to open %s: %s", self.data_dir / name, exc)
        self._readers[name] = reader
        return reader

    def close(self) -> None:
        for reader in self._readers.values():
            if reader is not None:
                reader.close()
        self._readers.clear()

    def city(self, value: str, _evt: Event) -> dict[str, str] | None:
        reader = self.reader(self.CITY)
        addr = go_parse_ip(value) if reader is not None else None
        if addr is None:
            return None
        try:
            record = reader.get(addr) or {}
        except ValueError:  # e.g. an IPv6 address in an IPv4-only database: Go errors
            return None
        out: dict[str, str] = {}
        for key in ("country", "registered_country", "represented_country"):
            country = record.get(key) or {}
            if country.get("iso_code"):
                out["IsoCode"] = country["iso_code"]
                out["IsInEU"] = "true" if country.get("is_in_european_union") else "false"
                break
        else:
            out["IsoCode"] = ""
            out["IsInEU"] = "false"
        location = record.get("location") or {}
        out["Latitude"] = f"{float(location.get('latitude') or 0.0):f}"
        out["Longitude"] = f"{float(location.get('longitude') or 0.0):f}"
        return out

    def asn(self, value: str, _evt: Event) -> dict[str, str] | None:
        reader = self.reader(self.ASN)
        addr = go_parse_ip(value) if reader is not None else None
        if addr is None:
            return None
        try:
            record = reader.get(addr) or {}
        except ValueError:
            return None
        number = str(int(record.get("autonomous_system_number") or 0))
        return {"ASNNumber": number, "ASNumber": number,
                "ASNOrg": str(record.get("autonomous_system_organization") or "")}

    def range(self, value: str, _evt: Event) -> dict[str, str] | None:
        reader = self.reader(self.ASN)
        addr = go_parse_ip(value) if reader is not None else None
        if addr is None:
            return None
        try:
            record, prefix = reader.get_with_prefix_len(addr)
        except ValueError:
            return None
        if record is None:
            return None
        network = ipaddress.ip_network(f"{addr}/{prefix}", strict=False)
        return {"SourceRange": str(network)}


def _reverse_dns(resolver: Callable[[str], str | None] | None) -> Enricher:
    def reverse_dns(value: str, _evt: Event) -> dict[str, str] | None:
        if not value or resolver is None:
            return None
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return None
        try:
            name = resolver(value)
        except Exception as exc:  # noqa: BLE001 - a failed lookup is no enrichment
            log.debug("reverse_dns: lookup of %s failed: %s", value, exc)
            return None
        return {"reverse_dns": name} if name else None
    return reverse_dns


def build_enrichers(options: RuntimeOptions | None) -> Mapping[str, Enricher]:
    """The six CrowdSec enrichers bound to ``options`` (data_dir, resolver)."""
    geoip = GeoIP(getattr(options, "data_dir", None))
    now = getattr(options, "now", None)

    def parse_date_enricher(value: str, evt: Event) -> dict[str, str]:
        return enrich_parse_date(value, evt, now)

    return MappingProxyType({
        "GeoIpCity": geoip.city,
        "GeoIpASN": geoip.asn,
        "IpToRange": geoip.range,
        "reverse_dns": _reverse_dns(getattr(options, "resolver", None)),
        "ParseDate": parse_date_enricher if now is not None else enrich_parse_date,
        "UnmarshalJSON": enrich_unmarshal_json,
    })


#: the enrichers without an outside world (no GeoIP files, no resolver)
ENRICHERS: Mapping[str, Enricher] = build_enrichers(None)
