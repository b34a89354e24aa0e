"""Go typing rules of expr where they differ from Python, and runtime errors."""
from __future__ import annotations

import math
import re
from typing import Any

import pytest

from engine.expr import ExprError, ExprRuntimeError, StrMap, compile_expr


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source)(env)


@pytest.mark.parametrize(("source", "expected"), [
    ("7 / 2", 3.5),  # int / int is a float
    ("4 / 2", 2.0),
    ("7 % 3", 1),
    ("-7 % 3", -1),  # Go truncates toward zero (Python gives 2)
    ("7 % -3", 1),
    ("2 ** 2", 4.0),  # ** is math.Pow: always float
    ("1 + 2", 3),
    ("1 + 2.5", 3.5),
    ("3 * 2.0", 6.0),
    ("'a' + 'b'", "ab"),
    ("1 == 1.0", True),
    ("true == 1", False),  # Python says True
    ("false == 0", False),
    ("'1' == 1", False),
    ("nil == nil", True),
    ("nil == false", False),
    ("[1, 'a'] == [1.0, 'a']", True),
    ("[1] == [true]", False),
    ("'a' < 'b'", True),
    ("2 >= 1.5", True),
    ("1 in [1.0, 2]", True),
    ("true in [1]", False),
    ("'k' in {k: nil}", True),
    ("'x' in {k: 1}", False),
    ("1 in nil", False),
    ("nil ?? 'd'", "d"),
    ("'' ?? 'd'", ""),  # only nil is replaced
    ("false ?? true", False),
    ("nil contains 'a'", False),
    ("'abc' startsWith nil", False),
    ("nil matches 'x'", False),
])
def test_go_semantics(source: str, expected: Any) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected)


def test_float_division_by_zero_follows_go() -> None:
    assert ev("1 / 0") == math.inf
    assert ev("-1 / 0") == -math.inf
    assert math.isnan(ev("0 / 0"))


@pytest.mark.parametrize(("source", "message"), [
    ("1 < 'a'", "invalid operation: int < string"),
    ("'a' >= 2.5", "invalid operation: string >= float64"),
    ("'a' + 1", "invalid operation: string + int"),
    ("true + 1", "invalid operation: bool + int"),
    ("'a' - 'b'", "invalid operation: string - string"),
    ("1.5 % 2", "invalid operation: float64 % int"),
    ("1 % 0", "integer divide by zero"),
    ("-'a'", "invalid operation: - string"),
    ("not 1", "invalid operation: not int (expected bool)"),
    ("!nil", "invalid operation: ! <nil> (expected bool)"),
    ("1 && true", "invalid operation: int && (expected bool)"),
    ("nil || true", "invalid operation: <nil> || (expected bool)"),
    ("1 ? 'a' : 'b'", "non-bool expression (type int) used as condition"),
    ("1 contains 'a'", "invalid operation: int contains string"),
    ("1 matches 'a'", "invalid operation: int matches string"),
    ("[1, 2][2]", "index out of range: 2 (array length is 2)"),
    ("[1, 2]['x']", "invalid operation: int(string)"),
    ("'a' in 'abc'", 'operator "in" not defined on string'),
    ("nil.x", None),  # a syntax error in expr: nil takes no member
])
def test_runtime_type_errors(source: str, message: str | None) -> None:
    if message is None:
        with pytest.raises(ExprError):
            compile_expr(source)
        return
    with pytest.raises(ExprRuntimeError, match=re.escape(message)):
        ev(source)


def test_short_circuit_does_not_evaluate_the_right_side() -> None:
    def boom() -> bool:
        raise AssertionError("evaluated")
    assert ev("false && boom()", boom=boom) is False
    assert ev("true || boom()", boom=boom) is True
    assert ev("'v' ?? boom()", boom=boom) == "v"
    assert ev("true ? 1 : boom()", boom=boom) == 1
    # && returns its right operand as is when the left one is true
    assert ev("true && 'x'") == "x"


class Evt:
    def __init__(self) -> None:
        self.Meta = StrMap(log_type="ssh_failed-auth")
        self.Unmarshaled: dict[str, Any] = {"a": {"b": 1}, "n": None}
        self._secret = "hidden"

    def GetMeta(self, key: str) -> str:  # noqa: N802
        return self.Meta[key]


def test_typed_maps_read_zero_values() -> None:
    env = {"evt": Evt()}
    # map[string]string: a missing key is "" (and nothing is stored)
    assert compile_expr("evt.Meta.nope")(env) == ""
    assert compile_expr("evt.Meta['nope'] == ''")(env) is True
    assert "nope" not in env["evt"].Meta
    # map[string]any: a missing key is nil
    assert compile_expr("evt.Unmarshaled.nope")(env) is None
    assert compile_expr("evt.Unmarshaled.a.b")(env) == 1
    with pytest.raises(ExprRuntimeError, match="cannot fetch x from <nil>"):
        compile_expr("evt.Unmarshaled.nope.x")(env)


def test_object_fields_and_methods() -> None:
    env = {"evt": Evt()}
    assert compile_expr("evt.GetMeta('log_type')")(env) == "ssh_failed-auth"
    with pytest.raises(ExprRuntimeError, match="cannot fetch Nope from Evt"):
        compile_expr("evt.Nope")(env)
    with pytest.raises(ExprRuntimeError, match="type Evt has no method Nope"):
        compile_expr("evt.Nope()")(env)
    # Python internals are never reachable
    with pytest.raises(ExprRuntimeError):
        compile_expr("evt._secret")(env)
    with pytest.raises(ExprRuntimeError):
        compile_expr("evt.__class__")(env)
    with pytest.raises(ExprRuntimeError):
        compile_expr("'abc'.upper()")(env)
    with pytest.raises(ExprRuntimeError):
        compile_expr("[1].count")(env)
    assert compile_expr("'Meta' in evt")(env) is True
    assert compile_expr("'_secret' in evt")(env) is False


def test_names_are_checked_at_compile_time_when_declared() -> None:
    compile_expr("evt.Meta.x", names={"evt"})
    with pytest.raises(ExprError, match="unknown name foo"):
        compile_expr("evt.Meta.x == foo", names={"evt"})
    with pytest.raises(ExprError, match="unknown func bar"):
        compile_expr("bar(1)", names={"evt"})
    with pytest.raises(ExprRuntimeError, match="unknown name foo"):
        compile_expr("foo")({})


def test_matches_uses_re2_rules() -> None:
    assert ev("'ab\\n' matches 'b$'") is False  # RE2 $ is the end of the text
    assert ev("'xLOGINy' matches 'x((?i)login|plain)y'") is True
    assert ev("'abc' matches pattern", pattern="^a.c$") is True
    with pytest.raises(ExprError, match="not RE2"):
        compile_expr("'a' matches '(?=a)'")
    with pytest.raises(ExprRuntimeError, match="missing closing"):
        ev("'a' matches p", p="(")


@pytest.mark.parametrize(("source", "expected"), [
    ("len('abc')", 3),
    ("len('héllo')", 6),  # Go counts bytes
    ("len([1, 2])", 2),
    ("len({a: 1})", 1),
    ("lower('AbC')", "abc"),
    ("upper('AbC')", "ABC"),
    ("trim('  x \\t')", "x"),
    ("trim('--x--', '-')", "x"),
    ("int('42')", 42),
    ("int('-7')", -7),
    ("int(3.9)", 3),
    ("int(-3.9)", -3),
    ("float('2.5')", 2.5),
    ("float(2)", 2.0),
    ("float('1e3')", 1000.0),
    ("string(1)", "1"),
    ("string(2.5)", "2.5"),
    ("string(3.0)", "3"),
    ("string(1000000.0)", "1e+06"),
    ("string(true)", "true"),
    ("string(nil)", "<nil>"),
    ("string([1, 'a'])", "[1 a]"),
])
def test_builtins(source: str, expected: Any) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("source", "message"), [
    ("int('4 2')", r"invalid operation: int\(4 2\)"),
    ("int('1_000')", r"invalid operation: int\(1_000\)"),
    ("float('x')", r"invalid operation: float\(x\)"),
    ("float(' 1')", r"invalid operation: float\( 1\)"),
    ("len(1)", r"invalid argument for len \(type int\)"),
    ("lower(1)", "lower: argument 1 must be string, not int"),
])
def test_builtin_errors(source: str, message: str) -> None:
    with pytest.raises(ExprRuntimeError, match=message):
        ev(source)


def test_wrong_arity_is_a_compile_error() -> None:
    with pytest.raises(ExprError, match=r"invalid number of arguments for len \(expected 1, got 2\)"):
        compile_expr("len('a', 'b')")
    with pytest.raises(ExprError, match=r"invalid number of arguments for trim \(expected 1 to 2, got 3\)"):
        compile_expr("trim('a', 'b', 'c')")


def test_constant_subexpressions_are_folded_but_errors_stay_at_runtime() -> None:
    folded = compile_expr("upper('a') + 'b'")
    assert folded.is_constant and folded.constant_value == "Ab"
    assert not compile_expr("x + 1").is_constant
    failing = compile_expr("1 < 'a'")  # compiles; fails when evaluated
    with pytest.raises(ExprRuntimeError):
        failing({})


def test_compiled_expression_is_reusable_and_pure() -> None:
    expr = compile_expr("evt.Meta.log_type == 'ssh_failed-auth'", names={"evt"})
    a, b = Evt(), Evt()
    b.Meta["log_type"] = "other"
    assert [expr({"evt": a}), expr({"evt": b}), expr({"evt": a})] == [True, False, True]
    assert expr.fn({"evt": a}) is True


def test_helper_failure_becomes_runtime_error() -> None:
    def broken(x: Any) -> Any:
        raise KeyError(x)
    with pytest.raises(ExprRuntimeError, match="KeyError"):
        compile_expr("f(1)")({"f": broken})


def test_any_mapping_reads_by_key() -> None:
    from collections import OrderedDict
    from types import MappingProxyType

    env = {"o": OrderedDict(a={"items": 1}), "p": MappingProxyType({"k": "v"}), "s": StrMap()}
    assert compile_expr("o.a.items")(env) == 1  # a key, not dict.items
    assert compile_expr("o.missing")(env) is None
    assert compile_expr("p.k + p['k']")(env) == "vv"
    assert compile_expr("'k' in p")(env) is True
    assert compile_expr("s.x == ''")(env) is True
