"""Evaluating ``parser.assert`` / ``scenario.assert`` (cscli ``ParserAssert``/``ScenarioAssert``).

Each line that is not exactly ``""`` (after removing ``\\n`` and one trailing ``\\r``) is an
expr-lang expression compiled and run on its own, with ``results`` in the environment and the
CrowdSec helpers plus ``basename``. A line that mentions ``datasource_path`` without calling
``basename(`` is first rewritten to ``basename(<left of ==>) == <right of ==>`` (the basename
shim). The result must be a bool: anything else, a compile error or a runtime error is an
error for that line, which counts as failed; the other lines are still evaluated.
"""
from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.expr import DEFAULT_FUNCTIONS, ExprError, Function, compile_expr, function_set
from engine.expr.values import format_value, go_type


def _basename(path: Any) -> str:
    """Go ``filepath.Base``."""
    if type(path) is not str:
        raise TypeError(f"basename: argument must be string, not {go_type(path)}")
    if path == "":
        return "."
    stripped = path.rstrip("/")
    if not stripped:
        return "/"
    return posixpath.basename(stripped)


BASENAME = Function("basename", _basename, 1, 1)


def assert_functions(functions: Mapping[str, Function] | None = None) -> Mapping[str, Function]:
    """The functions of assert lines: ``functions`` (the test runtime's) plus ``basename``."""
    return function_set((functions or DEFAULT_FUNCTIONS).values(), (BASENAME,))


def basename_shim(line: str) -> str:
    """cscli's rewrite of ``datasource_path`` asserts that do not call ``basename`` already."""
    if "datasource_path" not in line or "basename(" in line or "==" not in line:
        return line
    left, _, right = line.partition("==")
    return f"basename({left.strip()}) == {right.strip()}"


def read_assert_lines(path: Path) -> list[tuple[int, str]] | None:
    """(line number, text) of the lines to evaluate; None when the file does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return None
    text = data.decode("utf-8", errors="replace")
    pieces = text.split("\n")
    if pieces and pieces[-1] == "":
        pieces.pop()  # bufio.ScanLines: a final newline ends the last line
    out = []
    for number, piece in enumerate(pieces, 1):
        if piece.endswith("\r"):
            piece = piece[:-1]
        if piece == "":
            continue
        out.append((number, piece))
    return out


@dataclass(slots=True)
class AssertLine:
    number: int
    text: str  # as written
    expression: str  # after the basename shim
    ok: bool = False
    error: str | None = None

    def actual(self, env: Mapping[str, Any], functions: Mapping[str, Function]) -> str | None:
        """The value of the left side of ``==`` (for reports), or None."""
        if "==" not in self.expression:
            return None
        left = self.expression.partition("==")[0].strip()
        try:
            value = compile_expr(left, functions=functions, names=tuple(env))(env)
        except Exception as exc:  # noqa: BLE001 - a report, not a verdict
            return f"<error: {exc}>"
        return format_value(value) if not isinstance(value, str) else repr(value)


@dataclass(slots=True)
class AssertReport:
    """The outcome of one assert file."""

    path: Path
    evaluated: bool
    exists: bool = True
    lines: list[AssertLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.lines) if self.evaluated else 0

    @property
    def failed(self) -> int:
        return sum(1 for line in self.lines if not line.ok) if self.evaluated else 0

    @property
    def error(self) -> str | None:
        if not self.evaluated:
            return None
        if not self.lines:
            what = "missing" if not self.exists else "empty"
            return f"{self.path.name} is {what}: please fill your assert file(s)"
        for line in self.lines:
            if line.error is not None:
                return f"{self.path.name}:{line.number}: unable to run assert {line.text!r}: {line.error}"
        return None

    @property
    def success(self) -> bool:
        return (not self.evaluated) or (bool(self.lines) and self.failed == 0)

    def first_failure(self) -> AssertLine | None:
        return next((line for line in self.lines if not line.ok), None) if self.evaluated else None


def evaluate_assert_file(path: Path, results: Any, functions: Mapping[str, Function],
                         evaluated: bool = True) -> AssertReport:
    """Evaluate every line of ``path`` against ``results`` (``evaluated`` False: only read)."""
    lines = read_assert_lines(path)
    report = AssertReport(path, evaluated, exists=lines is not None)
    if not evaluated:
        return report
    env = {"results": results}
    for number, text in lines or ():
        line = AssertLine(number, text, basename_shim(text))
        report.lines.append(line)
        try:
            compiled = compile_expr(line.expression, functions=functions, names=("results",))
        except ExprError as exc:
            line.error = f"compile error: {exc}"
            continue
        except RecursionError:
            line.error = "compile error: expression too deep"
            continue
        try:
            value = compiled(env)
        except Exception as exc:  # noqa: BLE001 - an erroring line counts as failed
            line.error = f"runtime error: {exc}"
            continue
        if type(value) is not bool:
            line.error = f"expression returned {go_type(value)}, not bool"
            continue
        line.ok = value
    return report
