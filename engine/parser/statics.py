"""Statics: the assignments a node (or its grok) makes when it succeeds.

Spec: one of ``meta`` / ``parsed`` / ``enriched`` (a map key), ``target`` (a field by dotted
name) or ``method`` (an enricher), and a source: ``value`` (literal) or ``expression``.
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
from engine.expr import CompiledExpr, ExprError, compile_expr
from engine.parser.enrich import Enricher
from engine.spec import Fields

log = logging.getLogger("crowdstream.engine.parser")

STATIC_KEYS = frozenset({"meta", "parsed", "enriched", "target", "method", "value", "expression"})


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
            t = type(out)
            if t is str:
                value = out
            elif t is int:
                value = str(out)
            elif t is float:
                value = f"{out:f}"
            elif out is None or isinstance(out, (dict, list, tuple)):
                return
            else:
                raise StaticError(f"static {self.kind} {self.key!r}: expression "
                                  f"{self.expression.source!r} returned {t.__name__}")
        if not value and self.kind != "method":
            return
        if self.kind == "meta":
            evt.Meta[self.key] = value
        elif self.kind == "parsed":
            evt.Parsed[self.key] = value
        elif self.kind == "enriched":
            evt.Enriched[self.key] = value
        elif self.kind == "target":
            if not evt.set_target(self.key, value):
                log.debug("static target %r cannot be set", self.key)
        else:
            assert self.enricher is not None
            for k, v in self.enricher(value, evt).items():
                evt.Enriched[k] = v


def compile_static(spec: Fields, enrichers: Mapping[str, Enricher]) -> Static:
    """Validate and compile one static."""
    spec.check(STATIC_KEYS)
    value, source = spec.str("value"), spec.str("expression")
    if not value and not source:
        raise spec.error("", "a static needs 'value' or 'expression'")
    expression = None
    if source:
        try:
            expression = compile_expr(source, names=("evt",))
        except ExprError as exc:
            raise spec.error("expression", f"invalid expression: {exc}") from None
    method = spec.str("method")
    if method:
        enricher = enrichers.get(method)
        if enricher is None:
            raise spec.error("method", f"enricher {method!r} is not supported yet")
        return Static("method", method, value, expression, enricher)
    for kind in ("meta", "parsed", "enriched", "target"):
        key = spec.str(kind)
        if key:
            return Static(kind, key, value, expression)
    raise spec.error("", "a static needs one of meta, parsed, enriched, target or method")


def compile_statics(specs: list[Fields], enrichers: Mapping[str, Enricher]) -> tuple[Static, ...]:
    return tuple(compile_static(s, enrichers) for s in specs)
