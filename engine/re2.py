"""RE2 regular expressions (CrowdSec's dialect) translated to Python ``re``.

RE2 and Python agree on most syntax; the differences handled here:

* groups: every capture becomes non-capturing (RE2 has no backreferences, and grok names its
  own captures); ``(?P<name>…)`` and ``(?<name>…)`` included;
* inline flags ``(?i)`` apply to the rest of the enclosing group in RE2, so they become
  scoped groups ``(?i:…)``, re-opened after every ``|`` (Python rejects mid-pattern globals);
* ``$`` without ``(?m)`` is end of text (``\\z``), and ``\\z`` itself becomes ``\\Z``;
* ``{`` that is not a valid RE2 repetition is a literal (Python reads ``{,n}`` as a repeat);
* ``\\Q…\\E`` literals, ``\\x{10FFFF}`` and octal escapes, POSIX ``[[:alpha:]]`` classes;
* what RE2 rejects is rejected: lookarounds, backreferences, atomic groups, ``(?x)``.

Patterns are compiled with ``re.ASCII`` so ``\\d \\w \\s \\b`` are ASCII-only, as in RE2.
Not supported yet: Unicode classes ``\\pL``/``\\p{Greek}`` and the ungreedy flag ``U``.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

FLAGS = re.ASCII


class Re2Error(ValueError):
    """A pattern that RE2 rejects, or that this translation does not support yet."""


_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
_SIMPLE_ESCAPES = frozenset("afnrtv")
_CLASS_ESCAPES = frozenset("dDsSwW")


@dataclass
class _Frame:
    flags: frozenset[str]
    openers: list[str] = field(default_factory=list)  # scoped-flag groups opened by (?flags)


#: called with the 1-based number of each capturing group, returns the opening to emit
Capture = Callable[[int], str]


def _non_capturing(_: int) -> str:
    return "(?:"


def translate(pattern: str, capture: Capture | None = None) -> str:
    """Python ``re`` source equivalent to the RE2 ``pattern``.

    Capturing groups (``(…)``, ``(?P<n>…)``, ``(?<n>…)``) are numbered left to right as RE2
    numbers them; by default they become non-capturing, and ``capture(number)`` may choose
    another opening instead (``"(?P<g3>"``) to keep some of them.
    """
    opening = capture or _non_capturing
    captures = [0]
    out: list[str] = []
    stack = [_Frame(frozenset())]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        frame = stack[-1]
        if ch == "\\":
            i = _escape(pattern, i, out, in_class=False)
        elif ch == "[":
            i = _char_class(pattern, i, out)
        elif ch == "(":
            i = _open_group(pattern, i, out, stack, opening, captures)
        elif ch == ")":
            if len(stack) == 1:
                raise Re2Error(f"unexpected ) in {pattern!r}")
            out.append(")" * (len(frame.openers) + 1))
            stack.pop()
            i += 1
        elif ch == "|":
            out.append(")" * len(frame.openers) + "|" + "".join(frame.openers))
            i += 1
        elif ch == "$":
            out.append("(?m:$)" if "m" in frame.flags else r"\Z")
            i += 1
        elif ch == "{":
            m = _REPEAT.match(pattern, i)
            if m and int(m.group(1)) <= 1000 and (not m.group(2) or int(m.group(2)) <= 1000):
                out.append(m.group(0))
                i = m.end()
            else:
                out.append(r"\{")
                i += 1
        elif ch == "}":
            out.append(r"\}")
            i += 1
        else:
            out.append(ch)
            i += 1
    if len(stack) != 1:
        raise Re2Error(f"missing closing ) in {pattern!r}")
    out.append(")" * len(stack[0].openers))
    return "".join(out)


def compile_re2(pattern: str) -> re.Pattern[str]:
    """Compile an RE2 pattern for use with ``search``/``match``; raises :class:`Re2Error`."""
    source = translate(pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(source, FLAGS)
    except re.error as exc:
        raise Re2Error(f"invalid regexp {pattern!r}: {exc}") from None


def count_groups(pattern: str) -> int:
    """The number of capturing groups of an RE2 pattern (Go's ``NumSubexp``)."""
    count = [0]

    def counter(number: int) -> str:
        count[0] = number
        return "(?:"

    translate(pattern, counter)
    return count[0]


def _open_group(p: str, i: int, out: list[str], stack: list[_Frame], opening: Capture,
                captures: list[int]) -> int:
    cur = stack[-1]
    if not p.startswith("(?", i):
        captures[0] += 1
        out.append(opening(captures[0]))
        stack.append(_Frame(cur.flags))
        return i + 1
    j = i + 2
    if p.startswith("P<", j) or (p.startswith("<", j) and not p.startswith(("<=", "<!"), j)):
        end = p.find(">", j)
        name = p[j + (2 if p[j] == "P" else 1) : end] if end > 0 else ""
        if end < 0 or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise Re2Error(f"invalid named capture in {p!r}")
        captures[0] += 1
        out.append(opening(captures[0]))
        stack.append(_Frame(cur.flags))
        return end + 1
    m = re.compile(r"([A-Za-z]*)(?:-([A-Za-z]*))?([:)])").match(p, j)
    if not m:
        raise Re2Error(f"unsupported group syntax {p[i:i + 4]!r} (not RE2) in {p!r}")
    on, off, end_ch = m.group(1), m.group(2) or "", m.group(3)
    for flag in on + off:
        if flag == "U":
            raise Re2Error(f"the ungreedy flag (?U) is not supported yet in {p!r}")
        if flag not in "ims":
            raise Re2Error(f"invalid or unsupported flag {flag!r} (not RE2) in {p!r}")
    if m.group(2) is not None and not off:
        raise Re2Error(f"missing flag after - in {p!r}")
    flags = (cur.flags | set(on)) - set(off)
    spec = on + (f"-{off}" if off else "")
    if end_ch == ":":
        out.append(f"(?{spec}:" if spec else "(?:")
        stack.append(_Frame(frozenset(flags)))
    else:
        opener = f"(?{spec}:" if spec else "(?:"
        out.append(opener)
        cur.openers.append(opener)
        cur.flags = frozenset(flags)
    return m.end()


def _escape(p: str, i: int, out: list[str], in_class: bool) -> int:
    if i + 1 >= len(p):
        raise Re2Error(f"trailing backslash in {p!r}")
    c = p[i + 1]
    if c == "Q" and not in_class:
        end = p.find(r"\E", i + 2)
        literal = p[i + 2 :] if end < 0 else p[i + 2 : end]
        out.append(re.escape(literal))
        return len(p) if end < 0 else end + 2
    if c == "z" and not in_class:
        out.append(r"\Z")
        return i + 2
    if c in "AbB" and not in_class:
        out.append("\\" + c)
        return i + 2
    if c in _CLASS_ESCAPES or c in _SIMPLE_ESCAPES:
        out.append("\\" + c)
        return i + 2
    if c in "pP":
        raise Re2Error(f"Unicode classes (\\{c}) are not supported yet in {p!r}")
    if c == "x":
        if p.startswith("{", i + 2):
            end = p.find("}", i + 3)
            digits = p[i + 3 : end] if end > 0 else ""
            if not digits or not re.fullmatch(r"[0-9A-Fa-f]+", digits) or int(digits, 16) > 0x10FFFF:
                raise Re2Error(f"invalid escape in {p!r}")
            out.append(_literal(chr(int(digits, 16)), in_class))
            return end + 1
        digits = p[i + 2 : i + 4]
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", digits):
            raise Re2Error(f"invalid escape in {p!r}")
        out.append(_literal(chr(int(digits, 16)), in_class))
        return i + 4
    if c.isdigit():
        m = re.compile(r"[0-7]{1,3}").match(p, i + 1)
        if c == "0" or (m and len(m.group(0)) >= 2):
            digits = m.group(0) if m else "0"
            out.append(_literal(chr(int(digits, 8)), in_class))
            return i + 1 + len(digits)
        raise Re2Error(f"backreferences are not supported by RE2 in {p!r}")
    if c.isascii() and c.isalnum():
        raise Re2Error(f"invalid escape \\{c} in {p!r}")
    out.append("\\" + c)
    return i + 2


def _literal(ch: str, in_class: bool) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _char_class(p: str, i: int, out: list[str]) -> int:
    parts = ["["]
    i += 1
    if i < len(p) and p[i] == "^":
        parts.append("^")
        i += 1
    first = True
    while True:
        if i >= len(p):
            raise Re2Error(f"missing closing ] in {p!r}")
        ch = p[i]
        if ch == "]" and not first:
            parts.append("]")
            out.append("".join(parts))
            return i + 1
        first = False
        if ch == "[" and p.startswith("[:", i):
            end = p.find(":]", i + 2)
            name = p[i + 2 : end] if end > 0 else ""
            negated = name.startswith("^")
            ranges = _POSIX.get(name.lstrip("^"))
            if ranges is None:
                raise Re2Error(f"invalid character class range [:{name}:] in {p!r}")
            if negated:
                raise Re2Error(f"negated POSIX classes are not supported yet in {p!r}")
            parts.append(ranges)
            i = end + 2
        elif ch == "\\":
            i = _escape(p, i, parts, in_class=True)
        elif ch in "[&~|":
            parts.append("\\" + ch)
            i += 1
        elif ch == "]":
            parts.append(r"\]")
            i += 1
        else:
            parts.append(ch)
            i += 1
