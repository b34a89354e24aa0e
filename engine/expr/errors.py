"""Errors of the expression language."""
from __future__ import annotations


class ExprError(ValueError):
    """A syntax or compile error, with its position (0-based character offset) in the source."""

    def __init__(self, message: str, source: str = "", pos: int = 0) -> None:
        self.message = message
        self.source = source
        self.pos = pos
        line = source.count("\n", 0, pos) + 1
        column = pos - (source.rfind("\n", 0, pos) + 1) + 1
        self.line = line
        self.column = column
        text = f"{message} ({line}:{column})"
        if source:
            src_line = source.splitlines()[line - 1] if source.splitlines() else ""
            text += f"\n | {src_line}\n | {'.' * (column - 1)}^"
        super().__init__(text)


class ExprRuntimeError(RuntimeError):
    """An error while evaluating a compiled expression (bad operand types, index out of
    range, calling a missing method…)."""
