"""Grok patterns (CrowdSec's grokky dialect, RE2 mode) compiled to Python regular expressions.

A :class:`GrokLibrary` is one namespace of named patterns: pattern files (``NAME regex`` per
line, files whose name has no ``.``, in name order) plus the ``pattern_syntax`` of parser
nodes. Defining a name twice is refused (:meth:`GrokLibrary.add` returns False): pattern files
treat that as an error, ``pattern_syntax`` keeps the first definition.

Expansion follows grokky exactly, quirks included:

* only ``%{NAME}`` and ``%{NAME:field}`` are references; anything else (``%{NAME:f:int}``) is
  left as regex text, where ``{`` is a literal;
* a pattern is checked when it is added: every name it references must already exist and the
  expansion must be a valid RE2 regex;
* each reference is inlined as a capturing group ``(…)``; the group number of a field is
  computed as grokky does, counting the groups of the text between references with its
  heuristic (``(`` minus ``(?flags:``, minus ``flags)``, minus ``\\(``), and the groups of
  inlined patterns exactly;
* when a field name occurs more than once, the pattern's own level beats a nested pattern,
  and among references at one level the last wins;
* :meth:`GrokPattern.parse` returns every field, ``""`` for groups that did not take part,
  and nothing (a failed match) when the regex has no group at all or no field.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine import re2

_REF = re.compile(r"%\{(\w+)(:(\w+))?}")
_LINE = re.compile(r"^(\w+)\s+(.+)$")
_NONCAP_LEFT = re.compile(r"\(\?[imsU\-]*:")
_NONCAP_FLAGS = re.compile(r"\(?[imsU\-]+\)")


class GrokError(ValueError):
    """An unknown pattern name, an invalid regular expression or a repeated definition."""


def _cap_count(text: str) -> int:
    """grokky's estimate of the capturing groups in literal regex text."""
    return (text.count("(") - len(_NONCAP_LEFT.findall(text)) - len(_NONCAP_FLAGS.findall(text))
            - text.count("\\("))


@dataclass(frozen=True, slots=True)
class _Expansion:
    """A pattern with its references inlined: RE2 source, field → group number, groups."""

    source: str
    fields: Mapping[str, int]
    groups: int


class GrokPattern:
    """A compiled grok pattern; :meth:`parse` searches a string."""

    __slots__ = ("pattern", "regex", "_fields", "_search", "_empty")

    def __init__(self, pattern: str, regex: re.Pattern[str], fields: Mapping[str, str],
                 has_groups: bool = True) -> None:
        self.pattern = pattern
        self.regex = regex
        self._fields = tuple(fields.items())
        self._search = regex.search
        self._empty = not self._fields or not has_groups

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self._fields)

    def parse(self, text: str) -> dict[str, str] | None:
        """The fields of the first match (``""`` for non-participating groups), or None when
        there is no match or grokky would return an empty map (no field, no group)."""
        if self._empty:
            return None
        m = self._search(text)
        if m is None:
            return None
        group = m.group
        return {name: group(g) or "" for name, g in self._fields}


class GrokLibrary:
    """A namespace of named grok patterns."""

    def __init__(self, patterns: Mapping[str, str] | None = None) -> None:
        self._defs: dict[str, str] = {}
        self._expanded: dict[str, _Expansion] = {}  # memo: a definition never changes
        if patterns:
            self.add_many(patterns.items())

    @classmethod
    def from_dir(cls, directory: Path | str) -> GrokLibrary:
        """Load every pattern file of ``directory`` whose name contains no ``.``."""
        lib = cls()
        lib.add_dir(directory)
        return lib

    def add_dir(self, directory: Path | str) -> None:
        """Add the pattern files of ``directory`` (names without a dot, sorted by name);
        raises :class:`GrokError` when a file redefines a name or has an invalid pattern."""
        root = Path(directory)
        if not root.is_dir():
            raise GrokError(f"{root}: patterns directory not found")
        for path in sorted(root.iterdir(), key=lambda p: p.name):
            if path.is_file() and "." not in path.name:
                self.add_file(path)

    def add_file(self, path: Path | str) -> None:
        """Add the ``NAME regex`` lines of a file; other lines (comments…) are ignored. A name
        that is already defined is an error (grokky's ``ErrAlreadyExist``)."""
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            m = _LINE.match(line)
            if not m:
                continue
            try:
                added = self.add(m.group(1), m.group(2))
            except GrokError as exc:
                raise GrokError(f"{path}:{number}: {exc}") from None
            if not added:
                raise GrokError(f"{path}:{number}: grok pattern {m.group(1)!r} is already defined")

    def add_many(self, items: Iterable[tuple[str, str]]) -> None:
        """Add definitions; a repeated name keeps its first definition."""
        for name, expr in items:
            self.add(name, expr)

    def add(self, name: str, expr: str) -> bool:
        """Define ``name``; False (and no change) when it is already defined. Raises
        :class:`GrokError` when the pattern references an unknown name or is not RE2."""
        if not name or not expr:
            raise GrokError(f"empty grok pattern name or expression ({name!r})")
        if name in self._defs:
            return False
        self._expanded[name] = self._expand(expr, name)
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
        return self._compile(self._defs[name], self._expanded[name], name)

    def copy(self) -> GrokLibrary:
        """An independent library with the same definitions (cheap: nothing is recompiled),
        e.g. to reuse a loaded patterns directory for several contents."""
        other = GrokLibrary()
        other._defs = dict(self._defs)
        other._expanded = dict(self._expanded)
        return other

    def compile(self, pattern: str) -> GrokPattern:
        """Compile an inline grok pattern (``^%{SYSLOGBASE} %{GREEDYDATA:message}``)."""
        if not pattern:
            raise GrokError("empty grok pattern")
        return self._compile(pattern, self._expand(pattern, pattern), pattern)

    def _expand(self, expr: str, label: str) -> _Expansion:
        refs = list(_REF.finditer(expr))
        for m in refs:
            if m.group(1) not in self._defs:
                raise GrokError(f"grok pattern {label!r}: the {m.group(1)!r} pattern doesn't exist")
        if not refs:
            return _Expansion(expr, {}, self._count(expr, label))
        own = {m.group(3) or "" for m in refs}
        fields: dict[str, int] = {}
        parts: list[str] = []
        order = 1
        pos = 0
        for m in refs:
            literal = expr[pos : m.start()]
            order += _cap_count(literal)
            sub = self._expanded[m.group(1)]
            field = m.group(3)
            if field:
                fields[field] = order
            parts.append(literal)
            parts.append("(" + sub.source + ")")
            for sub_field, sub_order in sub.fields.items():
                if sub_field not in own:
                    fields[sub_field] = order + sub_order
            order += sub.groups + 1
            pos = m.end()
        parts.append(expr[pos:])
        source = "".join(parts)
        # the groups of the whole expansion: those of this pattern's own text (references
        # replaced by a literal placeholder) plus each inlined pattern's, plus its wrapper
        own_text = _REF.sub("\ue000", expr)
        groups = self._count(own_text, label) + sum(self._expanded[m.group(1)].groups + 1 for m in refs)
        return _Expansion(source, fields, groups)

    @staticmethod
    def _count(source: str, label: str) -> int:
        try:
            return re2.count_groups(source)
        except re2.Re2Error as exc:
            raise GrokError(f"grok pattern {label!r}: {exc}") from None

    @staticmethod
    def _compile(expr: str, expansion: _Expansion, label: str) -> GrokPattern:
        wanted = {number: f"g{number}" for number in expansion.fields.values()}

        def opening(number: int) -> str:
            name = wanted.get(number)
            return f"(?P<{name}>" if name else "(?:"

        try:
            source = re2.translate(expansion.source, opening)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                regex = re.compile(source, re2.FLAGS)
        except (re2.Re2Error, re.error) as exc:
            raise GrokError(f"grok pattern {label!r}: invalid regexp: {exc}") from None
        # a field whose group number is past the last group (grokky's count was off) reads ""
        fields = {name: wanted[number] if number <= expansion.groups else "" for name, number in
                  expansion.fields.items()}
        missing = {name for name, g in fields.items() if not g}
        pattern = GrokPattern(expr, regex, {k: v for k, v in fields.items() if v},
                              has_groups=expansion.groups > 0)
        if missing:
            pattern = _WithMissing(pattern, missing)
        return pattern


class _WithMissing(GrokPattern):
    """A pattern some of whose fields point past the last group (they always read "")."""

    __slots__ = ("_missing",)

    def __init__(self, base: GrokPattern, missing: set[str]) -> None:
        super().__init__(base.pattern, base.regex, dict(base._fields), has_groups=True)
        self._missing = tuple(sorted(missing))
        self._empty = False

    @property
    def fields(self) -> tuple[str, ...]:
        return super().fields + self._missing

    def parse(self, text: str) -> dict[str, str] | None:
        m = self._search(text)
        if m is None:
            return None
        out = {name: m.group(g) or "" for name, g in self._fields}
        for name in self._missing:
            out[name] = ""
        return out
