"""expr-lang tokenizer (the rules of expr v1.17's ``parser/lexer``)."""
from __future__ import annotations

import re
from typing import Literal, NamedTuple

from engine.expr.errors import ExprError

Kind = Literal["ident", "number", "string", "op", "bracket", "eof"]

_KEYWORD_OPS = frozenset({"in", "or", "and", "matches", "contains", "startsWith", "endsWith",
                          "let", "if", "else"})
_NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}


class Token(NamedTuple):
    kind: Kind
    value: str
    pos: int

    def is_op(self, *values: str) -> bool:
        return self.kind == "op" and (not values or self.value in values)

    def is_bracket(self, value: str) -> bool:
        return self.kind == "bracket" and self.value == value


_WORD = re.compile(r"[\w$]*").match
# The common tokens in one match (spaces, strings without escapes, brackets, operators); the
# rest (words, numbers, escapes, raw strings, comments, errors) is scanned by hand below.
_FAST = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<string>'[^'\\\n]*'|"[^"\\\n]*")
  | (?P<bracket>[()\[\]{}])
  | (?P<op>\?[.?]?|\|\|?|::?|\.\.|\.(?![0-9])|[,;%+\-^#]|/(?![/*])|[&!=*<>][&=*]?)
""", re.VERBOSE).match
_PLAIN_STRING = {"'": re.compile(r"'([^'\\\n]*)'").match, '"': re.compile(r'"([^"\\\n]*)"').match}


def _is_alpha(ch: str) -> bool:
    return ch == "_" or ch == "$" or ch.isalpha()


def _is_alnum(ch: str) -> bool:
    return _is_alpha(ch) or ch.isdigit()


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, ending with an ``eof`` token."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    fast = _FAST
    append = tokens.append
    while i < n:
        m = fast(source, i)
        if m is not None:
            group, end = m.lastgroup, m.end()
            if group == "op":
                append(Token("op", m.group(), i))
            elif group == "bracket":
                append(Token("bracket", m.group(), i))
            elif group == "string":
                append(Token("string", source[i + 1 : end - 1], i))
            i = end
            continue
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in "'\"":
            m = _PLAIN_STRING[ch](source, i)  # no escapes: the common case
            if m is not None:
                i = m.end()
                tokens.append(Token("string", m.group(1), start))
            else:
                i, text = _scan_string(source, i)
                tokens.append(Token("string", text, start))
        elif ch == "`":
            i, text = _scan_raw_string(source, i)
            tokens.append(Token("string", text, start))
        elif ch.isdigit() or (ch == "." and i + 1 < n and source[i + 1].isdigit()):
            i = _scan_number(source, i)
            tokens.append(Token("number", source[start:i], start))
        elif _is_alpha(ch):
            i = _WORD(source, i).end()
            word = source[start:i]
            if word == "not":
                tokens.append(Token("op", "not", start))
                j = i
                while j < n and source[j] == " ":
                    j += 1
                k = j
                while k < n and _is_alnum(source[k]):
                    k += 1
                if source[j:k] in _NEGATABLE:
                    tokens.append(Token("op", source[j:k], j))
                    i = k
            elif word in _KEYWORD_OPS:
                tokens.append(Token("op", word, start))
            else:
                tokens.append(Token("ident", word, start))
        elif ch == "/" and source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise ExprError("unclosed comment", source, n)
            i = end + 2
        elif ch in "([{)]}":
            tokens.append(Token("bracket", ch, start))
            i += 1
        else:
            op = _scan_operator(source, i)
            if op is None:
                raise ExprError(f"unrecognized character: {ch!r}", source, i)
            tokens.append(Token("op", op, start))
            i += len(op)
    tokens.append(Token("eof", "", n))
    return tokens


def _scan_operator(source: str, i: int) -> str | None:
    ch = source[i]
    two = source[i : i + 2]
    if ch == "?":
        return two if two in ("?.", "??") else "?"
    if ch == "|":
        return "||" if two == "||" else "|"
    if ch == ":":
        return "::" if two == "::" else ":"
    if ch == ".":
        return ".." if two == ".." else "."
    if ch in ",;%+-^/#":
        return ch
    if ch in "&!=*<>":
        # expr accepts one of "&=*" after these (so "&&", "!=", "==", "**", "<=", ">=").
        return two if two[1:] in ("&", "=", "*") and len(two) == 2 else ch
    return None


def _scan_number(source: str, i: int) -> int:
    n = len(source)
    start = i
    digits = "0123456789_"
    if source[i] == "0" and i + 1 < n and source[i + 1] in "xXoObB":
        digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[source[i + 1].lower()]
        i += 2
    while i < n and source[i] in digits:
        i += 1
    if i < n and source[i] == "." and not source.startswith("..", i):
        i += 1
        while i < n and source[i] in digits:
            i += 1
    if i < n and source[i] in "eE":
        i += 1
        if i < n and source[i] in "+-":
            i += 1
        while i < n and source[i] in digits:
            i += 1
    if i < n and _is_alnum(source[i]):
        raise ExprError(f"bad number syntax: {source[start : i + 1]!r}", source, i)
    return i


def _scan_raw_string(source: str, i: int) -> tuple[int, str]:
    """A backtick string: no escapes, except that a doubled backtick stands for one."""
    out: list[str] = []
    n = len(source)
    i += 1
    while True:
        end = source.find("`", i)
        if end < 0:
            raise ExprError("literal not terminated", source, n)
        out.append(source[i:end])
        if end + 1 < n and source[end + 1] == "`":
            out.append("`")
            i = end + 2
            continue
        return end + 1, "".join(out)


def _scan_string(source: str, i: int) -> tuple[int, str]:
    """A quoted string with Go escapes (expr's ``unescape``); returns (end, value)."""
    quote = source[i]
    out: list[str] = []
    n = len(source)
    i += 1
    while True:
        if i >= n or source[i] == "\n":
            raise ExprError("literal not terminated", source, i)
        ch = source[i]
        if ch == quote:
            return i + 1, "".join(out)
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            raise ExprError("literal not terminated", source, i)
        esc = source[i + 1]
        i += 2
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
        elif esc in "xXuU":
            if esc == "u" and i < n and source[i] == "{":
                end = source.find("}", i)
                hexdigits = source[i + 1 : end] if end > 0 else ""
                if not (1 <= len(hexdigits) <= 6) or not _is_hex(hexdigits):
                    raise ExprError("invalid char escape", source, i)
                code = int(hexdigits, 16)
                i = end + 1
            else:
                width = {"x": 2, "X": 2, "u": 4, "U": 8}[esc]
                hexdigits = source[i : i + width]
                if len(hexdigits) != width or not _is_hex(hexdigits):
                    raise ExprError("invalid char escape", source, i)
                code = int(hexdigits, 16)
                i += width
            if code > 0x10FFFF:
                raise ExprError("invalid char escape", source, i)
            out.append(chr(code))
        elif esc in "0123":
            octal = source[i : i + 2]
            if len(octal) != 2 or any(c not in "01234567" for c in octal):
                raise ExprError("invalid char escape", source, i)
            out.append(chr(int(esc + octal, 8)))
            i += 2
        else:
            raise ExprError("invalid char escape", source, i - 2)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
