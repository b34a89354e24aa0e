"""Runtime: one per loaded content, sharing nothing with another."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.expr import DEFAULT_FUNCTIONS, compile_expr
from engine.expr.functions import CROWDSEC_HELPER_NAMES
from engine.runtime import Runtime, RuntimeOptions

S = 1_000_000_000


def test_defaults() -> None:
    runtime = Runtime()
    assert runtime.options == RuntimeOptions()
    assert runtime.event_time_ns is None
    assert len(runtime.stash) == 0


def test_functions_cover_builtins_and_every_crowdsec_helper() -> None:
    functions = Runtime().functions
    assert set(DEFAULT_FUNCTIONS) <= set(functions)
    assert sorted(CROWDSEC_HELPER_NAMES - set(functions)) == []
    with pytest.raises(TypeError):
        functions["x"] = functions["File"]  # type: ignore[index]


def test_two_runtimes_share_no_data(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "f.txt").write_text("a\n")
    (two / "f.txt").write_text("b\n")
    r1 = Runtime(RuntimeOptions(data_dir=one))
    r2 = Runtime(RuntimeOptions(data_dir=two))
    r3 = Runtime(RuntimeOptions(data_dir=one))
    r1.load_data([{"dest_file": "f.txt", "type": "string"}], "x.yaml")
    r2.load_data([{"dest_file": "f.txt", "type": "string"}], "x.yaml")
    file = "File('f.txt')"
    assert compile_expr(file, functions=r1.functions)({}) == ["a"]
    assert compile_expr(file, functions=r2.functions)({}) == ["b"]
    assert compile_expr(file, functions=r3.functions)({}) == []


def test_two_runtimes_share_no_stash() -> None:
    r1, r2 = Runtime(), Runtime()
    for r in (r1, r2):
        r.stash.configure("c", ttl_ns=60 * S, size=10)
        r.event_time_ns = 0
    r1.stash.set("c", "k", "one", now_ns=0)
    get = "GetFromStash('c', 'k')"
    assert compile_expr(get, functions=r1.functions)({}) == "one"
    assert compile_expr(get, functions=r2.functions)({}) == ""
    r2.event_time_ns = None
    assert compile_expr(get, functions=r1.functions)({}) == "one"  # event times are separate


def test_stateful_helpers_are_not_folded_at_compile_time(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x\n")
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    compiled = compile_expr("'x' in File('f.txt')", functions=runtime.functions)
    assert compiled({}) is False
    runtime.load_data([{"dest_file": "f.txt", "type": "string"}], "s.yaml")  # data loaded later
    assert compiled({}) is True


def test_options_reach_the_helpers() -> None:
    runtime = Runtime(RuntimeOptions(now=lambda: 0.0, hostname="h"))
    assert compile_expr("TimeNow() + ' ' + Hostname()", functions=runtime.functions)({}) \
        == "1970-01-01T00:00:00Z h"


def test_expr_now_uses_the_injected_clock() -> None:
    from engine.gotime import GoTime

    runtime = Runtime(RuntimeOptions(now=lambda: 1672531200.5))
    assert compile_expr("now()", functions=runtime.functions)({}) == GoTime.from_unix(1672531200.5)
    with pytest.raises(Exception, match="clock"):
        compile_expr("now()", functions=Runtime().functions)({})
