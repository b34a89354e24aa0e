"""Long `||` / `&&` chains (sigma-generated hub scenarios have ~1000 terms) compile and run
as one loop, with expr's short-circuit and bool checks."""
import pytest

from engine.expr import ExprRuntimeError, compile_expr


def test_thousand_term_or_chain() -> None:
    source = " or ".join(f"x == {i}" for i in range(2000))
    expr = compile_expr(source)
    assert expr({"x": 1999}) is True
    assert expr({"x": -1}) is False


def test_and_chain_short_circuits_and_returns_last_value() -> None:
    assert compile_expr("a && b && c")({"a": True, "b": False, "c": 1}) is False
    assert compile_expr("a && b && c")({"a": True, "b": True, "c": True}) is True
    assert compile_expr("a || b || c")({"a": False, "b": True, "c": 1}) is True


def test_non_bool_inside_a_chain_is_an_error() -> None:
    with pytest.raises(ExprRuntimeError, match=r"invalid operation: int \|\| \(expected bool\)"):
        compile_expr("a || b || c")({"a": False, "b": 3, "c": True})
