"""JSON as Go's ``encoding/json`` reads and writes it, for every part of the engine that
needs it (expr ``toJSON``/``fromJSON``, CrowdSec's JSON helpers, the UnmarshalJSON enricher).

* :func:`loads` — ``json.Unmarshal`` into ``any``: objects → dict, every number → float64,
  no NaN/Infinity literals.
* :func:`dumps` — ``json.Marshal`` (compact) or ``json.MarshalIndent(v, "", indent)``: map
  keys sorted, ``<>&`` and U+2028/2029 escaped, floats as Go prints them.
Both raise ValueError with Go's wording where Go would fail.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.expr.values import format_float
from engine.gotime import GoDuration, GoTime, Month, Weekday


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"cannot unmarshal number {text} into float64")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[:1]!r} looking for beginning of value")


def loads(text: str) -> Any:
    """Decode like ``json.Unmarshal`` into ``interface{}``."""
    return json.loads(text, parse_int=_float, parse_float=_float, parse_constant=_no_constant)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f", "<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
            "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SPECIAL = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029]')


def _string(s: str) -> str:
    return '"' + _SPECIAL.sub(lambda m: _ESCAPES.get(m.group()) or f"\\u{ord(m.group()):04x}", s) + '"'


def _number(value: float) -> str:
    """float64: plain digits, exponent form below 1e-6 and from 1e21 (``1e-07``→``1e-7``)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {format_float(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, _, exponent = format_float(value, "e").partition("e")
        if exponent[0] == "-" and len(exponent) == 3 and exponent[1] == "0":
            exponent = "-" + exponent[2]
        return f"{mantissa}e{exponent}"
    return format(Decimal(repr(value)).normalize(), "f")


def dumps(value: Any, indent: str | None = None) -> str:
    """Encode like ``json.Marshal`` (``indent`` None) or ``json.MarshalIndent``."""
    return _encode(value, indent, "")


def _encode(value: Any, indent: str | None, level: str) -> str:
    if value is None:
        return "null"
    t = type(value)
    if t is str:
        return _string(value)
    if t is bool:
        return "true" if value else "false"
    if t is int or t is Weekday or t is Month:
        return str(int(value))
    if t is float:
        return _number(value)
    if t is GoTime:
        return _string(value.marshal_text())
    if t is GoDuration:
        return str(value.ns)
    if isinstance(value, Mapping):
        items = sorted((k if isinstance(k, str) else str(k), v) for k, v in value.items())
        parts = [(_string(k), _encode(v, indent, level + (indent or ""))) for k, v in items]
        return _container("{", "}", [f"{k}:{' ' if indent is not None else ''}{v}" for k, v in parts],
                          indent, level)
    if isinstance(value, (list, tuple)):
        parts = [_encode(v, indent, level + (indent or "")) for v in value]
        return _container("[", "]", parts, indent, level)
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return _encode(to_json(), indent, level)
    raise ValueError(f"json: unsupported type: {t.__name__}")


def _container(open_: str, close: str, parts: list[str], indent: str | None, level: str) -> str:
    if not parts:
        return open_ + close
    if indent is None:
        return open_ + ",".join(parts) + close
    inner = level + indent
    return open_ + "\n" + ",\n".join(inner + p for p in parts) + "\n" + level + close
