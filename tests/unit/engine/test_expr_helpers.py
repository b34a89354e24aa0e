"""CrowdSec helpers, Go fmt, and the function registry."""
from __future__ import annotations

from typing import Any

import pytest

from engine.expr import DEFAULT_FUNCTIONS, ExprError, ExprRuntimeError, Function, compile_expr, function_set
from engine.expr.values import format_float, go_sprintf


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source)(env)


@pytest.mark.parametrize(("source", "expected"), [
    ("Upper('ssh-Bf')", "SSH-BF"),
    ("Lower('SSH-Bf')", "ssh-bf"),
    ("TrimSpace('\\t a b \\n')", "a b"),
    ("IpInRange('192.168.1.20', '192.168.0.0/16')", True),
    ("IpInRange('10.0.0.1', '192.168.0.0/16')", False),
    ("IpInRange('192.168.1.20', '192.168.1.0/24')", True),
    ("IpInRange('2001:db8::1', '2001:db8::/32')", True),
    ("IpInRange('::ffff:192.168.1.1', '192.168.0.0/16')", True),  # IPv4-mapped counts as IPv4
    ("IpInRange('192.168.1.1', '192.168.1.1')", False),  # not a CIDR for Go's ParseCIDR
    ("IpInRange('nope', '10.0.0.0/8')", False),
    ("IpInRange('10.0.0.1', 'nope')", False),
    ("IpInRange('10.0.0.1', '2001:db8::/32')", False),
    ("IsIPV4('1.2.3.4')", True),
    ("IsIPV4('::ffff:1.2.3.4')", True),
    ("IsIPV4('2001:db8::1')", False),
    ("IsIPV4('01.2.3.4')", False),  # leading zeros are rejected, as in Go
    ("IsIPV6('2001:db8::1')", True),
    ("IsIPV6('1.2.3.4')", False),
    ("IsIPV6('fe80::1%eth0')", False),  # zones are not IPs for net.ParseIP
    ("IsIPV6('x')", False),
    ("Atof('1.5')", 1.5),
    ("Atof('-2e3')", -2000.0),
    ("Atof('x')", 0.0),  # CrowdSec logs and returns 0
    ("Sprintf('%s has %d', 'ip', 3)", "ip has 3"),
    ("Sprintf('%v|%v|%v|%v', 1, 2.5, nil, [1, 'a'])", "1|2.5|<nil>|[1 a]"),
    ("Sprintf('%.2f %5s|%-4d|%05d', 3.14159, 'ab', 7, -42)", "3.14    ab|7   |-0042"),
    ("Sprintf('%q %x %t %%', 'a\"b', 255, true)", "\"a\\\"b\" ff true %"),
    ("Sprintf('%d', 'x')", "%!d(string=x)"),
    ("Sprintf('%s %s', 'a')", "a %!s(MISSING)"),
    ("Sprintf('%s', 'a', 1)", "a%!(EXTRA int=1)"),
])
def test_crowdsec_helpers(source: str, expected: Any) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected)


def test_helpers_check_argument_types_and_arity() -> None:
    with pytest.raises(ExprRuntimeError, match="Upper: argument 1 must be string, not int"):
        ev("Upper(1)")
    with pytest.raises(ExprError, match=r"invalid number of arguments for IpInRange \(expected 2, got 1\)"):
        compile_expr("IpInRange('1.2.3.4')")
    with pytest.raises(ExprError, match=r"invalid number of arguments for Sprintf \(expected at least 1, got 0\)"):
        compile_expr("Sprintf()")


def test_function_registry_is_extensible_without_global_state() -> None:
    calls: list[Any] = []

    def double(x: Any) -> Any:
        calls.append(x)
        return x * 2
    functions = function_set(DEFAULT_FUNCTIONS.values(), [Function("Double", double, 1, 1, pure=False)])
    expr = compile_expr("Double(Atof('2')) + 1", functions=functions)
    assert expr({}) == 5.0
    assert expr({}) == 5.0
    assert calls == [2.0, 2.0]  # impure: not folded at compile time
    assert "Double" not in DEFAULT_FUNCTIONS
    with pytest.raises(TypeError):
        DEFAULT_FUNCTIONS["Double"] = functions["Double"]  # type: ignore[index]
    # an unknown name is looked up in the environment at run time
    assert compile_expr("Double(2)")({"Double": lambda x: x * 3}) == 6


@pytest.mark.parametrize(("value", "expected"), [
    (1e6, "1e+06"), (123456.0, "123456"), (1234567.0, "1.234567e+06"), (0.0001, "0.0001"),
    (0.00001, "1e-05"), (100.0, "100"), (-0.0, "-0"), (1 / 3, "0.3333333333333333"),
    (float("inf"), "+Inf"), (float("nan"), "NaN"),
])
def test_go_float_formatting(value: float, expected: str) -> None:
    assert format_float(value) == expected


def test_go_sprintf_float_verbs() -> None:
    assert go_sprintf("%f %e %g %.3g", (1.5, 1234.5, 1e21, 1234.5678)) == "1.500000 1.234500e+03 1e+21 1.23e+03"
    assert go_sprintf("%f", (1,)) == "%!f(int=1)"
