"""String helpers: CrowdSec's wrappers of Go's ``strings`` package, glob ``Match``, base64
and URL escaping (``net/url``), and the query-string parsers of ``exprhelpers/waf.go``.

Go strings are bytes: indexes returned here are UTF-8 byte offsets, and functions that build
bytes (unescaping, base64) turn invalid UTF-8 into U+FFFD.
"""
from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from engine.expr.errors import ExprRuntimeError
from engine.expr.functions import Function
from engine.helpers._args import GO_SPACE, byte_index, go_bytes_to_str, integer, string, string_list

_FIELDS = re.compile(f"[{re.escape(GO_SPACE)}]+")


def fields(s: Any) -> list[str]:
    """``strings.Fields``: split around runs of Unicode white space."""
    return [f for f in _FIELDS.split(string(s, "Fields")) if f]


def index(s: Any, sub: Any) -> int:
    s, sub = string(s, "Index"), string(sub, "Index", 1)
    return byte_index(s, s.find(sub))


def index_any(s: Any, chars: Any) -> int:
    s, chars = string(s, "IndexAny"), string(chars, "IndexAny", 1)
    if chars:
        wanted = set(chars)
        for i, ch in enumerate(s):
            if ch in wanted:
                return byte_index(s, i)
    return -1


def join(items: Any, sep: Any) -> str:
    return string(sep, "Join", 1).join(string_list(items, "Join", 0))


def _explode(s: str, n: int) -> list[str]:
    """Go's ``explode``: one string per code point, the last holding the rest when n > 0."""
    if n < 0 or n > len(s):
        n = len(s)
    if n == 0:
        return []
    return list(s[:n - 1]) + [s[n - 1:]]


def _generic_split(s: str, sep: str, keep: bool, n: int) -> list[str]:
    """Go's ``genericSplit``: keep the separator at the end of each piece when ``keep``."""
    if n == 0:
        return []
    if sep == "":
        return _explode(s, n)
    pieces = s.split(sep, n - 1 if n > 0 else -1)
    if keep:
        pieces = [p + sep for p in pieces[:-1]] + pieces[-1:]
    return pieces


def split(s: Any, sep: Any) -> list[str]:
    return _generic_split(string(s, "Split"), string(sep, "Split", 1), False, -1)


def split_after(s: Any, sep: Any) -> list[str]:
    return _generic_split(string(s, "SplitAfter"), string(sep, "SplitAfter", 1), True, -1)


def split_n(s: Any, sep: Any, n: Any) -> list[str]:
    return _generic_split(string(s, "SplitN"), string(sep, "SplitN", 1), False, integer(n, "SplitN", 2))


def split_after_n(s: Any, sep: Any, n: Any) -> list[str]:
    return _generic_split(string(s, "SplitAfterN"), string(sep, "SplitAfterN", 1), True,
                          integer(n, "SplitAfterN", 2))


def replace(s: Any, old: Any, new: Any, n: Any) -> str:
    # Python's str.replace agrees with Go's, including an empty ``old`` and n < 0 meaning all
    return string(s, "Replace").replace(string(old, "Replace", 1), string(new, "Replace", 2),
                                        integer(n, "Replace", 3))


def replace_all(s: Any, old: Any, new: Any) -> str:
    return string(s, "ReplaceAll").replace(string(old, "ReplaceAll", 1), string(new, "ReplaceAll", 2))


def trim(s: Any, cutset: Any) -> str:
    s, cutset = string(s, "Trim"), string(cutset, "Trim", 1)
    return s.strip(cutset) if cutset else s


def trim_left(s: Any, cutset: Any) -> str:
    s, cutset = string(s, "TrimLeft"), string(cutset, "TrimLeft", 1)
    return s.lstrip(cutset) if cutset else s


def trim_right(s: Any, cutset: Any) -> str:
    s, cutset = string(s, "TrimRight"), string(cutset, "TrimRight", 1)
    return s.rstrip(cutset) if cutset else s


def trim_prefix(s: Any, prefix: Any) -> str:
    return string(s, "TrimPrefix").removeprefix(string(prefix, "TrimPrefix", 1))


def trim_suffix(s: Any, suffix: Any) -> str:
    return string(s, "TrimSuffix").removesuffix(string(suffix, "TrimSuffix", 1))


def get(items: Any, idx: Any) -> str:
    """CrowdSec ``Get``: the item at ``idx`` of a []string, ``""`` past the end."""
    items, idx = string_list(items, "Get", 0), integer(idx, "Get", 1)
    if idx >= len(items):
        return ""
    if idx < 0:
        raise ExprRuntimeError(f"Get: index out of range [{idx}]")
    return items[idx]


def to_string(value: Any) -> str:
    """CrowdSec ``ToString``: the value when it is a string, else ``""`` (no conversion)."""
    return value if type(value) is str else ""


def key_exists(key: Any, table: Any) -> bool:
    key = string(key, "KeyExists")
    if not isinstance(table, dict):
        raise ExprRuntimeError("KeyExists: argument 2 must be a map")
    return key in table


def match(pattern: Any, name: Any) -> bool:
    """CrowdSec ``Match``: ``*`` matches any bytes and ``?`` one byte.

    Follows CrowdSec's recursive definition exactly, including its corner cases: an empty name
    is matched only by ``""`` and ``"*"`` (so ``"**"`` does not match ``""``)."""
    p = string(pattern, "Match").encode("utf-8")
    n = string(name, "Match", 1).encode("utf-8")
    lp, ln = len(p), len(n)

    @lru_cache(maxsize=None)
    def m(i: int, j: int) -> bool:
        while True:
            if i == lp:
                return j == ln
            if j == ln:
                return lp - i == 1 and p[i] == 0x2A
            c = p[i]
            if c == 0x2A:  # '*'
                return any(m(i + 1, k) for k in range(j, ln + 1))
            if c == 0x3F or c == n[j]:  # '?'
                i, j = i + 1, j + 1
                continue
            return False

    try:
        return m(0, 0)
    finally:
        m.cache_clear()


def b64_decode(encoded: Any) -> str:
    """``base64.StdEncoding.DecodeString`` (padding required, CR/LF ignored); errors raise."""
    text = string(encoded, "B64Decode").replace("\r", "").replace("\n", "")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ExprRuntimeError(f"B64Decode: illegal base64 data: {encoded!r}") from None
    return go_bytes_to_str(data)


# --- net/url --------------------------------------------------------------------------------

def query_escape(s: Any) -> str:
    """``url.QueryEscape``: space → ``+``; only ``A-Za-z0-9-_.~`` kept."""
    return quote(string(s, "QueryEscape"), safe=" ").replace(" ", "+")


def path_escape(s: Any) -> str:
    """``url.PathEscape``: keeps ``A-Za-z0-9-_.~$&+:=@``; space → ``%20``."""
    return quote(string(s, "PathEscape"), safe="$&+:=@")


_HEX = frozenset(b"0123456789abcdefABCDEF")


def go_unescape(s: str, plus_is_space: bool) -> str | None:
    """Go's ``url.unescape``; None when a ``%`` is not followed by two hex digits."""
    if "%" not in s:
        return s.replace("+", " ") if plus_is_space else s
    raw = s.encode("utf-8")
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x25:  # '%'
            if i + 2 >= n or raw[i + 1] not in _HEX or raw[i + 2] not in _HEX:
                return None
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
            continue
        out.append(0x20 if (c == 0x2B and plus_is_space) else c)
        i += 1
    return go_bytes_to_str(bytes(out))


def path_unescape(s: Any) -> str:
    """``url.PathUnescape``; CrowdSec returns the input unchanged when it is invalid."""
    s = string(s, "PathUnescape")
    out = go_unescape(s, plus_is_space=False)
    return s if out is None else out


def query_unescape(s: Any) -> str:
    """``url.QueryUnescape`` (``+`` is a space); the input unchanged when it is invalid."""
    s = string(s, "QueryUnescape")
    out = go_unescape(s, plus_is_space=True)
    return s if out is None else out


def _url_raw_query(uri: str) -> str | None:
    """The ``RawQuery`` of Go's ``url.Parse(uri)``; None where Parse fails (the common cases:
    control characters, a bad ``%`` escape, a leading ``:`` with no scheme)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        return None
    rest, _, fragment = uri.partition("#")
    if go_unescape(fragment, False) is None:
        return None
    if rest.startswith(":"):
        return None
    rest, sep, query = rest.partition("?")
    if go_unescape(rest, False) is None:
        return None
    return query if sep else ""


def _go_parse_query(query: str) -> dict[str, list[str]] | None:
    """``url.ParseQuery``; None when any pair is invalid (a ``;`` in a key, a bad escape)."""
    out: dict[str, list[str]] = {}
    ok = True
    for part in query.split("&"):
        if not part:
            continue
        if ";" in part:
            ok = False
            continue
        key, _, value = part.partition("=")
        k = go_unescape(key, True)
        v = go_unescape(value, True)
        if k is None or v is None:
            ok = False
            continue
        out.setdefault(k, []).append(v)
    return out if ok else None


def parse_uri(uri: Any) -> dict[str, list[str]]:
    """CrowdSec ``ParseUri``: the query parameters of a URI; ``{}`` when it does not parse."""
    raw = _url_raw_query(string(uri, "ParseUri"))
    if raw is None:
        return {}
    return _go_parse_query(raw) or {}


def _lax_unescape(s: str) -> str:
    """``exprhelpers/waf.go`` unescape: ``+`` → space, bad ``%`` sequences kept as they are."""
    if "%" not in s and "+" not in s:
        return s
    raw = s.encode("utf-8")
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x2B:
            out.append(0x20)
        elif c == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(int(raw[i + 1:i + 3], 16))
            i += 2
        else:
            out.append(c)
        i += 1
    return go_bytes_to_str(bytes(out))


def lax_parse_query(query: str) -> dict[str, list[str]]:
    """CrowdSec ``ParseQuery`` (waf.go): like ``url.ParseQuery`` but never fails; ``;`` is
    an ordinary character."""
    out: dict[str, list[str]] = {}
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        out.setdefault(_lax_unescape(key), []).append(_lax_unescape(value))
    return out


def parse_query(query: Any) -> dict[str, list[str]]:
    return lax_parse_query(string(query, "ParseQuery"))


def extract_query_param(uri: Any, param: Any) -> list[str]:
    uri, param = string(uri, "ExtractQueryParam"), string(param, "ExtractQueryParam", 1)
    _, sep, query = uri.partition("?")
    if not sep or not query:
        return []
    return lax_parse_query(query).get(param, [])


HELPERS: tuple[Function, ...] = (
    Function("Fields", fields, 1, 1),
    Function("Index", index, 2, 2),
    Function("IndexAny", index_any, 2, 2),
    Function("Join", join, 2, 2),
    Function("Split", split, 2, 2),
    Function("SplitAfter", split_after, 2, 2),
    Function("SplitAfterN", split_after_n, 3, 3),
    Function("SplitN", split_n, 3, 3),
    Function("Replace", replace, 4, 4),
    Function("ReplaceAll", replace_all, 3, 3),
    Function("Trim", trim, 2, 2),
    Function("TrimLeft", trim_left, 2, 2),
    Function("TrimRight", trim_right, 2, 2),
    Function("TrimPrefix", trim_prefix, 2, 2),
    Function("TrimSuffix", trim_suffix, 2, 2),
    Function("Get", get, 2, 2),
    Function("ToString", to_string, 1, 1),
    Function("KeyExists", key_exists, 2, 2),
    Function("Match", match, 2, 2),
    Function("B64Decode", b64_decode, 1, 1),
    Function("QueryEscape", query_escape, 1, 1),
    Function("PathEscape", path_escape, 1, 1),
    Function("QueryUnescape", query_unescape, 1, 1),
    Function("PathUnescape", path_unescape, 1, 1),
    Function("ParseUri", parse_uri, 1, 1),
    Function("ParseQuery", parse_query, 1, 1),
    Function("ExtractQueryParam", extract_query_param, 2, 2),
)

