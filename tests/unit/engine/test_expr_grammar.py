"""expr-lang grammar: literals, precedence, member access, syntax errors."""
from __future__ import annotations

from typing import Any

import pytest

from engine.expr import ExprError, StrMap, compile_expr


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source)(env)


@pytest.mark.parametrize(("source", "expected"), [
    ("nil", None),
    ("true", True),
    ("false", False),
    ("42", 42),
    ("1_000_000", 1000000),
    ("0x1F", 31),
    ("0o17", 15),
    ("0b101", 5),
    ("2.5", 2.5),
    (".5", 0.5),
    ("1e3", 1000.0),
    ("1.5e-2", 0.015),
    ("'single'", "single"),
    ('"double"', "double"),
    ("`raw \\n`", "raw \\n"),
    (r"'tab\there'", "tab\there"),
    (r'"quote \" inside"', 'quote " inside'),
    (r"'it\'s'", "it's"),
    (r"'\x41\u00e9\U0001F600\101'", "A\u00e9\U0001F600A"),
    (r"'\u{1F600}'", "\U0001F600"),
    ("[1, 'a', nil]", [1, "a", None]),
    ("[1, 2,]", [1, 2]),
    ("[]", []),
    ("{a: 1, 'b c': 2, 3: 'x'}", {"a": 1, "b c": 2, "3": "x"}),
    ("{(1 + 1): 'two'}", {2: "two"}),
    ("1 // a comment\n + 2", 3),
    ("1 /* block */ + 2", 3),
])
def test_literals(source: str, expected: Any) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("source", "expected"), [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 - 4 - 3", 3),  # left associative
    ("2 ** 3 ** 2", 512.0),  # right associative
    ("2 ^ 3", 8.0),
    ("-2 ** 2", -4.0),  # unary minus is looser than **
    ("-3 + 5", 2),
    ("+3", 3),
    ("10 % 4 * 2", 4),
    ("1 + 2 == 3", True),
    ("1 < 2 == true", True),
    ("not true == false", True),  # (not true) == false
    ("!false && false", False),
    ("true || false && false", True),  # && binds tighter than ||
    ("false and true or true", True),
    ("1 < 2 < 3", True),  # chained: 1 < 2 && 2 < 3
    ("3 > 2 > 2", False),
    ("1 <= 1 < 2 <= 2", True),
    ("1 + 1 in [2]", True),
    ("1..3", [1, 2, 3]),
    ("1 + 1 .. 2 + 1", [2, 3]),
    ("(nil ?? 1) + 1", 2),
    ("nil ?? nil ?? 'x'", "x"),
    ("true ? 1 : 2", 1),
    ("false ? 1 : true ? 2 : 3", 2),
    ("1 > 2 ? 'a' : 'b'", "b"),
    ("true ?: 'x'", True),
    ("'a' not in ['b']", True),
    ("not ('a' in ['a'])", False),
    ("'abc' not contains 'x'", True),
    ("'abc' not startsWith 'b'", True),
    ("'abc' not endsWith 'c'", False),
    ("'abc' not matches '^a'", False),
    ("[1, 2, 3][1]", 2),
    ("'abcdef'[2:4]", "cd"),
    ("'abcdef'[:2]", "ab"),
    ("'abcdef'[4:]", "ef"),
    ("[1, 2, 3][-2:]", [2, 3]),
    ("'a' | upper()", "A"),
    ("' a ' | trim() | upper()", "A"),
])
def test_precedence_and_operators(source: str, expected: Any) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected)


class Obj:
    def __init__(self) -> None:
        self.Field = "f"
        self.Child = None
        self.Meta = StrMap(k="v")

    def Method(self, a: int, b: int) -> int:  # noqa: N802
        return a * 10 + b


def test_member_index_and_calls() -> None:
    env = {"o": Obj(), "m": {"a": {"b": [10, 20]}}, "f": lambda x: x + 1}
    assert compile_expr("o.Field")(env) == "f"
    assert compile_expr("o['Field']")(env) == "f"
    assert compile_expr("o.Meta.k + o.Meta['k']")(env) == "vv"
    assert compile_expr("m.a.b[1]")(env) == 20
    assert compile_expr("m['a']['b'][-1]")(env) == 20
    assert compile_expr("o.Method(1, 2)")(env) == 12
    assert compile_expr("f(41)")(env) == 42
    assert compile_expr("m.a.b[0] + len(m.a.b)")(env) == 12


def test_optional_chaining() -> None:
    env = {"o": Obj(), "m": {"a": None}}
    assert compile_expr("o.Child?.x")(env) is None
    assert compile_expr("o.Child?.x.y.z")(env) is None  # the whole chain is nil
    assert compile_expr("m.a?.b ?? 'default'")(env) == "default"
    assert compile_expr("m.a?.['b']")(env) is None
    assert compile_expr("o.Child?.Method(1)")(env) is None
    assert compile_expr("o?.Field")(env) == "f"


@pytest.mark.parametrize(("source", "message", "column"), [
    ("1 +", "unexpected end of expression", 4),
    ("(1 + 2", "unexpected end of expression", 7),
    ("1 + * 2", 'unexpected token Operator("*")', 5),
    ("a.", "expected name", 3),
    ("'open", "literal not terminated", 6),
    ("1 @ 2", "unrecognized character: '@'", 3),
    ("'bad \\q'", "invalid char escape", 6),
    ("12abc", "bad number syntax", 3),
    ("nil ?? 1 || true", "coalesce expressions (??) cannot be mixed", 10),
    ("[1, 2", "unexpected end of expression", 6),
    ("a not b", 'unexpected token Identifier("b")', 7),
    ("{a 1}", 'unexpected token Number("1")', 4),
])
def test_syntax_errors_have_positions(source: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(source)
    assert message in info.value.message
    assert (info.value.line, info.value.column) == (1, column)
    assert f"(1:{column})" in str(info.value)


def test_error_position_on_second_line() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("1 +\n  * 2")
    assert (info.value.line, info.value.column) == (2, 3)


@pytest.mark.parametrize(("source", "message", "column"), [
    ("# > 1", 'unexpected token Operator("#")', 1),
    ("let x = 1 x", 'unexpected token Identifier("x")', 11),
    ("let 1 = 1; 2", 'unexpected token Number("1")', 5),
    ("if true { 1 }", "unexpected end of expression", 14),
    ("if true { 1 } else 2", 'unexpected token Number("2")', 20),
    ("filter([1], # > 0; 1)", "wrap predicate with brackets { and }", 18),
    ("all([1])", "expected at least 2 arguments", 8),
    ("map([1], #foo)", "unknown pointer #foo", 10),
])
def test_new_constructs_errors_have_positions(source: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(source)
    assert info.value.message == message
    assert (info.value.line, info.value.column) == (1, column)


def test_empty_expression_is_an_error() -> None:
    with pytest.raises(ExprError, match="unexpected end of expression"):
        compile_expr("   ")
