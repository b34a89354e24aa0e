"""expr v1.17 builtins (non-predicate ones; predicates are in test_expr_language.py)."""
from __future__ import annotations

from typing import Any

import pytest

from engine.expr import (DEFAULT_FUNCTIONS, ExprError, ExprRuntimeError, Function, StrMap,
                         compile_expr, function_set)


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source)(env)


@pytest.mark.parametrize(("source", "expected"), [
    # types and numbers
    ("type(1)", "int"),
    ("type(1.5)", "float"),
    ("type('s')", "string"),
    ("type(true)", "bool"),
    ("type([])", "array"),
    ("type({})", "map"),
    ("type(nil)", "nil"),
    ("type(duration('1s'))", "time.Duration"),
    ("abs(-3)", 3),
    ("abs(-3.5)", 3.5),
    ("abs(2)", 2),
    ("ceil(1.2)", 2.0),
    ("ceil(3)", 3.0),  # an int gives a float
    ("floor(-1.2)", -2.0),
    ("floor(3)", 3.0),
    ("round(2.5)", 3.0),  # half away from zero, as Go's math.Round
    ("round(-2.5)", -3.0),
    ("round(2.4)", 2.0),
    ("int('42')", 42),
    ("int(-3.9)", -3),
    ("float('1e3')", 1000.0),
    ("string(1.5)", "1.5"),
    ("string(1e21)", "1e+21"),
    ("string([1, 'a'])", "[1 a]"),
    ("string({'b': 1, 'a': true})", "map[a:true b:1]"),
    ("string(nil)", "<nil>"),
    ("max(1, 3, 2)", 3),
    ("max([1, 5.5])", 5.5),
    ("max([])", None),
    ("min([3, 1], 2)", 1),
    ("mean([1, 2])", 1.5),
    ("mean([])", 0.0),
    ("median([3, 1, 2, 10])", 2.5),
    ("median([3, 1, 2])", 2.0),
    ("bitand(12, 10)", 8),
    ("bitor(12, 10)", 14),
    ("bitxor(12, 10)", 6),
    ("bitnand(12, 10)", 4),
    ("bitnot(0)", -1),
    ("bitshl(1, 3)", 8),
    ("bitshr(-16, 2)", -4),
    ("bitushr(-1, 60)", 15),
    # strings
    ("len('héllo')", 6),  # bytes, as Go
    ("len([1, 2])", 2),
    ("len({'a': 1})", 1),
    ("lower('AbC')", "abc"),
    ("upper('AbC')", "ABC"),
    ("trim('  a  ')", "a"),
    ("trim('xxaxx', 'x')", "a"),
    ("trimPrefix('foobar', 'foo')", "bar"),
    ("trimPrefix(' a')", "a"),  # default cutset is one space
    ("trimPrefix('foobar', 'bar')", "foobar"),
    ("trimSuffix('foobar', 'bar')", "foo"),
    ("trimSuffix('user,', ',')", "user"),
    ("split('a,b,c', ',')", ["a", "b", "c"]),
    ("split('a,b,c', ',', 2)", ["a", "b,c"]),
    ("split('a,b,c', ',', 0)", []),
    ("split('', ',')", [""]),
    ("split('abc', '')", ["a", "b", "c"]),
    ("splitAfter('a,b,c', ',')", ["a,", "b,", "c"]),
    ("splitAfter('a,b,c', ',', 2)", ["a,", "b,c"]),
    ("replace('aaa', 'a', 'b')", "bbb"),
    ("replace('ab', '', '-')", "-a-b-"),
    ("repeat('ab', 3)", "ababab"),
    ("repeat('ab', 0)", ""),
    ("join(['a', 'b'], '-')", "a-b"),
    ("join(['a', 'b'])", "ab"),
    ("join([])", ""),
    ("indexOf('hello', 'l')", 2),
    ("indexOf('héllo', 'l')", 3),  # byte offset
    ("indexOf('hello', 'z')", -1),
    ("lastIndexOf('a:b:c', ':')", 3),
    ("lastIndexOf('abc', 'z')", -1),
    ("hasPrefix('abc', 'ab')", True),
    ("hasPrefix('abc', 'b')", False),
    ("hasSuffix('abc', 'bc')", True),
    ("hasSuffix('robots.txt', 'sitemap.xml')", False),
    # arrays and maps
    ("keys({'a': 1})", ["a"]),
    ("values({'a': 1})", [1]),
    ("get({'a': 1}, 'a')", 1),
    ("get({'a': 1}, 'b')", None),
    ("get([1, 2], 5)", None),
    ("get([1, 2], -1)", 2),
    ("get(nil, 'a')", None),
    ("first([])", None),
    ("first([7, 8])", 7),
    ("last([7, 8])", 8),
    ("take([1, 2, 3], 2)", [1, 2]),
    ("take([1, 2, 3], 10)", [1, 2, 3]),
    ("toPairs({'a': 1})", [["a", 1]]),
    ("fromPairs([['a', 1], ['b', 2]])", {"a": 1, "b": 2}),
    ("concat([1], [2, 3], [])", [1, 2, 3]),
    ("flatten([1, [2, [3]], []])", [1, 2, 3]),
    ("uniq([1, 1.0, 2, '2', 2])", [1, 2, "2"]),
    ("reverse([1, 2, 3])", [3, 2, 1]),
    ("sort([3, 1, 2])", [1, 2, 3]),
    ("sort(['b', 'c', 'a'], 'desc')", ["c", "b", "a"]),
    # encodings
    ("toBase64('hi')", "aGk="),
    ("fromBase64('aGk=')", "hi"),
    ("fromJSON('[1, 2.5, {\"a\": null}]')", [1.0, 2.5, {"a": None}]),
    ("type(fromJSON('1'))", "float"),  # Go decodes JSON numbers as float64
    ("toJSON(nil)", "null"),
    ("toJSON([])", "[]"),
    ("toJSON({})", "{}"),
    ("toJSON(1.0)", "1"),
    ("toJSON(1.5e-7)", "1.5e-7"),
    ("toJSON(1e21)", "1e+21"),
    ("toJSON({'b': [1, true], 'a': '<&>'})",
     '{\n  "a": "\\u003c\\u0026\\u003e",\n  "b": [\n    1,\n    true\n  ]\n}'),
])
def test_builtin_values(source: str, expected: Any) -> None:
    got = ev(source)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(("source", "message"), [
    ("abs('a')", "invalid argument for abs (type string)"),
    ("floor('a')", "invalid argument for floor (type string)"),
    ("max(1, 'a')", "invalid argument for max (type string)"),
    ("int('4.2')", "invalid operation: int(4.2)"),
    ("repeat('a', -1)", "invalid argument for repeat (expected positive integer, got -1)"),
    ("join([1])", "invalid argument for join (element of type int)"),
    ("keys([1])", "cannot get keys from []interface {}"),
    ("take(1, 1)", "invalid argument for take (type int)"),
    ("concat([1], 2)", "cannot concat int"),
    ("fromPairs([[1]])", "invalid pair [1]"),
    ("sort([1], 'x')", "unknown order, use asc or desc (got 'x')"),
    ("bitand(1, 1.5)", "invalid argument for bitand (types int, float64)"),
    ("bitshl(1, -1)", "invalid operation: negative shift count -1"),
    ("toJSON(1 / 0)", "json: unsupported value: +Inf"),
    ("len(1)", "invalid argument for len (type int)"),
    ("trimSuffix(nil, ',')", "trimSuffix: argument 1 must be string, not <nil>"),
    ("lower(1)", "lower: argument 1 must be string, not int"),
])
def test_builtin_runtime_errors(source: str, message: str) -> None:
    with pytest.raises(ExprRuntimeError) as info:
        ev(source.replace("1 / 0", "x"), x=float("inf"))
    assert str(info.value) == message


def test_fromjson_and_frombase64_errors() -> None:
    with pytest.raises(ExprRuntimeError, match="^invalid JSON: "):
        ev("fromJSON(x)", x="{")
    with pytest.raises(ExprRuntimeError, match="^illegal base64 data: "):
        ev("fromBase64(x)", x="!!")


@pytest.mark.parametrize(("source", "message", "column"), [
    ("trimSuffix('a')", None, 0),
    ("split('a')", "invalid number of arguments for split (expected 2 to 3, got 1)", 1),
    ("get(1)", "invalid number of arguments for get (expected 2, got 1)", 1),
    ("1 + bitnot(1, 2)", "invalid number of arguments for bitnot (expected 1, got 2)", 5),
])
def test_builtin_arity_is_checked_at_compile_time(source: str, message: str | None, column: int) -> None:
    if message is None:
        compile_expr(source)  # 1 or 2 arguments
        return
    with pytest.raises(ExprError) as info:
        compile_expr(source)
    assert (info.value.message, info.value.column) == (message, column)


def test_pure_builtins_fold_and_values_are_isolated() -> None:
    fn = compile_expr("split('a,b', ',')")
    assert fn.is_constant and fn.constant_value == ["a", "b"]
    assert compile_expr("upper(x)").is_constant is False


def test_function_set_accepts_mappings_and_later_groups_win() -> None:
    shout = Function("upper", lambda s: s.upper() + "!", 1, 1)
    table = function_set(DEFAULT_FUNCTIONS, [shout])
    assert compile_expr("upper('a')", functions=table)({}) == "A!"
    assert set(table) == set(DEFAULT_FUNCTIONS)
    assert table["len"] is DEFAULT_FUNCTIONS["len"]


def test_get_on_typed_map_gives_nil_for_missing_key() -> None:
    headers = StrMap({"User-Agent": "x"})
    assert ev("get(h, 'User-Agent')", h=headers) == "x"
    assert ev("get(h, 'Www-Authenticate') != nil", h=headers) is False
    assert ev("h['Www-Authenticate']", h=headers) == ""  # index keeps Go's zero value
