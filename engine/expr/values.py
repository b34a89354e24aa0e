"""How Go values are modelled in Python, and Go's ``fmt`` rendering of them.

=================  ============================================================
Go                 Python
=================  ============================================================
nil                ``None``
bool               ``bool`` (never equal to a number, unlike Python)
int                ``int``
float64            ``float``
string             ``str``
[]T                ``list`` (or ``tuple``)
map[string]any     ``dict``: a missing key reads as ``nil``
map[string]string  :class:`StrMap`: a missing key reads as ``""`` (Go's zero value)
struct / pointer   any other object: public attributes are fields, methods are methods
time.Time          :class:`engine.gotime.GoTime`
=================  ============================================================
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from engine.gotime import GoDuration, GoTime, Month, Weekday


class StrMap(dict[str, str]):
    """A Go ``map[string]string``: reading a missing key gives ``""`` and stores nothing."""

    __slots__ = ()

    def __missing__(self, key: str) -> str:
        return ""


def go_type(value: Any) -> str:
    """The Go type name expr would report for ``value`` (for error messages)."""
    if value is None:
        return "<nil>"
    t = type(value)
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float64"
    if t is str:
        return "string"
    if t is StrMap:
        return "map[string]string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if t is GoTime:
        return "time.Time"
    if t is GoDuration:
        return "time.Duration"
    if t is Weekday:
        return "time.Weekday"
    if t is Month:
        return "time.Month"
    return t.__name__


def format_float(value: float, verb: str = "g", prec: int = -1) -> str:
    """Go ``strconv.FormatFloat`` for the verbs ``fmt`` uses: ``g`` (``%v`` is ``g`` with the
    shortest precision: ``1e+06``, ``123456``, ``0.0001``, ``1e-05``), ``e`` and ``f``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if verb == "f":
        return f"{value:.{6 if prec < 0 else prec}f}"
    if verb == "e":
        if prec < 0:
            ds, dp, neg = _shortest_digits(value)
            mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
            return _go_exponent(f"{neg}{mant}e{dp - 1:+d}") if ds != "0" else f"{neg}0e+00"
        return _go_exponent(f"{value:.{prec}e}")
    if prec >= 0:
        return _go_exponent(f"{value:.{max(prec, 1)}g}")
    ds, dp, neg = _shortest_digits(value)
    if ds == "0":
        return neg + "0"
    nd, exp = len(ds), dp - 1
    if exp < -4 or exp >= 6:  # strconv: shortest precision decides with eprec = 6
        mant = ds[0] + ("." + ds[1:] if nd > 1 else "")
        return f"{neg}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{ds}"
    if dp >= nd:
        return neg + ds + "0" * (dp - nd)
    return f"{neg}{ds[:dp]}.{ds[dp:]}"


def _shortest_digits(value: float) -> tuple[str, int, str]:
    """Shortest round-trip digits (no leading/trailing zeros), decimal point position, sign."""
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    stripped = text.lstrip("0")
    if not stripped:
        return "0", 1, "-" if sign else ""
    dp = len(text) + exponent - (len(text) - len(stripped))
    return stripped.rstrip("0"), dp, "-" if sign else ""


def _go_exponent(text: str) -> str:
    """Python writes ``1e+06``/``1e-07``, as Go does; make sure at least 2 exponent digits."""
    if "e" not in text:
        return text
    mant, exp = text.split("e")
    sign = exp[0]
    digits = exp[1:].lstrip("0") or "0"
    return f"{mant}e{sign}{int(digits):02d}"


def format_value(value: Any) -> str:
    """Go ``fmt.Sprint(value)`` (the ``%v`` verb)."""
    if value is None:
        return "<nil>"
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return format_float(value)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{format_value(k)}:{format_value(v)}" for k, v in items) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_value(v) for v in value) + "]"
    if t is GoTime or t is GoDuration or t is Weekday or t is Month:
        return value.String()
    return str(value)


_VERB_TYPES = {
    "d": (int,), "x": (int, str), "X": (int, str), "o": (int,), "b": (int,), "c": (int,),
    "f": (float, int), "F": (float, int), "e": (float, int), "E": (float, int),
    "g": (float, int), "G": (float, int), "s": (str,), "q": (str,), "t": (bool,),
}


def go_sprintf(fmt: str, args: tuple[Any, ...] | list[Any]) -> str:
    """Go ``fmt.Sprintf`` for the common verbs (``%v %s %d %f %e %g %q %x %t %c %%``) with
    flags, width and precision; type mismatches print Go's ``%!verb(type=value)`` forms."""
    out: list[str] = []
    n = len(fmt)
    i = 0
    argi = 0
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        flags = ""
        while i < n and fmt[i] in "+-# 0":
            flags += fmt[i]
            i += 1
        width = ""
        while i < n and fmt[i].isdigit():
            width += fmt[i]
            i += 1
        prec: int | None = None
        if i < n and fmt[i] == ".":
            i += 1
            digits = ""
            while i < n and fmt[i].isdigit():
                digits += fmt[i]
                i += 1
            prec = int(digits or "0")
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        out.append(_pad(_format_verb(verb, arg, flags, prec), width, flags))
    if argi < len(args):
        extra = ", ".join(f"{go_type(a)}={format_value(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _format_verb(verb: str, arg: Any, flags: str, prec: int | None) -> str:
    if verb == "v":
        if type(arg) is float and prec is not None:
            return format_float(arg, "g", prec)
        return _sign(format_value(arg), arg, flags)
    allowed = _VERB_TYPES.get(verb)
    t = type(arg)
    if allowed is None or t not in allowed or (t is bool and verb != "t"):
        if arg is None:
            return f"%!{verb}(<nil>)"
        return f"%!{verb}({go_type(arg)}={format_value(arg)})"
    if verb == "s":
        return arg if prec is None else arg[:prec]
    if verb == "q":
        return _go_quote(arg)
    if verb == "t":
        return "true" if arg else "false"
    if verb == "d":
        return _sign(str(arg), arg, flags)
    if verb in "xX":
        text = format(arg, "x") if t is int else arg.encode().hex()
        if "#" in flags and t is int:
            text = "0x" + text
        return text.upper() if verb == "X" else text
    if verb == "o":
        return format(arg, "o")
    if verb == "b":
        return format(arg, "b")
    if verb == "c":
        return chr(arg)
    value = float(arg) if t is int else arg
    if t is int:  # Go prints %!f(int=1) for ints
        return f"%!{verb}(int={arg})"
    low = verb.lower()
    text = format_float(value, "f" if low == "f" else low, 6 if prec is None and low != "g" else (prec if prec is not None else -1))
    text = _sign(text, value, flags)
    return text.upper() if verb in "EG" else text


def _sign(text: str, value: Any, flags: str) -> str:
    if type(value) in (int, float) and not text.startswith("-"):
        if "+" in flags:
            return "+" + text
        if " " in flags:
            return " " + text
    return text


def _pad(text: str, width: str, flags: str) -> str:
    if not width:
        return text
    w = int(width)
    if len(text) >= w:
        return text
    if "-" in flags:
        return text + " " * (w - len(text))
    if "0" in flags and (text[:1].isdigit() or text[:1] in "+-"):
        sign = text[0] if text[0] in "+-" else ""
        body = text[len(sign):]
        return sign + "0" * (w - len(text)) + body
    return " " * (w - len(text)) + text


def _go_quote(s: str) -> str:
    """Go ``strconv.Quote``."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\v":
            out.append("\\v")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
