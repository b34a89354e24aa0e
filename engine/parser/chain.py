"""Parser stages: loading node files and running an event through them.

Stages are the sorted set of stage names of the loaded files (``s00-raw``, ``s01-parse``,
``s02-enrich``); within a stage, nodes run in file order (stage, file name) then document
order. ``ParserChain.parse`` follows CrowdSec's ``parser.Parse``: in each stage the nodes are
tried in order until one succeeds with ``onsuccess: next_stage`` (or the event's stage
otherwise changes); a stage in which no node succeeded drops the event, and so does ending a
stage without being moved on to the next one (only the last stage may end with ``continue``).

``load_parsers(paths, patterns_dir, runtime=...)`` compiles every expression with the
runtime's functions and gives ``stash`` / ``data`` sections and the enrichers their runtime
(see :func:`load_parsers`); ``parse(evt, observer)`` reports every node tried (see
:meth:`ParserChain.parse` for the observer contract).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from engine.event import Event
from engine.grok import GrokError, GrokLibrary
from engine.parser.enrich import Enricher, build_enrichers
from engine.parser.node import Compiler, ParserNode, compile_node, load_node_data
from engine.parser.statics import StaticError
from engine.runtime import Runtime
from engine.spec import ContentError, load_documents

log = logging.getLogger("crowdstream.engine.parser")

STAGE_NAME = re.compile(r"^s\d+-[\w-]+$")
_VERSION = re.compile(r"^v?([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?"
                      r"(?:\+[0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*)?$")
#: CrowdSec's supported parser format versions: ">= 1.0, <= 3.0"
FORMAT_MIN, FORMAT_MAX = (1, 0, 0), (3, 0, 0)


def format_supported(version: str) -> bool:
    """Whether a node's ``format`` satisfies ``>= 1.0, <= 3.0`` (hashicorp go-version: a
    pre-release never satisfies a constraint without one). Raises ValueError for an invalid
    version."""
    m = _VERSION.match(version)
    if not m:
        raise ValueError(f"malformed version: {version}")
    if m.group(2):
        return False
    parts = tuple(int(p) for p in m.group(1).split("."))
    segments = (parts + (0, 0, 0))[:max(3, len(parts))]
    pad = (0,) * (len(segments) - 3)
    return FORMAT_MIN + pad <= segments <= FORMAT_MAX + pad
_YAML = (".yaml", ".yml")

#: ``observer(stage, node_name, evt, success)``, see :meth:`ParserChain.parse`
Observer = Callable[[str, str, Event, bool], None]


class ParserChain:
    """Compiled parser nodes grouped by stage."""

    def __init__(self, nodes: Iterable[ParserNode], runtime: Runtime | None = None) -> None:
        #: the runtime the nodes were compiled with; ``parse`` sets its ``event_time_ns``
        self.runtime = runtime
        by_stage: dict[str, list[ParserNode]] = {}
        for node in nodes:
            by_stage.setdefault(node.stage, []).append(node)
        self.stages: tuple[str, ...] = tuple(sorted(by_stage))
        self.nodes: Mapping[str, tuple[ParserNode, ...]] = {k: tuple(v) for k, v in by_stage.items()}

    def parse(self, evt: Event, observer: Observer | None = None) -> Event | None:
        """Run ``evt`` through the stages; the (mutated) event when it was parsed completely
        (``evt.Process`` True; it may be ``Whitelisted``), else None (``evt.Process`` False).

        ``observer(stage, node_name, evt, success)`` is called once after **every top-level
        node tried**, in processing order, including nodes whose filter was false (then
        ``success`` is False) — CrowdSec's ``collector.Add(stage, node.Name, evt, ret)``:

        * ``stage``: the stage being processed (the node's stage), e.g. ``"s01-parse"``;
        * ``node_name``: the node's ``name`` (``""`` if it has none; child nodes are not
          reported separately, their effects show in their parent's call);
        * ``evt``: the **live** event, with every change the node made (changes are never
          rolled back, even when ``success`` is False). It keeps changing after the call:
          an observer that records it must copy it, e.g. with ``evt.snapshot()``;
        * ``success``: what the node returned.

        A node whose static fails with a non-string, non-number result (a bool…) discards
        the event: that node is not reported and ``parse`` returns None at once.
        """
        stages = self.stages
        runtime = self.runtime
        if runtime is not None:  # stash sections and GetFromStash run on the acquisition time
            line_time = evt.Line.Time
            runtime.event_time_ns = (line_time if not line_time.IsZero() else evt.Time).unix_ns
        if not evt.Stage and stages:
            evt.Stage = stages[0]
        evt.Process = False
        env = {"evt": evt}
        for position, stage in enumerate(stages):
            current = stages.index(evt.Stage) if evt.Stage in stages else -1
            if current > position:
                continue
            if evt.Stage != stage:
                return None
            stage_ok = False
            for node in self.nodes[stage]:
                try:
                    ok = node.process(evt, env, stages)
                except StaticError as exc:
                    log.warning("event discarded by node %s: %s", node.name, exc)
                    return None
                if observer is not None:
                    observer(stage, node.name, evt, ok)
                if ok:
                    stage_ok = True
                    if node.onsuccess == "next_stage":
                        break
                if evt.Stage != stage:
                    break
            if not stage_ok:
                return None
        evt.Process = True
        return evt


ParserSource = Path | str | tuple[str, Path | str]


def stage_files(paths: Sequence[ParserSource]) -> list[tuple[str, Path]]:
    """(stage, file) for every parser YAML file under ``paths``, in CrowdSec's load order.

    A path may be a file (its stage is the nearest parent directory named like ``s01-parse``),
    a stage directory (all YAML files below it), a directory of stage directories, or an
    explicit ``(stage, file)`` pair (as a hub index gives them).
    """
    found: dict[Path, str] = {}
    for raw in paths:
        if isinstance(raw, tuple):
            stage, file = raw[0], Path(raw[1])
            if not file.is_file():
                raise ContentError(f"{file}: no such parser file")
            found.setdefault(file, stage)
            continue
        path = Path(raw)
        if path.is_file():
            stage = next((p.name for p in path.parents if STAGE_NAME.match(p.name)), None)
            if stage is None:
                raise ContentError(f"{path}: cannot tell the parser stage (no s00-xxx directory above it)")
            found.setdefault(path, stage)
        elif path.is_dir():
            stage_dirs = [path] if STAGE_NAME.match(path.name) else sorted(
                p for p in path.iterdir() if p.is_dir() and STAGE_NAME.match(p.name))
            for stage_dir in stage_dirs:
                for file in stage_dir.rglob("*"):
                    if file.is_file() and file.suffix in _YAML:
                        found.setdefault(file, stage_dir.name)
        else:
            raise ContentError(f"{path}: no such parser file or directory")
    return sorted(((stage, file) for file, stage in found.items()),
                  key=lambda item: (item[0], item[1].name, str(item[1])))


def load_parsers(paths: Sequence[ParserSource], patterns_dir: Path | str | None, *,
                 runtime: Runtime | None = None,
                 grok: GrokLibrary | None = None,
                 enrichers: Mapping[str, Enricher] | None = None) -> ParserChain:
    """Load and compile parser files (see :func:`stage_files`) with the grok patterns of
    ``patterns_dir`` (and/or an existing ``grok`` library, which the nodes' ``pattern_syntax``
    then extends).

    ``runtime`` supplies the expr functions every expression is compiled with, the stash
    caches (``stash`` sections), the data files (``data`` sections) and, through its
    options, the GeoLite2 files and the reverse-DNS resolver of the enrichers (a default
    :class:`Runtime` — no data dir, no resolver — when None).
    Raises :class:`ContentError` naming the file and key of any problem.
    """
    library = grok if grok is not None else GrokLibrary()
    if patterns_dir is not None:
        try:
            library.add_dir(patterns_dir)
        except GrokError as exc:
            raise ContentError(str(exc)) from None
    runtime = runtime if runtime is not None else Runtime()
    if enrichers is None:
        enrichers = build_enrichers(runtime.options)
    ctx = Compiler(library, enrichers, runtime)
    nodes: list[ParserNode] = []
    for stage, file in stage_files(paths):
        for doc in load_documents(file):
            if not (doc.str("name") or doc.str("description") or doc.str("author")):
                log.info("%s: node without name, author or description skipped", file)
                continue
            try:
                supported = format_supported(doc.str("format") or "1.0")
            except ValueError as exc:
                raise doc.error("format", str(exc)) from None
            if not supported:
                log.error("%s: %s: format %s is not supported (%s to %s), node skipped", file,
                          doc.str("name"), doc.str("format"), "1.0", "3.0")
                continue
            nodes.append(compile_node(doc, stage, ctx))
            load_node_data(doc, ctx)
    return ParserChain(nodes, runtime)
