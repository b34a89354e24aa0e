"""RE2 → Python regex translation."""
from __future__ import annotations

import pytest

from engine.re2 import Re2Error, compile_re2, translate


@pytest.mark.parametrize(("pattern", "python"), [
    ("a(b)c", "a(?:b)c"),
    ("(?P<name>x)", "(?:x)"),
    ("(?<name>x)", "(?:x)"),
    ("a(?i)b|c", "a(?i:b)|(?i:c)"),
    ("((?i)LOGIN|PLAIN)", "(?:(?i:LOGIN)|(?i:PLAIN))"),
    ("(?i:x)y", "(?i:x)y"),
    ("(?m)^a$", "(?m:^a(?m:$))"),
    ("^abc$", r"^abc\Z"),
    (r"abc\z", r"abc\Z"),
    ("x{,3}", r"x\{,3\}"),
    ("x{2,3}y{4}z{5,}", "x{2,3}y{4}z{5,}"),
    (r"\Qa.b*\E", r"a\.b\*"),
    (r"\x{41}\x42\101\0", r"\x41\x42\x41\x00"),
    ("[[:alpha:][:digit:]_-]", "[A-Za-z0-9_-]"),
    ("[a[b]", r"[a\[b]"),
    ("[]a]", r"[\]a]"),  # a leading ] is a literal
    ("a}", r"a\}"),
])
def test_translation(pattern: str, python: str) -> None:
    assert translate(pattern) == python


@pytest.mark.parametrize(("pattern", "text", "found"), [
    ("^a.c$", "abc", True),
    ("b$", "ab\n", False),  # RE2: $ is the end of the text, no trailing newline
    ("(?m)b$", "ab\ncd", True),
    (r"\d+", "٣", False),  # ASCII digits only, as RE2
    (r"\w+", "é", False),
    ("x((?i)login|plain)y", "xPLAINy", True),
    ("x((?i)login|plain)y", "XPLAINy", False),
    ("x{,3}", "x{,3}", True),  # a literal in RE2
    ("[[:upper:]]+", "ABC", True),
])
def test_matching(pattern: str, text: str, found: bool) -> None:
    assert (compile_re2(pattern).search(text) is not None) is found


@pytest.mark.parametrize(("pattern", "message"), [
    ("(?=a)", "not RE2"),
    ("(?<!a)b", "not RE2"),
    ("(?>a)", "not RE2"),
    (r"(a)\1", "backreferences are not supported by RE2"),
    ("(?x)a", "not RE2"),
    ("(?U)a+", "ungreedy"),
    (r"\pL", "Unicode classes"),
    (r"\y", "invalid escape"),
    ("(a", "missing closing )"),
    ("a)", "unexpected )"),
    ("[a", "missing closing ]"),
    ("[[:nope:]]", "invalid character class"),
    ("a**", "invalid regexp"),
])
def test_rejected_patterns(pattern: str, message: str) -> None:
    with pytest.raises(Re2Error, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_re2(pattern)
