"""How the cscli-style commands print: ``-o human`` (an aligned table), ``json`` (the objects
as the API or the database gives them), ``raw`` (CSV with a header line)."""
from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

OUTPUTS = ("human", "json", "raw")


def cell(value: Any) -> str:
    """One table cell: times in RFC 3339 (UTC, seconds), nothing for None."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=cell))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], output: str, *,
                raw_headers: Sequence[str] | None = None) -> None:
    """``rows`` as an aligned table (human) or as CSV (raw, with ``raw_headers`` or
    ``headers`` as its first line). JSON output is the caller's: it prints objects."""
    cells = [[cell(value) for value in row] for row in rows]
    if output == "raw":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(raw_headers or headers)
        writer.writerows(cells)
        return
    widths = [max(len(text) for text in column) for column in zip(headers, *cells)]
    for line in (list(headers), *cells):
        print("  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip())
