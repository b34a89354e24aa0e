"""Data files named by ``data:`` sections, and the helpers that read them (``File``,
``RegexpInFile``, ``FileMap``, ``LookupFile``).

One :class:`DataFiles` per runtime. A file is read once per (name, type): ``string`` keeps its
lines, ``regexp`` (or ``regex``) compiles each line as an RE2 pattern, ``map`` reads JSON lines
``{"pattern", "tag", "type": equals|contains|regex}``. Lines are split as Go's
``bufio.ScanLines`` does (``\\n``, one trailing ``\\r`` dropped); empty lines and lines starting
with ``#`` are skipped. A helper naming a file that was not loaded returns Go's zero value
(``[]``, ``false``, ``""``), as CrowdSec does after logging an error.
"""
from __future__ import annotations

import json
import logging
import re
import warnings
from pathlib import Path
from typing import Any

from engine import re2
from engine.expr.functions import Function
from engine.helpers._args import string

log = logging.getLogger("engine.helpers")

_MAX_LINE = 64 * 1024  # bufio.Scanner's default token limit
_MAP_TYPES = ("equals", "contains", "regex")


class DataFileError(ValueError):
    """A data file that cannot be loaded (unreadable, bad regexp, bad map line)."""


class MapFile:
    """A ``type: map`` file: rows, and the index ``LookupFile`` matches with."""

    __slots__ = ("rows", "_equals", "_contains", "_regexps")

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows
        self._equals: dict[str, int] = {}
        self._contains: dict[str, list[tuple[str, int]]] = {}  # first char → (pattern, row)
        self._regexps: list[tuple[re.Pattern[str], int]] = []
        for i, row in enumerate(rows):
            pattern = row["pattern"]
            kind = row["type"]
            if kind == "equals":
                self._equals[pattern] = i  # a later duplicate wins
            elif kind == "contains":
                self._contains.setdefault(pattern[0], []).append((pattern, i))
            else:
                try:
                    self._regexps.append((re2.compile_re2(pattern), i))
                except (re2.Re2Error, re.error) as exc:
                    log.error("map data file: invalid regex pattern %r: %s", pattern, exc)

    def lookup(self, haystack: str) -> str:
        """The tag of the first match: equals, then the leftmost ``contains`` pattern (the
        earliest listed among those starting there), then regexps in file order; else ``""``."""
        row = self._equals.get(haystack)
        if row is not None:
            return self.rows[row]["tag"]
        if self._contains:
            groups = self._contains
            for pos, ch in enumerate(haystack):
                for pattern, row in groups.get(ch, ()):
                    if haystack.startswith(pattern, pos):
                        return self.rows[row]["tag"]
        for regexp, row in self._regexps:
            if regexp.search(haystack):
                return self.rows[row]["tag"]
        return ""


def _lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        if len(line.encode("utf-8")) > _MAX_LINE:
            raise DataFileError(f"{path}: line too long (over 64 KiB)")
        if line == "" or line.startswith("#"):
            continue
        out.append(line)
    return out


def _map_row(line: str, name: str) -> dict[str, str]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise DataFileError(f"failed to parse JSON line in {name}: {exc}") from None
    if not isinstance(record, dict) or not all(type(v) is str for v in record.values()):
        raise DataFileError(f"failed to parse JSON line in {name}: not a map[string]string: {line}")
    for key in ("pattern", "tag", "type"):
        if not record.get(key):
            raise DataFileError(f"missing mandatory '{key}' field in {name}: {line}")
    if record["type"] not in _MAP_TYPES:
        raise DataFileError(f"unknown entry type '{record['type']}' in {name} "
                            f"(supported: {', '.join(_MAP_TYPES)}): {line}")
    return record


class DataFiles:
    """The data files one runtime has loaded, by ``dest_file`` name."""

    def __init__(self) -> None:
        self._strings: dict[str, list[str]] = {}
        self._regexps: dict[str, list[re.Pattern[str]]] = {}
        # one alternation per regexp file: same answer as trying each line, ~10x faster
        self._combined: dict[str, re.Pattern[str]] = {}
        self._maps: dict[str, MapFile] = {}

    def is_loaded(self, name: str, kind: str) -> bool:
        table = {"string": self._strings, "regexp": self._regexps, "regex": self._regexps,
                 "map": self._maps}.get(kind)
        return table is not None and name in table

    def load(self, path: Path, name: str, kind: str) -> None:
        """Read ``path`` as data file ``name`` of type ``kind`` (a no-op when already loaded or
        when ``kind`` is empty); raises :class:`DataFileError`."""
        if not kind:
            return
        if kind == "bots":
            raise DataFileError("data type 'bots' (MatchKnownBot) is not supported yet")
        if kind not in ("string", "regexp", "regex", "map"):
            raise DataFileError(f"unknown data type '{kind}' for : '{name}'")
        if self.is_loaded(name, kind):
            return
        lines = _lines(path)
        if kind == "string":
            self._strings[name] = lines
        elif kind == "map":
            self._maps[name] = MapFile([_map_row(line, name) for line in lines])
        else:
            compiled = []
            for line in lines:
                try:
                    compiled.append(re2.compile_re2(line))
                except (re2.Re2Error, re.error) as exc:
                    raise DataFileError(f"{name}: invalid regexp {line!r}: {exc}") from None
            self._regexps[name] = compiled
            if compiled:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", FutureWarning)
                        self._combined[name] = re.compile(
                            "|".join(f"(?:{p.pattern})" for p in compiled), compiled[0].flags)
                except (re.error, RecursionError, OverflowError):
                    pass

    def strings(self, name: str) -> list[str] | None:
        return self._strings.get(name)

    def regexps(self, name: str) -> list[re.Pattern[str]] | None:
        return self._regexps.get(name)

    def map(self, name: str) -> MapFile | None:
        return self._maps.get(name)

    # -- helpers ---------------------------------------------------------------------------
    def helpers(self) -> tuple[Function, ...]:
        """``File``, ``RegexpInFile``, ``FileMap``, ``LookupFile`` reading these files. Not
        pure: content may compile an expression before its ``data:`` section is loaded."""

        def file(name: Any) -> list[str]:
            lines = self._strings.get(string(name, "File"))
            if lines is None:
                log.error("file '%s' (type:string) not found in expr library", name)
                return []
            return lines

        def regexp_in_file(data: Any, name: Any) -> bool:
            data, name = string(data, "RegexpInFile"), string(name, "RegexpInFile", 1)
            combined = self._combined.get(name)
            if combined is not None:
                return combined.search(data) is not None
            patterns = self._regexps.get(name)
            if patterns is None:
                log.error("file '%s' (type:regexp) not found in expr library", name)
                return False
            return any(p.search(data) for p in patterns)

        def file_map(name: Any) -> list[dict[str, str]]:
            entry = self._maps.get(string(name, "FileMap"))
            if entry is None:
                log.error("file '%s' (type:map) not found in expr library", name)
                return []
            return entry.rows

        def lookup_file(haystack: Any, name: Any) -> str:
            haystack, name = string(haystack, "LookupFile"), string(name, "LookupFile", 1)
            entry = self._maps.get(name)
            if entry is None:
                log.error("file '%s' (type:map) not found in expr library", name)
                return ""
            return entry.lookup(haystack)

        return (
            Function("File", file, 1, 1, pure=False),
            Function("RegexpInFile", regexp_in_file, 2, 2, pure=False),
            Function("FileMap", file_map, 1, 1, pure=False),
            Function("LookupFile", lookup_file, 2, 2, pure=False),
        )
