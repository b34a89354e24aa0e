"""JSON and key=value helpers.

``JsonExtract*`` follow ``buger/jsonparser`` as CrowdSec uses it: a lazy scan that walks only
to the requested key (the first of duplicate keys wins, nothing after the value is checked) and
returns the value's raw text (a string without its quotes and *not* unescaped). ``UnmarshalJSON``
and ``JsonExtractSlice/Object`` decode like Go's ``encoding/json`` into ``interface{}``: every
number is a float64. ``ToJsonString`` encodes like ``json.Marshal``.
"""
from __future__ import annotations

import json
import re
from typing import Any

from engine import gojson
from engine.expr.errors import ExprRuntimeError
from engine.expr.functions import Function
from engine.expr.values import StrMap
from engine.helpers._args import GO_SPACE, mapping, string


class _NotFound(Exception):
    pass


class _Malformed(Exception):
    pass


_WS = " \t\n\r"
_TOKEN_END = re.compile(r"[ \n\r\t,}\]]")


def _skip_ws(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    return i


def _string_end(s: str, i: int) -> int:
    """``s[i]`` is an opening quote: the index after the closing one."""
    j = i + 1
    n = len(s)
    while j < n:
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == '"':
            return j + 1
        j += 1
    raise _Malformed("unterminated string")


def _block_end(s: str, i: int) -> int:
    """``s[i]`` opens an object or array: the index after its matching close (strings skipped,
    contents not validated, as jsonparser's ``blockEnd``)."""
    opener = s[i]
    closer = "}" if opener == "{" else "]"
    depth = 0
    j, n = i, len(s)
    while j < n:
        c = s[j]
        if c == '"':
            j = _string_end(s, j)
            continue
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise _Malformed("unterminated block")


def _value(s: str, i: int) -> tuple[int, int, str]:
    """The value starting at ``s[i]``: (start, end, type) — jsonparser's ``getType``."""
    if i >= len(s):
        raise _Malformed("unexpected end")
    c = s[i]
    if c == '"':
        return i, _string_end(s, i), "string"
    if c == "[":
        return i, _block_end(s, i), "array"
    if c == "{":
        return i, _block_end(s, i), "object"
    m = _TOKEN_END.search(s, i)
    end = m.start() if m else len(s)
    token = s[i:end]
    if c in "tf":
        if token in ("true", "false"):
            return i, end, "boolean"
        raise _Malformed("unknown value type")
    if c in "un":
        if token == "null":
            return i, end, "null"
        raise _Malformed("unknown value type")
    if c == "-" or "0" <= c <= "9":
        return i, end, "number"
    raise _Malformed("unknown value type")


def _unescape_key(raw: str) -> str:
    if "\\" not in raw:
        return raw
    try:
        return json.loads('"' + raw + '"', strict=False)
    except ValueError:
        raise _Malformed("bad escape in key") from None


def json_get(s: str, keys: list[str]) -> tuple[str, str]:
    """jsonparser ``Get``: the raw text and type of the value at ``keys``.

    Raises _NotFound (KeyPathNotFoundError) or _Malformed."""
    i = _skip_ws(s, 0)
    for key in keys:
        i = _skip_ws(s, i)
        opener = s[i] if i < len(s) else ""
        if opener == "{":
            i = _object_member(s, i, key)
        elif opener == "[":
            if len(key) < 2 or key[0] != "[" or key[-1] != "]" or not re.fullmatch(r"[+-]?[0-9]+", key[1:-1]):
                raise _NotFound(key)
            i = _array_item(s, i, int(key[1:-1]))
        else:
            _value(s, i)  # malformed or a scalar: the path cannot go on
            raise _NotFound(key)
    start, end, kind = _value(s, _skip_ws(s, i))
    raw = s[start:end]
    if kind == "string":
        raw = raw[1:-1]
    return raw, kind


def _object_member(s: str, i: int, key: str) -> int:
    """Index of the value of the first member named ``key`` of the object at ``s[i]``."""
    i = _skip_ws(s, i + 1)
    if i < len(s) and s[i] == "}":
        raise _NotFound(key)
    while True:
        if i >= len(s) or s[i] != '"':
            raise _Malformed("expected a key")
        kend = _string_end(s, i)
        name = _unescape_key(s[i + 1:kend - 1])
        i = _skip_ws(s, kend)
        if i >= len(s) or s[i] != ":":
            raise _Malformed("expected ':'")
        i = _skip_ws(s, i + 1)
        if name == key:
            return i
        _, i, _ = _value(s, i)
        i = _skip_ws(s, i)
        if i < len(s) and s[i] == ",":
            i = _skip_ws(s, i + 1)
            continue
        if i < len(s) and s[i] == "}":
            raise _NotFound(key)
        raise _Malformed("expected ',' or '}'")


def _array_item(s: str, i: int, index: int) -> int:
    if index < 0:
        raise _NotFound(str(index))
    i = _skip_ws(s, i + 1)
    if i < len(s) and s[i] == "]":
        raise _NotFound(str(index))
    k = 0
    while True:
        if k == index:
            return i
        _, i, _ = _value(s, i)
        i = _skip_ws(s, i)
        if i < len(s) and s[i] == ",":
            i = _skip_ws(s, i + 1)
            k += 1
            continue
        if i < len(s) and s[i] == "]":
            raise _NotFound(str(index))
        raise _Malformed("expected ',' or ']'")


def _split_target(target: str) -> list[str]:
    """CrowdSec's path syntax: ``a.b[0].c`` → ``["a", "b", "[0]", "c"]``."""
    if not target.startswith("["):
        target = target.replace("[", ".[")
    return target.split(".")


def json_extract_lib(blob: Any, *keys: Any) -> str:
    """``JsonExtractLib(blob, key...)``: raw text of the value, ``""`` when absent or malformed.

    (Upstream's wrapper expects its keys as one []string and fails when called from an
    expression; this takes them as separate arguments, as its signature documents.)"""
    blob = string(blob, "JsonExtractLib")
    path = [string(k, "JsonExtractLib", n + 1) for n, k in enumerate(keys)]
    try:
        raw, _ = json_get(blob, path)
    except (_NotFound, _Malformed):
        return ""
    return raw


def json_extract(blob: Any, target: Any) -> str:
    """``JsonExtract(blob, "a.b[0]")``: raw text of the value; ``""`` when absent/malformed."""
    return json_extract_lib(blob, *_split_target(string(target, "JsonExtract", 1)))


def json_extract_unescape(blob: Any, *keys: Any) -> str:
    """``JsonExtractUnescape(blob, key)``: the unescaped string at one top-level-path key (the
    key is not split on dots; CrowdSec ignores further keys). ``""`` when absent, not a string,
    or malformed."""
    blob = string(blob, "JsonExtractUnescape")
    key = string(keys[0], "JsonExtractUnescape", 1)
    try:
        raw, kind = json_get(blob, [key])
    except (_NotFound, _Malformed):
        return ""
    if kind != "string":
        return ""
    try:
        return json.loads('"' + raw + '"', strict=False)
    except ValueError:
        return ""


def _typed(blob: Any, target: Any, func: str, kind: str) -> Any:
    blob, target = string(blob, func), string(target, func, 1)
    try:
        raw, found = json_get(blob, _split_target(target))
        if found != kind:
            return None
        return gojson.loads(raw)
    except (_NotFound, _Malformed, ValueError):
        return None


def json_extract_slice(blob: Any, target: Any) -> list[Any] | None:
    """The array at ``target`` decoded (numbers are float64); nil when absent or not an array."""
    return _typed(blob, target, "JsonExtractSlice", "array")


def json_extract_object(blob: Any, target: Any) -> dict[str, Any] | None:
    return _typed(blob, target, "JsonExtractObject", "object")


def to_json_string(value: Any) -> str:
    """CrowdSec ``ToJsonString``: ``json.Marshal`` as a string, ``""`` when it fails."""
    try:
        return gojson.dumps(value)
    except (ValueError, RecursionError):
        return ""


def unmarshal_json(blob: Any, target: Any, key: Any) -> None:
    """``UnmarshalJSON(blob, evt.Unmarshaled, "key")``: decode into ``target[key]``; an error
    (and nothing stored) when the blob is not JSON."""
    blob = string(blob, "UnmarshalJSON")
    target = mapping(target, "UnmarshalJSON", 1)
    key = string(key, "UnmarshalJSON", 2)
    try:
        target[key] = gojson.loads(blob)
    except (ValueError, RecursionError) as exc:
        raise ExprRuntimeError(f"UnmarshalJSON: {exc}") from None
    return None


# --- key=value ----------------------------------------------------------------------------

_S = "\\t\\n\\f\\r "  # RE2's \\s
_KV = re.compile(f'(?P<key>[^={_S}]+)=(?:"(?P<quoted>[^"\\\\]*(?:\\\\.[^"\\\\]*)*)"'
                 f'|(?P<value>[^={_S}]+)|[{_S}]*)')
_KEY_START = re.compile(r"([a-zA-Z_][a-zA-Z0-9_.\-]*)=")


def _kv_target(target: Any, prefix: str, func: str) -> StrMap:
    existing = target.get(prefix)
    if prefix not in target:
        table = StrMap()
        target[prefix] = table
        return table
    if type(existing) is not StrMap:
        raise ExprRuntimeError(f"{func}: target is not a map[string]string")
    return existing


def parse_kv(blob: Any, target: Any, prefix: Any) -> None:
    """``ParseKV(line, evt.Unmarshaled, "prefix")``: ``k=v`` and ``k="quoted v"`` pairs into
    ``target[prefix]`` (a map[string]string, merged when it exists); quoted values keep their
    backslash escapes. An error when no pair is found or the target has another type."""
    blob = string(blob, "ParseKV")
    target = mapping(target, "ParseKV", 1)
    prefix = string(prefix, "ParseKV", 2)
    matches = list(_KV.finditer(blob))
    if not matches:
        raise ExprRuntimeError("ParseKV: invalid input format")
    table = _kv_target(target, prefix, "ParseKV")
    for m in matches:
        table[m.group("key")] = m.group("quoted") or m.group("value") or ""
    return None


def _inside_quotes(s: str, pos: int) -> bool:
    inside = False
    for i in range(min(pos + 1, len(s))):
        if s[i] != '"':
            continue
        backslashes = 0
        j = i - 1
        while j >= 0 and s[j] == "\\":
            backslashes += 1
            j -= 1
        if backslashes % 2 == 0:
            inside = not inside
    return inside


def _lax_value(s: str) -> str:
    if not s or s[0] != '"':
        return s
    if len(s) >= 2 and s[-1] == '"':
        return s[1:-1].replace("\\\\", "\\").replace('\\"', '"')
    return s[1:]


def parse_kv_lax(blob: Any, target: Any, prefix: Any) -> None:
    """``ParseKVLax``: a value runs up to the next ``key=`` outside quotes (so unquoted values
    may contain spaces); surrounding quotes are removed and ``\\"``/``\\\\`` unescaped."""
    blob = string(blob, "ParseKVLax")
    target = mapping(target, "ParseKVLax", 1)
    prefix = string(prefix, "ParseKVLax", 2)
    table = _kv_target(target, prefix, "ParseKVLax")
    found = [m for m in _KEY_START.finditer(blob) if not _inside_quotes(blob, m.start())]
    if not found:
        raise ExprRuntimeError("ParseKVLax: invalid input format")
    for n, m in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(blob)
        table[m.group(1)] = _lax_value(blob[m.end():end].strip(GO_SPACE))
    return None


HELPERS: tuple[Function, ...] = (
    Function("JsonExtract", json_extract, 2, 2),
    Function("JsonExtractLib", json_extract_lib, 1, None),
    Function("JsonExtractUnescape", json_extract_unescape, 2, None),
    Function("JsonExtractSlice", json_extract_slice, 2, 2),
    Function("JsonExtractObject", json_extract_object, 2, 2),
    Function("ToJsonString", to_json_string, 1, 1),
    Function("UnmarshalJSON", unmarshal_json, 3, 3, pure=False),
    Function("ParseKV", parse_kv, 3, 3, pure=False),
    Function("ParseKVLax", parse_kv_lax, 3, 3, pure=False),
)
