"""Statics: the assignments a node (or its grok) makes when it succeeds.

Spec: a target, ``method`` (an enricher), ``parsed`` / ``meta`` / ``enriched`` (a map key) or
``target`` (a field by dotted name, ``evt.`` optional), and a source: ``value`` (literal) or
``expression``. When several targets are given the first of that list is used. As CrowdSec
validates them, a node's statics need ``method``, ``parsed``, ``meta`` or ``target`` (a grok's
statics may also use ``enriched`` alone); an unknown ``method`` is a warning at load time and
does nothing at run time.
Runtime rules (CrowdSec ``RuntimeStatic.Apply``): a string result is used as is, an int in
decimal, a float as ``%f``; nil, maps and lists are skipped; an expression error skips the
static; any other type (a bool…) is an error that discards the event; an empty value is
skipped, except for ``method: ParseDate``.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.event import Event
from engine.expr import DEFAULT_FUNCTIONS, CompiledExpr, ExprError, Function, compile_expr
from engine.parser.enrich import Enricher
from engine.spec import Fields

log = logging.getLogger("crowdstream.engine.parser")

STATIC_KEYS = frozenset({"meta", "parsed", "enriched", "target", "method", "value", "expression"})


def scalar_text(value: Any) -> str | None:
    """An expression result as the parser stores it: a string as is, an int as ``%d``, a
    float as ``%f``; None for any other type (each caller has its own rule for those)."""
    t = type(value)
    if t is str:
        return value
    if t is int:
        return str(value)
    if t is float:
        return go_float(value)
    return None


def go_float(value: float) -> str:
    """Go ``fmt.Sprintf("%f", value)``."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:f}"


class StaticError(RuntimeError):
    """A static whose expression returned a type that cannot become a string."""


@dataclass(frozen=True, slots=True)
class Static:
    kind: str  # "meta", "parsed", "enriched", "target" or "method"
    key: str
    value: str
    expression: CompiledExpr | None
    enricher: Enricher | None = None

    def apply(self, evt: Event, env: Mapping[str, Any]) -> None:
        value = self.value
        if not value and self.expression is not None:
            try:
                out = self.expression.fn(env)
            except Exception as exc:  # noqa: BLE001 - CrowdSec warns and skips the static
                log.debug("static %s=%r: expression failed: %s", self.key, self.expression.source, exc)
                return
            text = scalar_text(out)
            if text is not None:
                value = text
            elif out is None or isinstance(out, (dict, list, tuple)):
                value = ""  # nil, a map or a list: no value (ParseDate still runs)
            else:
                raise StaticError(f"static {self.kind} {self.key!r}: expression "
                                  f"{self.expression.source!r} returned {type(out).__name__}")
        if not value and not (self.kind == "method" and self.key == "ParseDate"):
            return
        if self.kind == "meta":
            evt.Meta[self.key] = value
        elif self.kind == "method":
            if self.enricher is None:
                return
            try:
                out = self.enricher(value, evt)
            except Exception as exc:  # noqa: BLE001 - CrowdSec logs the enricher's error
                log.error("method %s(%r) failed: %s", self.key, value, exc)
                return
            if out:
                enriched = evt.Enriched
                for k, v in out.items():
                    enriched[k] = v
        elif self.kind == "parsed":
            evt.Parsed[self.key] = value
        elif self.kind == "enriched":
            evt.Enriched[self.key] = value
        else:
            if not evt.set_target(self.key, value):
                log.debug("static target %r cannot be set", self.key)


def compile_static(spec: Fields, enrichers: Mapping[str, Enricher], *,
                   functions: Mapping[str, Function] = DEFAULT_FUNCTIONS,
                   grok: bool = False) -> Static:
    """Validate and compile one static (``grok``: a grok's static, which CrowdSec does not
    validate as strictly)."""
    spec.check(STATIC_KEYS)
    value, source = spec.str("value"), spec.str("expression")
    if not value and not source:
        raise spec.error("", "a static needs 'value' or 'expression'")
    expression = None
    if source:
        try:
            expression = compile_expr(source, functions=functions, names=("evt",))
        except ExprError as exc:
            raise spec.error("expression", f"invalid expression: {exc}") from None
    method = spec.str("method")
    if method:
        enricher = enrichers.get(method)
        if enricher is None:
            log.warning("%s: the method %r doesn't exist", spec.path, method)
        return Static("method", method, value, expression, enricher)
    targets = [(kind, spec.str(kind)) for kind in ("parsed", "meta", "enriched", "target")]
    if grok or any(key for kind, key in targets if kind != "enriched"):
        for kind, key in targets:
            if key:
                return Static(kind, key, value, expression)
    raise spec.error("", "a static needs one of meta, parsed, target or method")


def compile_statics(specs: list[Fields], enrichers: Mapping[str, Enricher], *,
                    functions: Mapping[str, Function] = DEFAULT_FUNCTIONS,
                    grok: bool = False) -> tuple[Static, ...]:
    return tuple(compile_static(s, enrichers, functions=functions, grok=grok) for s in specs)
