"""Grok patterns (CrowdSec's grokky dialect) compiled to Python regular expressions.

A :class:`GrokLibrary` is one namespace of named patterns: pattern files (``NAME regex`` per
line, files whose name has no ``.``, in name order) plus the ``pattern_syntax`` of parser
nodes. The first definition of a name wins.

``%{NAME}`` inlines pattern NAME; ``%{NAME:field}`` also captures it as ``field``
(``%{NAME:field:type}`` is accepted, the type ignored). As in grokky, a match returns every
field of the pattern, ``""`` for groups that did not take part, and when a field name occurs
several times the capture at the pattern's own level beats one inside a sub-pattern, and
among captures at one level the last wins. A pattern without any field never "matches".
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine import re2

_REF = re.compile(r"%\{(\w+)(?::(\w+))?(?::\w+)?\}")
_LINE = re.compile(r"^(\w+)\s+(.+)$")
_PH_OPEN, _PH_CLOSE = "\ue000", "\ue001"  # placeholders survive the RE2 translation as is
_PH = re.compile(_PH_OPEN + r"(\d+)" + _PH_CLOSE)


class GrokError(ValueError):
    """An unknown pattern name, a reference cycle or an invalid regular expression."""


@dataclass(frozen=True, slots=True)
class _Template:
    """A pattern translated once to Python syntax, with placeholders for its references."""

    source: str
    refs: tuple[tuple[str, str], ...]  # (pattern name, field or "") per placeholder


class GrokPattern:
    """A compiled grok pattern; :meth:`parse` searches a string."""

    __slots__ = ("pattern", "regex", "_fields", "_search")

    def __init__(self, pattern: str, regex: re.Pattern[str], fields: Mapping[str, str]) -> None:
        self.pattern = pattern
        self.regex = regex
        self._fields = tuple(fields.items())
        self._search = regex.search

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self._fields)

    def parse(self, text: str) -> dict[str, str] | None:
        """The fields of the first match (``""`` for non-participating groups), or None when
        there is no match or the pattern has no field (grokky then returns an empty map)."""
        m = self._search(text)
        if m is None or not self._fields:
            return None
        group = m.group
        return {name: group(g) or "" for name, g in self._fields}


class GrokLibrary:
    """A namespace of named grok patterns."""

    def __init__(self, patterns: Mapping[str, str] | None = None) -> None:
        self._defs: dict[str, str] = {}
        self._templates: dict[str, _Template] = {}
        if patterns:
            self.add_many(patterns.items())

    @classmethod
    def from_dir(cls, directory: Path | str) -> GrokLibrary:
        """Load every pattern file of ``directory`` whose name contains no ``.``."""
        lib = cls()
        lib.add_dir(directory)
        return lib

    def add_dir(self, directory: Path | str) -> None:
        root = Path(directory)
        if not root.is_dir():
            raise GrokError(f"{root}: patterns directory not found")
        for path in sorted(root.iterdir(), key=lambda p: p.name):
            if path.is_file() and "." not in path.name:
                self.add_file(path)

    def add_file(self, path: Path | str) -> None:
        """Add the ``NAME regex`` lines of a file; other lines (comments…) are ignored."""
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            m = _LINE.match(line)
            if m:
                self.add(m.group(1), m.group(2))

    def add_many(self, items: Iterable[tuple[str, str]]) -> None:
        for name, expr in items:
            self.add(name, expr)

    def add(self, name: str, expr: str) -> bool:
        """Define ``name``; False (and no change) when it is already defined."""
        if not name or not expr:
            raise GrokError(f"empty grok pattern name or expression ({name!r})")
        if name in self._defs:
            return False
        self._defs[name] = expr
        return True

    def __contains__(self, name: object) -> bool:
        return name in self._defs

    def __len__(self) -> int:
        return len(self._defs)

    def get(self, name: str) -> GrokPattern:
        """The compiled pattern ``name``."""
        if name not in self._defs:
            raise GrokError(f"grok pattern {name!r} is not defined")
        return self._compile(self._defs[name], f"%{{{name}}}")

    def compile(self, pattern: str) -> GrokPattern:
        """Compile an inline grok pattern (``^%{SYSLOGBASE} %{GREEDYDATA:message}``)."""
        if not pattern:
            raise GrokError("empty grok pattern")
        return self._compile(pattern, pattern)

    def _compile(self, expr: str, label: str) -> GrokPattern:
        counter = [0]
        source, fields = self._expand(self._translate(expr, label), (), counter)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                regex = re.compile(source, re2.FLAGS)
        except re.error as exc:
            raise GrokError(f"grok pattern {label!r}: invalid regexp: {exc}") from None
        return GrokPattern(expr, regex, fields)

    def _translate(self, expr: str, label: str) -> _Template:
        refs: list[tuple[str, str]] = []

        def placeholder(m: re.Match[str]) -> str:
            refs.append((m.group(1), m.group(2) or ""))
            return f"{_PH_OPEN}{len(refs) - 1}{_PH_CLOSE}"

        try:
            source = re2.translate(_REF.sub(placeholder, expr))
        except re2.Re2Error as exc:
            raise GrokError(f"grok pattern {label!r}: {exc}") from None
        return _Template(source, tuple(refs))

    def _template(self, name: str) -> _Template:
        tpl = self._templates.get(name)
        if tpl is None:
            if name not in self._defs:
                raise GrokError(f"grok pattern {name!r} is not defined")
            tpl = self._translate(self._defs[name], name)
            self._templates[name] = tpl
        return tpl

    def _expand(self, tpl: _Template, stack: tuple[str, ...],
                counter: list[int]) -> tuple[str, dict[str, str]]:
        """Inline the references of ``tpl``: Python source and field → group name."""
        own = {field for _, field in tpl.refs if field}
        fields: dict[str, str] = {}
        parts: list[str] = []
        pos = 0
        for m in _PH.finditer(tpl.source):
            name, field = tpl.refs[int(m.group(1))]
            if name in stack:
                raise GrokError(f"grok pattern {name!r} references itself")
            sub_source, sub_fields = self._expand(self._template(name), stack + (name,), counter)
            parts.append(tpl.source[pos : m.start()])
            if field:
                group = f"g{counter[0]}"
                counter[0] += 1
                parts.append(f"(?P<{group}>{sub_source})")
                fields[field] = group
            else:
                parts.append(f"(?:{sub_source})")
            for sub_field, sub_group in sub_fields.items():
                if sub_field not in own:
                    fields[sub_field] = sub_group
            pos = m.end()
        parts.append(tpl.source[pos:])
        return "".join(parts), fields
