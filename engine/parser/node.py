"""Parser nodes: YAML spec → validated, compiled :class:`ParserNode` → ``process(evt)``.

Processing follows CrowdSec's ``node.process`` (pkg/parser/node.go):

1. ``filter`` false, non-bool or failing → the node fails, nothing else happens.
2. ``grok`` on ``apply_on`` (``Line.Raw`` or a ``Parsed`` key; a missing key fails) or on
   ``expression``: a match merges its fields into ``evt.Parsed`` and runs the grok's statics.
3. Child ``nodes`` run in order; with ``onsuccess: next_stage`` the first successful child
   stops the loop. A node with a successful grok stays successful whatever its children do;
   otherwise the outcome is that of the children (the last one tried decides).
4. On success the node's ``statics`` run, and ``next_stage`` moves the event to the next stage.

Changes are never rolled back: fields written by a node that then fails stay in the event.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.event import Event
from engine.expr import CompiledExpr, ExprError, compile_expr
from engine.grok import GrokError, GrokLibrary, GrokPattern
from engine.parser.enrich import Enricher
from engine.parser.statics import Static, compile_statics
from engine.spec import Fields

log = logging.getLogger("crowdstream.engine.parser")

NODE_KEYS = frozenset({"format", "debug", "profiling", "name", "author", "description",
                       "references", "stage", "onsuccess", "filter", "nodes", "pattern_syntax",
                       "grok", "statics"})
NODE_UNSUPPORTED = {
    "whitelist": "parser whitelists are not supported yet",
    "stash": "stash is not supported yet",
    "data": "parser data files are not supported yet",
}
GROK_KEYS = frozenset({"apply_on", "name", "pattern", "expression", "statics"})
ONSUCCESS = frozenset({"continue", "next_stage"})


@dataclass(frozen=True, slots=True)
class GrokStep:
    """A node's grok: the pattern, what it applies to, and the statics of a match."""

    label: str
    pattern: GrokPattern
    apply_on: str
    expression: CompiledExpr | None
    statics: tuple[Static, ...]

    def subject(self, evt: Event, env: Mapping[str, Any]) -> str | None:
        """The text to match, or None when it does not exist."""
        if self.apply_on:
            if self.apply_on == "Line.Raw":
                return evt.Line.Raw
            return evt.Parsed.get(self.apply_on)
        assert self.expression is not None
        try:
            out = self.expression.fn(env)
        except Exception:  # noqa: BLE001 - CrowdSec: the grok fails
            return None
        t = type(out)
        if t is str:
            return out
        if t is int:
            return str(out)
        if t is float:
            return f"{out:f}"
        return ""


@dataclass(frozen=True, slots=True)
class ParserNode:
    """A compiled parser node (a top-level node of a stage, or a child)."""

    name: str
    stage: str
    onsuccess: str
    filter: CompiledExpr | None
    grok: GrokStep | None
    children: tuple[ParserNode, ...]
    statics: tuple[Static, ...]
    debug: bool = False

    def process(self, evt: Event, env: Mapping[str, Any], stages: Sequence[str]) -> bool:
        """Run the node on ``evt``; True when it succeeded. Raises ``StaticError`` when a
        static's expression returned an unusable type (the event must be discarded)."""
        if self.filter is not None:
            try:
                if self.filter.fn(env) is not True:
                    return False
            except Exception as exc:  # noqa: BLE001 - CrowdSec: a failing filter is false
                if self.debug:
                    log.warning("node %s: filter failed: %s", self.name, exc)
                return False
        state = True
        grok_ok = False
        grok = self.grok
        if grok is not None:
            text = grok.subject(evt, env)
            fields = grok.pattern.parse(text) if text is not None else None
            if fields:
                grok_ok = True
                evt.Parsed.update(fields)
                for static in grok.statics:
                    static.apply(evt, env)
            else:
                state = False
        next_stage = self.onsuccess == "next_stage"
        for child in self.children:
            if child.process(evt, env, stages):
                state = True
                if next_stage:
                    break
            elif not grok_ok:
                state = False
        if not state:
            return False
        for static in self.statics:
            static.apply(evt, env)
        if next_stage:
            idx = stages.index(evt.Stage) if evt.Stage in stages else -1
            if idx + 1 < len(stages):
                evt.Stage = stages[idx + 1]
        return True


def compile_node(spec: Fields, stage: str, grok: GrokLibrary, enrichers: Mapping[str, Enricher],
                 parent_name: str | None = None, parent_debug: bool = False) -> ParserNode:
    """Validate and compile one node (and its children) of ``stage``; a child without a name
    is called ``child-<parent name>``, as in CrowdSec."""
    spec.check(NODE_KEYS, NODE_UNSUPPORTED)
    name = spec.str("name") or (f"child-{parent_name}" if parent_name is not None else "")
    onsuccess = spec.str("onsuccess") or "continue"
    if onsuccess not in ONSUCCESS:
        raise spec.error("onsuccess", f"must be continue or next_stage, not {onsuccess!r}")
    debug = spec.bool("debug") or parent_debug
    spec.bool("profiling")
    source = spec.str("filter")
    node_filter = None
    if source:
        try:
            node_filter = compile_expr(source, names=("evt",))
        except ExprError as exc:
            raise spec.error("filter", f"invalid expression: {exc}") from None
    for pattern_name, pattern in spec.pairs("pattern_syntax"):
        if not grok.add(pattern_name, pattern):
            log.debug("%s: grok pattern %s already defined, first definition kept", spec.path, pattern_name)
    grok_step = _compile_grok(spec.map("grok"), grok, enrichers)
    children = tuple(compile_node(child, stage, grok, enrichers, parent_name=name, parent_debug=debug)
                     for child in spec.maps("nodes"))
    statics = compile_statics(spec.maps("statics"), enrichers)
    if grok_step is None and not children and not statics:
        raise spec.error("", "node is empty (it needs a grok, child nodes or statics)")
    return ParserNode(name, stage, onsuccess, node_filter, grok_step, children, statics, debug)


def _compile_grok(spec: Fields | None, grok: GrokLibrary,
                  enrichers: Mapping[str, Enricher]) -> GrokStep | None:
    if spec is None:
        return None
    spec.check(GROK_KEYS)
    name, pattern = spec.str("name"), spec.str("pattern")
    apply_on, source = spec.str("apply_on"), spec.str("expression")
    if not (name or pattern or source):
        if apply_on or spec.present("statics"):
            raise spec.error("", "grok needs 'pattern' or 'name'")
        return None
    if not name and not pattern:
        raise spec.error("", "grok needs 'pattern' or 'name'")
    if not apply_on and not source:
        raise spec.error("", "grok requires 'expression' or 'apply_on'")
    try:
        compiled = grok.get(name) if name else grok.compile(pattern)
    except GrokError as exc:
        raise spec.error("name" if name else "pattern", str(exc)) from None
    expression = None
    if source:
        try:
            expression = compile_expr(source, names=("evt",))
        except ExprError as exc:
            raise spec.error("expression", f"invalid expression: {exc}") from None
    statics = compile_statics(spec.maps("statics"), enrichers)
    return GrokStep(name or pattern, compiled, apply_on, expression, statics)
