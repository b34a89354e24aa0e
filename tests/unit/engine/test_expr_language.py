"""expr v1.17 constructs: let, if/else, sequences, predicates (#, #index, #acc, .field), pipes,
slices, ranges, string literals, comments, nil and optional chaining, Go integer typing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.expr import ExprError, ExprRuntimeError, StrMap, compile_expr


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source)(env)


@dataclass
class Evt:
    Meta: StrMap = field(default_factory=StrMap)
    Parsed: StrMap = field(default_factory=StrMap)

    def GetMeta(self, key: str) -> str:  # noqa: N802 - Go method name
        return self.Meta[key]


# --- let, if, sequences ---------------------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("let x = 2; x * 3", 6),
    ("let x = 1; let y = x + 1; x + y", 3),
    ("let x = 1; let x = x + 10; x", 11),  # a later let shadows an earlier one
    ("let s = 'ab'; s + s", "abab"),
    ("let xs = [1, 2]; len(xs)", 2),
    ("(let x = 5; x) + 1", 6),
    ("let len = 3; len", 3),  # a variable shadows a builtin name when read as a variable
    ("::len('abc')", 3),  # :: names the builtin explicitly
    ("::upper('a') + ::lower('B')", "Ab"),
    ("1; 2; 3", 3),
    ("1; 2;", 2),  # a trailing semicolon is allowed
    ("if true { 1 } else { 2 }", 1),
    ("if false { 1 } else { 2 }", 2),
    ("if false { 1 } else if true { 2 } else { 3 }", 2),
    ("if false { 1 } else if false { 2 } else { 3 }", 3),
    ("if 1 < 2 { let a = 'x'; a + 'y' } else { 'z' }", "xy"),
    ("true ? 1 : 2", 1),
    ("false ? 1 : 2", 2),
    ("false ? 1 : true ? 2 : 3", 2),
    ("false ?: 'b'", "b"),  # a ?: b is a ? a : b (a must still be a bool)
    ("true ?: 'b'", True),
    ("nil ?? 'd'", "d"),
    ("'v' ?? 'd'", "v"),
    ("nil ?? nil ?? 3", 3),
])
def test_bindings_and_conditionals(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_let_does_not_leak_into_the_caller_environment() -> None:
    env: dict[str, Any] = {"x": 1}
    assert compile_expr("let y = x + 1; y * 10", names={"x"})(env) == 20
    assert env == {"x": 1}


def test_let_variables_pass_the_names_check() -> None:
    fn = compile_expr("let request = Lower(evt.Parsed.request); request contains '/php'", names={"evt"})
    assert fn({"evt": Evt(Parsed=StrMap(request="/PHP/x"))}) is True
    with pytest.raises(ExprError, match="unknown name request"):
        compile_expr("(let request = 1; request) + request", names={"evt"})


def test_hub_style_let_filter() -> None:
    source = ("let xff = evt.Parsed.x_forwarded_for ?? '';\n"
              "let first_ip = xff != '' ? Split(xff, ',')[0] : '';\n"
              "TrimPrefix(TrimSuffix(first_ip, ']'), '[')")
    # Split/TrimPrefix/TrimSuffix are CrowdSec helpers (another package): use the builtins
    source = source.replace("Split(", "split(").replace("TrimPrefix(", "trimPrefix(").replace(
        "TrimSuffix(", "trimSuffix(")
    fn = compile_expr(source, names={"evt"})
    assert fn({"evt": Evt(Parsed=StrMap(x_forwarded_for="[::1],10.0.0.1"))}) == "::1"
    assert fn({"evt": Evt()}) == ""


def test_if_condition_must_be_bool() -> None:
    with pytest.raises(ExprRuntimeError, match=r"non-bool expression \(type int\) used as condition"):
        ev("if x { 1 } else { 2 }", x=1)


# --- predicates -----------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("filter([1, 2, 3], # > 1)", [2, 3]),
    ("filter([1, 2, 3], {# > 1})", [2, 3]),
    ("map([1, 2, 3], # * 10)", [10, 20, 30]),
    ("map([5, 6], #index)", [0, 1]),
    ("map(['a', 'b'], # + string(#index))", ["a0", "b1"]),
    ("map([[1, 2], [3]], map(#, # + 1))", [[2, 3], [4]]),  # the inner # is the inner element
    ("map([[1, 2], [3]], len(#))", [2, 1]),
    ("filter([{'V': 'x'}, {'V': 'y'}], .V == 'x')", [{"V": "x"}]),
    ("filter([{'V': 'x'}, {'V': 'y'}], #.V == 'y')", [{"V": "y"}]),
    ("map([{'a': {'b': 1}}], .a.b)", [1]),
    ("any([1, 2], # == 2)", True),
    ("any([], # == 2)", False),
    ("all([1, 2], # > 0)", True),
    ("all([], # > 0)", True),
    ("none([1, 2], # > 2)", True),
    ("one([1, 2], # > 1)", True),
    ("one([1, 2], # > 0)", False),
    ("count([1, 2, 3], # > 1)", 2),
    ("count([true, false, true])", 2),
    ("sum([1, 2, 3])", 6),
    ("sum([1, 2.5])", 3.5),
    ("sum([])", 0),
    ("sum([1, 2, 3], # * 2)", 12),
    ("find([1, 2, 3], # > 1)", 2),
    ("find([1, 2, 3], # > 5)", None),
    ("findIndex([1, 2, 3], # > 1)", 1),
    ("findIndex([1, 2, 3], # > 5)", -1),
    ("findLast([1, 2, 3], # < 3)", 2),
    ("findLastIndex([1, 2, 3], # < 3)", 1),
    ("groupBy([1, 2, 3, 4], # % 2)", {1: [1, 3], 0: [2, 4]}),
    ("groupBy(['a', 'bb', 'c'], len(#))", {1: ["a", "c"], 2: ["bb"]}),
    ("sortBy([3, 1, 2], #)", [1, 2, 3]),
    ("sortBy(['bb', 'a', 'ccc'], len(#), 'desc')", ["ccc", "bb", "a"]),
    ("sortBy([{'n': 2, 'k': 'a'}, {'n': 1, 'k': 'b'}, {'n': 2, 'k': 'c'}], .n)",
     [{"n": 1, "k": "b"}, {"n": 2, "k": "a"}, {"n": 2, "k": "c"}]),  # stable
    ("reduce([1, 2, 3], #acc + #, 10)", 16),
    ("reduce([1, 2, 3], #acc * #)", 6),
    ("reduce(['a', 'b'], #acc + # + string(#index), '')", "a0b1"),
    ("any(['Password mismatch', 'auth failed'], {msg contains #})", True),
])
def test_predicate_builtins(source: str, expected: Any) -> None:
    assert ev(source, msg="pam: auth failed for x") == expected


def test_predicates_read_objects_and_methods() -> None:
    queue = [Evt(Meta=StrMap(exe="/usr/bin/base64")), Evt(Meta=StrMap(exe="/bin/sh"))]
    env = {"queue": {"Queue": queue}}
    assert compile_expr("any(queue.Queue, {.Meta.exe == '/usr/bin/base64'})")(env) is True
    assert compile_expr("count(queue.Queue, #.Meta.exe startsWith '/usr/')")(env) == 1
    assert compile_expr("map(queue.Queue, .GetMeta('exe'))")(env) == ["/usr/bin/base64", "/bin/sh"]
    assert compile_expr("filter(queue.Queue, .Meta.exe matches '^/bin/(sh|bash)$')")(env) == [queue[1]]


def test_constant_predicate_calls_are_folded() -> None:
    fn = compile_expr("filter([1, 2, 3], # > 1)")
    assert fn.is_constant and fn.constant_value == [2, 3]
    assert not compile_expr("filter(xs, # > 1)").is_constant
    nested = compile_expr("map([[1, 2], [3]], map(#, # + #index))")
    assert nested.is_constant and nested.constant_value == [[1, 3], [3]]
    assert not compile_expr("map([1], # + x)", names={"x"}).is_constant
    assert compile_expr("map([1], # + x)", names={"x"})({"x": 2}) == [3]


def test_predicate_names_are_checked_and_errors_have_positions() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("any(queue.Queue, {.Meta.exe == evt2})", names={"queue"})
    assert (info.value.message, info.value.column) == ("unknown name evt2", 32)


@pytest.mark.parametrize(("source", "message"), [
    ("any(nil, # > 1)", "invalid argument for any (type <nil>)"),
    ("filter({'a': 1}, # > 1)", "invalid argument for filter (type map[string]interface {})"),
    ("filter([1, 2], # + 1)", "predicate of filter must return bool, not int"),
    ("reduce([], #acc + #)", "reduce of empty array with no initial value"),
    ("sortBy([1, 'a'], #)", "invalid operation: int < string"),
    ("sortBy([1], #, 'up')", "unknown order, use asc or desc (got 'up')"),
])
def test_predicate_runtime_errors(source: str, message: str) -> None:
    with pytest.raises(ExprRuntimeError) as info:
        ev(source)
    assert str(info.value) == message


# --- pipes ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("[1, 2, 3] | filter(# > 1)", [2, 3]),
    ("[1, 2, 3] | filter(# > 1) | map(# * 2)", [4, 6]),
    ("'a,b,c' | split(',')", ["a", "b", "c"]),
    ("'  x ' | trim() | upper()", "X"),
    ("[3, 1, 2] | sortBy(#, 'desc') | first()", 3),
    ("[1, 2] | reduce(#acc + #, 0)", 3),
    ("1 + 1 | string()", "2"),  # | binds loosest
])
def test_pipes_pass_the_left_side_as_first_argument(source: str, expected: Any) -> None:
    assert ev(source) == expected


# --- slices, indexes, ranges, membership ----------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("'abcdef'[1:3]", "bc"),
    ("'abcdef'[:2]", "ab"),
    ("'abcdef'[4:]", "ef"),
    ("'abcdef'[-2:]", "ef"),
    ("'abcdef'[:-2]", "abcd"),
    ("'abcdef'[4:2]", ""),  # lo > hi: clamped to empty, no error
    ("'abc'[1:100]", "bc"),
    ("'abc'[-100:1]", "a"),
    ("'héllo'[0:3]", "hé"),  # Go slices bytes: é is 2 bytes
    ("[1, 2, 3, 4][1:3]", [2, 3]),
    ("[1, 2, 3, 4][-2:]", [3, 4]),
    ("[1, 2, 3][:]", [1, 2, 3]),
    ("[1, 2, 3][-1]", 3),
    ("[1, 2, 3][-3]", 1),
    ("'abc'[0]", 97),  # a string index is a byte
    ("1..3", [1, 2, 3]),
    ("3..1", []),
    ("2 in 1..3", True),
    ("1..3 | map(# * 2)", [2, 4, 6]),
    ("'a' in ['a', 'b']", True),
    ("'c' not in ['a', 'b']", True),
    ("1 in [1.0]", True),
    ("nil in [nil]", True),
    ("'k' in {'k': 1}", True),
    ("'z' not in {'k': 1}", True),
    ("'x' in nil", False),
    ("'abc' contains 'b'", True),
    ("'abc' not contains 'b'", False),
    ("'abc' startsWith 'ab'", True),
    ("'abc' not startsWith 'ab'", False),
    ("'abc' endsWith 'bc'", True),
    ("'abc' not endsWith 'x'", True),
    ("'abc' matches '^a.c$'", True),
    ("'abc' not matches '^b'", True),
])
def test_slices_ranges_and_membership(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("[1, 2, 3][3]", "index out of range: 3 (array length is 3)"),
    ("[1, 2, 3][-4]", "index out of range: -1 (array length is 3)"),
    ("'ab'[5]", "index out of range: 5 (array length is 2)"),
    ("'a' in 'abc'", 'operator "in" not defined on string'),
    ("n[0:1]", "cannot slice int"),
    ("[1][x:]", "invalid operation: int(string)"),
])
def test_index_and_slice_errors(source: str, message: str) -> None:
    with pytest.raises(ExprRuntimeError) as info:
        ev(source, x="a", n=1)
    assert str(info.value) == message


def test_elvis_needs_a_bool() -> None:
    with pytest.raises(ExprRuntimeError, match=r"non-bool expression \(type string\) used as condition"):
        ev("'a' ?: 'b'")


# --- literals -------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    (r'"a\"b"', 'a"b'),
    (r'"a\\b"', "a\\b"),
    (r'"\r\n\t"', "\r\n\t"),
    (r'"\x16"', "\x16"),
    (r'"\u00e9"', "é"),
    (r'"\U0001F600"', "\U0001F600"),
    (r'"\101"', "A"),
    (r"'it\'s'", "it's"),
    ("`raw \\n`", "raw \\n"),
    ("`a``b`", "a`b"),  # a doubled backtick is one backtick
    ("``", ""),
    ("1 /* inline */ + 1", 2),
    ("1 + 1 // to the end of line", 2),
    ("// first line\n2", 2),
])
def test_string_literals_and_comments(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(("source", "message", "column"), [
    ('"abc', "literal not terminated", 5),
    ('"a\nb"', "literal not terminated", 3),
    (r'"\q"', "invalid char escape", 2),
    ("`abc", "literal not terminated", 5),
    ("1 /* x", "unclosed comment", 7),
])
def test_literal_errors(source: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(source)
    assert (info.value.message, info.value.column) == (message, column)


# --- nil and optional chaining ----------------------------------------------------------------

def test_nil_member_access_errors_but_optional_chaining_gives_nil() -> None:
    env = {"m": {"a": None, "b": {"c": 1}}}
    with pytest.raises(ExprRuntimeError, match="cannot fetch c from <nil>"):
        ev("m.a.c", **env)
    assert ev("m.a?.c", **env) is None
    assert ev("m.a?.c.d.e", **env) is None  # the whole chain is nil
    assert ev("m.b?.c", **env) == 1
    assert ev("m.a?.c ?? 'dflt'", **env) == "dflt"
    assert ev("m.missing?.x", **env) is None
    assert ev("m.a?.[0]", **env) is None


def test_missing_map_keys_are_zero_values() -> None:
    evt = Evt(Parsed=StrMap(a="1"))
    assert ev("evt.Parsed.nope == ''", evt=evt) is True
    assert ev("evt.Parsed['nope']", evt=evt) == ""
    assert ev("m.nope", m={"a": 1}) is None


# --- precedence -------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("2 + 3 * 4", 14),
    ("2 ** 3 ** 2", 512.0),  # right associative
    ("2 ^ 3", 8.0),
    ("-2 ** 2", -4.0),  # unary minus is looser than **
    ("1 + 2 .. 4", [3, 4]),  # .. is looser than +
    ("1..2 == [1, 2]", True),
    ("not true == false", True),  # (not true) == false
    ("!false && true", True),
    ("true || false && false", True),  # && binds tighter
    ("1 < 2 < 3", True),  # chained comparison
    ("3 > 2 > 2", False),
    ("1 + 2 in [3]", True),
    ("(1 ?? 2) + 1", 2),
    ("true ? 1 : 2 + 10", 1),
    ("false ? 1 : 2 + 10", 12),
    ("'a' + 'b' == 'ab' ? 'y' : 'n'", "y"),
])
def test_precedence(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_coalesce_cannot_mix_with_other_operators() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("a ?? b || c")
    assert info.value.message.startswith("Operator (||) and coalesce expressions (??) cannot be mixed")
    assert info.value.column == 8


# --- Go integer typing ------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("9223372036854775807 + 1", -9223372036854775808),  # int64 wraps
    ("-9223372036854775807 - 2", 9223372036854775807),
    ("4611686018427387904 * 4", 0),
    ("-(-9223372036854775807 - 1)", -9223372036854775808),
    ("1 / 0", float("inf")),
    ("7 / 2", 3.5),
    ("int(7 / 2)", 3),
    ("{'a': [1, 2]} == {'a': [1, 2]}", True),
    ("{'a': 1} == {'a': 2}", False),
    ("[1, [2]] == [1, [2]]", True),
])
def test_go_integer_and_container_semantics(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("1 < 'a'", "invalid operation: int < string"),
    ("'a' + 1", "invalid operation: string + int"),
    ("1.5 % 2", "invalid operation: float64 % int"),
    ("7 % 0", "integer divide by zero"),
    ("!1", "invalid operation: ! int (expected bool)"),
    ("not 'x'", "invalid operation: not string (expected bool)"),
    ("1 && true", "invalid operation: int && (expected bool)"),
    ("-'a'", "invalid operation: - string"),
    ("1.5..3", "invalid operation: float64 .. int"),
])
def test_go_typing_errors(source: str, message: str) -> None:
    with pytest.raises(ExprRuntimeError) as info:
        ev(source)
    assert str(info.value) == message
