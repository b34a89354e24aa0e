"""String helpers: Go ``strings`` wrappers, Match, base64, URL escaping and query parsing."""
from __future__ import annotations

from typing import Any

import pytest

from engine.expr import ExprError, ExprRuntimeError, compile_expr
from engine.runtime import Runtime

RUNTIME = Runtime()


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source, functions=RUNTIME.functions)(env)


@pytest.mark.parametrize(("source", "expected"), [
    ("Fields(' a \\t b\\n c\\u00a0d ')", ["a", "b", "c", "d"]),
    ("Fields('   ')", []),
    ("Fields('a\\x1cb')", ["a\x1cb"]),  # U+001C is not white space for Go
    ("Index('chicken', 'ken')", 4),
    ("Index('chicken', 'dmr')", -1),
    ("Index('héllo', 'l')", 3),  # byte offset
    ("Index('abc', '')", 0),
    ("IndexAny('golang', 'ny')", 4),
    ("IndexAny('golang', '')", -1),
    ("IndexAny('éa', 'a')", 2),
    ("Join(['a', 'b', 'c'], ', ')", "a, b, c"),
    ("Join([], ',')", ""),
    ("Split('a,b,,c', ',')", ["a", "b", "", "c"]),
    ("Split('abc', '')", ["a", "b", "c"]),
    ("Split('', ',')", [""]),
    ("Split('HTTP/1.1', '/')", ["HTTP", "1.1"]),
    ("SplitN('a,b,c', ',', 2)", ["a", "b,c"]),
    ("SplitN('a,b,c', ',', -1)", ["a", "b", "c"]),
    ("SplitN('a,b,c', ',', 0)", []),
    ("SplitN('abc', '', 2)", ["a", "bc"]),
    ("SplitAfter('a,b,c', ',')", ["a,", "b,", "c"]),
    ("SplitAfterN('a,b,c', ',', 2)", ["a,", "b,c"]),
    ("Replace('oink oink oink', 'k', 'ky', 2)", "oinky oinky oink"),
    ("Replace('oink oink oink', 'oink', 'moo', -1)", "moo moo moo"),
    ("Replace('abc', '', '-', -1)", "-a-b-c-"),
    ("Replace('abc', '', '-', 2)", "-a-bc"),
    ("Replace('abc', 'b', 'x', 0)", "abc"),
    ("ReplaceAll('oink oink', 'k', 'ky')", "oinky oinky"),
    ("Trim('¡¡¡Hello, Gophers!!!', '!¡')", "Hello, Gophers"),
    ("Trim('xx', '')", "xx"),
    ("TrimLeft('xxhixx', 'x')", "hixx"),
    ("TrimRight('xxhixx', 'x')", "xxhi"),
    ("TrimPrefix('[::1]:22', '[')", "::1]:22"),
    ("TrimPrefix('abc', 'x')", "abc"),
    ("TrimSuffix(TrimPrefix('[::1]', '['), ']')", "::1"),
    ("TrimSpace(' \\t x \\n')", "x"),
    ("Get(['a', 'b'], 1)", "b"),
    ("Get(['a', 'b'], 2)", ""),
    ("ToString('x')", "x"),
    ("ToString(1)", ""),
    ("ToString(nil)", ""),
    ("KeyExists('a', {'a': nil})", True),
    ("KeyExists('b', {'a': 1})", False),
])
def test_go_strings(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("*.exe", "cmd.exe", True),
    ("*.exe", "cmd.exe2", False),
    ("c?d.*", "cmd.exe", True),
    ("*", "", True),
    ("", "", True),
    ("", "x", False),
    ("a*", "a", True),
    ("**", "x", True),
    ("**", "", False),  # CrowdSec's recursion: an empty name only matches "" and "*"
    ("a**", "a", False),
    ("?", "é", False),  # ? is one byte
    ("??", "é", True),
    ("* -e JAB*", "powershell.exe -e JABzAG", True),
    (" :\\Temp", " :\\Temp", True),
    ("*a*a*a*a*a*a*a*a*b", "a" * 60, False),  # memoised: no exponential blow-up
])
def test_match(pattern: str, name: str, expected: bool) -> None:
    assert ev("Match(p, n)", p=pattern, n=name) is expected


def test_match_hub_usage_is_whole_string() -> None:
    # hub content calls Match('joinsplit', cmdline): no implicit wildcards
    assert ev("Match('joinsplit', 'x joinsplit y')") is False


@pytest.mark.parametrize(("source", "expected"), [
    ("B64Decode('aGVsbG8=')", "hello"),
    ("B64Decode('aGVs\\nbG8=')", "hello"),  # Go skips CR and LF
    ("B64Decode('')", ""),
    ("B64Decode('/w==')", "\ufffd"),  # byte 0xff is not UTF-8
])
def test_b64decode(source: str, expected: str) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize("bad", ["aGVsbG8", "aGVsbG8=!", "a GVsbG8=", "aGVsbG8=="])
def test_b64decode_errors(bad: str) -> None:
    with pytest.raises(ExprRuntimeError, match="B64Decode"):
        ev("B64Decode(s)", s=bad)


@pytest.mark.parametrize(("source", "expected"), [
    ("QueryEscape('a b&c=d/é~-_.')", "a+b%26c%3Dd%2F%C3%A9~-_."),
    ("QueryEscape('')", ""),
    ("PathEscape('a b&c=d/é~;,?@:$+!')", "a%20b&c=d%2F%C3%A9~%3B%2C%3F@:$+%21"),
    ("QueryUnescape('a+b%20c%2B')", "a b c+"),
    ("QueryUnescape('%e9t%C3%A9')", "\ufffdt\u00e9"),
    ("QueryUnescape('100%')", "100%"),  # invalid: returned unchanged
    ("QueryUnescape('%zz+x')", "%zz+x"),
    ("PathUnescape('/a+b%2Fc%20d')", "/a+b/c d"),
    ("PathUnescape('/x%2')", "/x%2"),
    ("PathUnescape('/%2e%2e/%2e%2e/etc/passwd')", "/../../etc/passwd"),
])
def test_url_escaping(source: str, expected: str) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("ParseUri('/x?a=1&b=2&a=3#frag')", {"a": ["1", "3"], "b": ["2"]}),
    ("ParseUri('/x?a=1+2&b=%41&c&=z')", {"a": ["1 2"], "b": ["A"], "c": [""], "": ["z"]}),
    ("ParseUri('/x')", {}),
    ("ParseUri('/x?a=1;b=2')", {}),  # url.ParseQuery rejects ';' and CrowdSec returns empty
    ("ParseUri('/x?a=%zz&b=1')", {}),
    ("ParseUri('/x%zz?a=1')", {}),  # url.Parse fails
    ("ParseUri(':nope?a=1')", {}),
    ("ParseQuery('a=1;b=2&c=%zz&&d=%41+')", {"a": ["1;b=2"], "c": ["%zz"], "d": ["A "]}),
    ("ExtractQueryParam('/x?id=1&id=2&x=3', 'id')", ["1", "2"]),
    ("ExtractQueryParam('/x?id=1', 'nope')", []),
    ("ExtractQueryParam('/x', 'id')", []),
    ("ExtractQueryParam('/x?', 'id')", []),
])
def test_query_parsing(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("Split(1, ',')", "Split: argument 1 must be string, not int"),
    ("Join(['a', 1], ',')", "Join: argument 1 must be []string"),
    ("SplitN('a', ',', '2')", "SplitN: argument 3 must be int, not string"),
    ("Get(['a'], -1)", "index out of range"),
    ("Trim(nil, 'x')", "Trim: argument 1 must be string, not <nil>"),
])
def test_bad_argument_types_are_runtime_errors(source: str, message: str) -> None:
    with pytest.raises(ExprRuntimeError) as info:
        ev(source)
    assert message in str(info.value)


def test_arity_is_checked_at_compile_time() -> None:
    with pytest.raises(ExprError, match="invalid number of arguments for Split"):
        compile_expr("Split('a')", functions=RUNTIME.functions)
