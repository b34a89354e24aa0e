"""Compile every expression of the public hub's parsers, scenarios and postoverflows.

Counts how many compile with today's function set; CrowdSec helpers that are not implemented
yet may fail, but nothing may fail to *parse*: every syntax the hub uses is supported.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.expr import DEFAULT_FUNCTIONS, ExprError, compile_expr
from engine.expr.parser import parse
from engine.runtime import Runtime, RuntimeOptions

HUB = Path(__file__).resolve().parents[4] / "shared" / "crowdsec-hub" / "hub"
KEYS = ("filter", "expression", "groupby", "condition")
NAMES = frozenset({"evt", "queue", "leaky"})
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _collect(node: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in KEYS and isinstance(value, str):
                out.append((key, value))
            else:
                _collect(value, out)
    elif isinstance(node, list):
        for value in node:
            _collect(value, out)


@lru_cache(maxsize=1)
def hub_expressions() -> list[tuple[str, str, str]]:
    """(file, key, source) of every filter/expression/groupby/condition string (statics'
    ``expression:`` included) of the hub's parsers, scenarios and postoverflows."""
    found: list[tuple[str, str, str]] = []
    for kind in ("parsers", "scenarios", "postoverflows"):
        for path in sorted((HUB / kind).rglob("*.yaml")):
            for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER):
                items: list[tuple[str, str]] = []
                _collect(doc, items)
                found.extend((str(path.relative_to(HUB)), key, src) for key, src in items)
    return found


@pytest.mark.skipif(not HUB.exists(), reason="the shared hub is not available")
def test_every_hub_expression_parses_and_most_compile() -> None:
    exprs = hub_expressions()
    assert len(exprs) > 1500
    syntax_errors = []
    for path, key, source in exprs:
        try:
            parse(source)
        except ExprError as exc:
            syntax_errors.append(f"{path} {key}: {exc.message}")
    assert syntax_errors == []

    compiled, causes = _census(exprs, DEFAULT_FUNCTIONS)
    # Only CrowdSec helpers that engine.helpers provides may be missing from the defaults.
    assert all(message.startswith("helper '") and message.endswith("' is not supported yet")
               for message in causes), causes
    # Census at the time of writing: 1965 expressions, 1661 compile with DEFAULT_FUNCTIONS,
    # the 304 others all call a helper of engine/helpers (XMLGetNodeValue 184, JsonExtract 56…).
    assert compiled >= 1661
    print(f"\nhub expressions: {len(exprs)}; DEFAULT_FUNCTIONS: {compiled} compile")
    for message, count in causes.most_common():
        print(f"  {count:4d}  {message}")


@pytest.mark.skipif(not HUB.exists(), reason="the shared hub is not available")
def test_every_hub_expression_compiles_with_a_runtime_function_set() -> None:
    """With expr builtins plus every CrowdSec helper (engine.runtime): 1965 of 1965 today."""
    functions = Runtime(RuntimeOptions()).functions
    exprs = hub_expressions()
    compiled, causes = _census(exprs, functions)
    print(f"\nhub expressions: {len(exprs)}; runtime functions: {compiled} compile")
    assert not causes, causes
    assert compiled == len(exprs)


def _census(exprs: list[tuple[str, str, str]], functions: Any) -> tuple[int, Counter[str]]:
    compiled = 0
    causes: Counter[str] = Counter()
    for _path, _key, source in exprs:
        try:
            compile_expr(source, functions=functions, names=NAMES)
            compiled += 1
        except ExprError as exc:
            causes[exc.message] += 1
    return compiled, causes
