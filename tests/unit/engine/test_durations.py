"""Go durations: parse and format."""
from __future__ import annotations

import pytest

from engine.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(("text", "ns", "canonical"), [
    ("10s", 10_000_000_000, "10s"),
    ("1m", 60_000_000_000, "1m0s"),
    ("1h30m", 5_400_000_000_000, "1h30m0s"),
    ("1.5h", 5_400_000_000_000, "1h30m0s"),
    ("3h59m59.580483985s", 14_399_580_483_985, "3h59m59.580483985s"),
    ("-85.906523ms", -85_906_523, "-85.906523ms"),
    ("0", 0, "0s"),
    ("0s", 0, "0s"),
    ("+5s", 5_000_000_000, "5s"),
    ("300ms", 300_000_000, "300ms"),
    (".5s", 500_000_000, "500ms"),
    ("1.s", 1_000_000_000, "1s"),
    ("1us", 1_000, "1\u00b5s"),
    ("1\u00b5s", 1_000, "1\u00b5s"),
    ("1\u03bcs", 1_000, "1\u00b5s"),
    ("1500ns", 1_500, "1.5\u00b5s"),
    ("1ns", 1, "1ns"),
    ("90s", 90_000_000_000, "1m30s"),
    ("24h", 86_400_000_000_000, "24h0m0s"),
    ("1h1m1.000000001s", 3_661_000_000_001, "1h1m1.000000001s"),
    ("2562047h47m16.854775807s", (1 << 63) - 1, "2562047h47m16.854775807s"),
])
def test_parse_and_format(text: str, ns: int, canonical: str) -> None:
    assert parse_duration(text) == ns
    assert format_duration(ns) == canonical
    assert parse_duration(canonical) == ns  # round trip


@pytest.mark.parametrize("text", ["", "10", "1x", "s", "1h-1m", "-", "1.2.3s", "2562048h", " 1s", "1 s"])
def test_invalid(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)
