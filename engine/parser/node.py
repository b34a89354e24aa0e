"""Parser nodes: YAML spec → validated, compiled :class:`ParserNode` → ``process(evt)``.

Processing follows CrowdSec's ``node.process`` (pkg/parser/node.go):

1. ``filter`` false, non-bool or failing → the node fails, nothing else happens.
2. ``whitelist``: ``ip`` / ``cidr`` against ``evt.Meta.source_ip`` (an overflow: its source
   keys), then the ``expression`` list (a failing expression ends the checks, not
   whitelisted). A match sets ``evt.Whitelisted`` and, if it was not already set,
   ``evt.WhitelistReason`` (an overflow also gets ``Overflow.Whitelisted``).
3. ``grok`` on ``apply_on`` (``Line.Raw`` or a ``Parsed`` key; a missing key fails) or on
   ``expression``: a match merges its fields into ``evt.Parsed`` and runs the grok's statics.
4. ``stash`` entries run when the grok matched or there is no grok: key and value
   expressions must give strings, else the entry is skipped.
5. Child ``nodes`` run in order (even after a failed grok); with ``onsuccess: next_stage``
   the first successful child stops the loop. A node with a successful grok stays
   successful whatever its children do; otherwise the outcome is that of the children (a
   failing child makes it fail unless a later one succeeds).
6. On success the node's ``statics`` run (a whitelist node's only if it whitelisted), and
   ``next_stage`` moves the event to the next stage.

Changes are never rolled back: fields written by a node that then fails stay in the event.
Every expression is compiled with the loading :class:`engine.runtime.Runtime`'s functions.
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.durations import DurationError, parse_duration
from engine.event import OVFLW, Event
from engine.expr import CompiledExpr, ExprError, compile_expr
from engine.grok import GrokError, GrokLibrary, GrokPattern
from engine.parser.enrich import Enricher
from engine.parser.statics import Static, compile_statics, scalar_text
from engine.runtime import Runtime
from engine.spec import ContentError, Fields

log = logging.getLogger("crowdstream.engine.parser")

NODE_KEYS = frozenset({"format", "debug", "profiling", "name", "author", "description",
                       "references", "stage", "onsuccess", "filter", "nodes", "pattern_syntax",
                       "grok", "statics", "stash", "whitelist", "data"})
GROK_KEYS = frozenset({"apply_on", "name", "pattern", "expression", "statics"})
WHITELIST_KEYS = frozenset({"reason", "ip", "cidr", "expression"})
STASH_KEYS = frozenset({"name", "key", "value", "ttl", "size", "strategy"})
ONSUCCESS = frozenset({"continue", "next_stage"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Compiler:
    """What compiling nodes needs: the shared grok namespace, the enrichers and the runtime
    (expr functions, stash caches, data files)."""

    grok: GrokLibrary
    enrichers: Mapping[str, Enricher]
    runtime: Runtime

    def expr(self, spec: Fields, key: str, source: str) -> CompiledExpr:
        try:
            return compile_expr(source, functions=self.runtime.functions, names=("evt",))
        except ExprError as exc:
            raise spec.error(key, f"invalid expression: {exc}") from None


@dataclass(frozen=True, slots=True)
class Whitelist:
    """A node's ``whitelist`` section (CrowdSec ``Whitelist``)."""

    reason: str
    ips: tuple[IPAddress, ...]
    cidrs: tuple[IPNetwork, ...]
    expressions: tuple[CompiledExpr, ...]

    def check(self, evt: Event, env: Mapping[str, Any], debug: bool = False) -> bool:
        """True when the event matches an address, a range or an expression."""
        if self.ips or self.cidrs:
            for src in evt.ParseIPSources():
                if src in self.ips or any(src in net for net in self.cidrs if net.version == src.version):
                    return True
        for expression in self.expressions:
            try:
                out = expression.fn(env)
            except Exception as exc:  # noqa: BLE001 - CrowdSec: stop, not whitelisted
                if debug:
                    log.warning("whitelist expression %r failed: %s", expression.source, exc)
                return False
            if out is True:
                return True
            if out is not False:
                log.error("whitelist expression %r returned %s, not a bool", expression.source,
                          type(out).__name__)
        return False


@dataclass(frozen=True, slots=True)
class Stash:
    """A ``stash`` entry: store ``value`` under ``key`` in the runtime's cache ``name``."""

    name: str
    key: CompiledExpr
    value: CompiledExpr
    runtime: Runtime  # its ``stash.set(name, key, value, now_ns=…)``, at ``event_time_ns``

    def apply(self, env: Mapping[str, Any]) -> None:
        try:
            value = self.value.fn(env)
        except Exception as exc:  # noqa: BLE001 - CrowdSec warns and skips
            log.debug("stash %s: value expression failed: %s", self.name, exc)
            return
        if type(value) is not str:
            return
        try:
            key = self.key.fn(env)
        except Exception as exc:  # noqa: BLE001
            log.debug("stash %s: key expression failed: %s", self.name, exc)
            return
        if type(key) is not str:
            return
        runtime = self.runtime
        now_ns = runtime.event_time_ns
        runtime.stash.set(self.name, key, value, now_ns=now_ns if now_ns is not None else 0)


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
        text = scalar_text(out)
        return "" if text is None else text


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
    whitelist: Whitelist | None = None
    stashes: tuple[Stash, ...] = ()

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
        whitelisted = False
        whitelist = self.whitelist
        if whitelist is not None and whitelist.check(evt, env, self.debug):
            whitelisted = True
            if not evt.Whitelisted:
                evt.Whitelisted = True
                evt.WhitelistReason = whitelist.reason
                if evt.Type == OVFLW and evt.Overflow is not None:
                    try:
                        evt.Overflow.Whitelisted = True
                    except AttributeError:
                        if isinstance(evt.Overflow, dict):
                            evt.Overflow["Whitelisted"] = True
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
        if self.stashes and (grok_ok or grok is None):
            for stash in self.stashes:
                stash.apply(env)
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
        if whitelist is None or whitelisted:
            for static in self.statics:
                static.apply(evt, env)
        if next_stage:
            idx = stages.index(evt.Stage) if evt.Stage in stages else -1
            if idx + 1 < len(stages):
                evt.Stage = stages[idx + 1]
        return True


def compile_node(spec: Fields, stage: str, ctx: Compiler,
                 parent_name: str | None = None, parent_debug: bool = False) -> ParserNode:
    """Validate and compile one node (and its children) of ``stage``; a child without a name
    is called ``child-<parent name>``, as in CrowdSec."""
    spec.check(NODE_KEYS)
    name = spec.str("name") or (f"child-{parent_name}" if parent_name is not None else "")
    onsuccess = spec.str("onsuccess") or "continue"
    if onsuccess not in ONSUCCESS:
        raise spec.error("onsuccess", f"must be continue or next_stage, not {onsuccess!r}")
    debug = spec.bool("debug") or parent_debug
    spec.bool("profiling")
    source = spec.str("filter")
    node_filter = ctx.expr(spec, "filter", source) if source else None
    for pattern_name, pattern in spec.pairs("pattern_syntax"):
        try:
            added = ctx.grok.add(pattern_name, pattern)
        except GrokError as exc:
            raise spec.error(f"pattern_syntax.{pattern_name}", str(exc)) from None
        if not added:
            log.warning("%s: grok pattern %s already defined, first definition kept", spec.path, pattern_name)
    grok_step = _compile_grok(spec.map("grok"), ctx)
    stashes = tuple(_compile_stash(s, ctx) for s in spec.maps("stash"))
    children = tuple(compile_node(child, stage, ctx, parent_name=name, parent_debug=debug)
                     for child in spec.maps("nodes"))
    statics = compile_statics(spec.maps("statics"), ctx.enrichers, functions=ctx.runtime.functions)
    whitelist = _compile_whitelist(spec.map("whitelist"), ctx)
    if grok_step is None and not children and not statics and whitelist is None:
        raise spec.error("", "node is empty (it needs a grok, child nodes, statics or a whitelist)")
    return ParserNode(name, stage, onsuccess, node_filter, grok_step, children, statics, debug,
                      whitelist, stashes)


def load_node_data(spec: Fields, ctx: Compiler) -> None:
    """Hand a top-level node's ``data`` entries to the runtime (``Runtime.load_data``), as
    CrowdSec loads them after compiling the node. Child nodes' ``data`` is ignored."""
    if not spec.present("data"):
        return
    entries = spec.any("data")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise spec.error("data", "expected a list of mappings")
    try:
        ctx.runtime.load_data(entries, spec.at("data"))
    except ContentError:
        raise
    except Exception as exc:  # noqa: BLE001 - CrowdSec logs data loading errors
        log.error("%s: data: %s", spec.path, exc)


def _compile_whitelist(spec: Fields | None, ctx: Compiler) -> Whitelist | None:
    if spec is None:
        return None
    spec.check(WHITELIST_KEYS)
    ips = []
    for value in spec.strings("ip"):
        try:
            ips.append(ipaddress.ip_address(value))
        except ValueError:
            raise spec.error("ip", f"invalid address {value!r}") from None
    cidrs = []
    for value in spec.strings("cidr"):
        try:
            if "%" in value:
                raise ValueError(value)
            cidrs.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise spec.error("cidr", f"invalid range {value!r}") from None
    expressions = tuple(ctx.expr(spec, "expression", source) for source in spec.strings("expression"))
    if not ips and not cidrs and not expressions:
        return None  # CrowdSec: not a whitelist node
    return Whitelist(spec.str("reason"), tuple(ips), tuple(cidrs), expressions)


def _compile_stash(spec: Fields, ctx: Compiler) -> Stash:
    spec.check(STASH_KEYS)
    name = spec.str("name")
    if not name:
        raise spec.error("name", "must be set")
    for key in ("value", "key", "ttl"):
        if not spec.str(key):
            raise spec.error(key, "must be set")
    value = ctx.expr(spec, "value", spec.str("value"))
    key = ctx.expr(spec, "key", spec.str("key"))
    try:
        ttl_ns = parse_duration(spec.str("ttl"))
    except DurationError as exc:
        raise spec.error("ttl", str(exc)) from None
    size = spec.int("size") or 100
    strategy = spec.str("strategy") or "LRU"
    ctx.runtime.stash.configure(name, ttl_ns=ttl_ns, size=size, strategy=strategy)
    return Stash(name, key, value, ctx.runtime)


def _compile_grok(spec: Fields | None, ctx: Compiler) -> GrokStep | None:
    if spec is None:
        return None
    spec.check(GROK_KEYS)
    name, pattern = spec.str("name"), spec.str("pattern")
    apply_on, source = spec.str("apply_on"), spec.str("expression")
    if not (name or pattern or source):
        if apply_on:
            raise spec.error("", "grok needs 'pattern' or 'name'")
        return None
    if not name and not pattern:
        raise spec.error("", "grok needs 'pattern' or 'name'")
    if not apply_on and not source:
        raise spec.error("", "grok requires 'expression' or 'apply_on'")
    try:
        compiled = ctx.grok.get(name) if name else ctx.grok.compile(pattern)
    except GrokError as exc:
        raise spec.error("name" if name else "pattern", str(exc)) from None
    expression = ctx.expr(spec, "expression", source) if source else None
    statics = compile_statics(spec.maps("statics"), ctx.enrichers, functions=ctx.runtime.functions, grok=True)
    return GrokStep(name or pattern, compiled, apply_on, expression, statics)
