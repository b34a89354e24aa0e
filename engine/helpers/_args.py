"""Argument checks shared by the helpers: expr passes Python values, Go helpers expect types."""
from __future__ import annotations

from typing import Any

from engine.expr.errors import ExprRuntimeError
from engine.expr.values import go_type

#: what Go's ``unicode.IsSpace`` accepts (``strings.TrimSpace``, ``strings.Fields``)
GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
            "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def string(value: Any, func: str, index: int = 0) -> str:
    """``value`` when it is a string; else the error expr reports for a Go ``string`` parameter."""
    if type(value) is not str:
        raise ExprRuntimeError(f"{func}: argument {index + 1} must be string, not {go_type(value)}")
    return value


def integer(value: Any, func: str, index: int) -> int:
    if type(value) is not int:
        raise ExprRuntimeError(f"{func}: argument {index + 1} must be int, not {go_type(value)}")
    return value


def number(value: Any, func: str, index: int) -> float:
    """A Go ``float64`` parameter: floats, and ints (expr converts integer literals)."""
    t = type(value)
    if t is float:
        return value
    if t is int:
        return float(value)
    raise ExprRuntimeError(f"{func}: argument {index + 1} must be float64, not {go_type(value)}")


def string_list(value: Any, func: str, index: int) -> list[str]:
    """A Go ``[]string`` parameter: a list whose items are all strings."""
    if isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
        return list(value)
    raise ExprRuntimeError(f"{func}: argument {index + 1} must be []string, not {go_type(value)}")


def mapping(value: Any, func: str, index: int) -> dict[str, Any]:
    """A Go ``map[string]interface{}`` parameter that the helper writes into."""
    if not isinstance(value, dict):
        raise ExprRuntimeError(
            f"{func}: argument {index + 1} must be map[string]interface {{}}, not {go_type(value)}")
    return value


def byte_index(s: str, char_index: int) -> int:
    """Go string indexes count UTF-8 bytes."""
    if char_index <= 0 or s.isascii():
        return char_index
    return len(s[:char_index].encode("utf-8"))


def go_bytes_to_str(data: bytes) -> str:
    """A Go string made of arbitrary bytes, as a Python str (invalid UTF-8 becomes U+FFFD)."""
    return data.decode("utf-8", errors="replace")
