"""Scenarios: the strict YAML spec of CrowdSec's ``BucketSpec`` → a compiled :class:`Scenario`.

Every key CrowdSec knows is recognised; an unknown key is an error naming the file, the
line and the key. ``reprocess`` is recorded on the scenario; re-pouring an overflow event
into the buckets is done by whoever handles overflows (see :mod:`engine.overflow`).
The ``bayesian_*`` keys are only for ``type: bayesian``: probabilities are float32 as in
CrowdSec, the prior and the threshold must be in ]0, 1], each condition's probabilities in
[0, 1], and each condition expression (env ``evt``, ``queue``, ``leaky``) compiles at load.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.bucket import BUCKET_TYPES, BucketType, float32
from engine.durations import DurationError, format_duration, parse_duration
from engine.expr import CompiledExpr, ExprError, Function, compile_expr
from engine.runtime import Runtime
from engine.spec import ContentError, Fields, load_documents

SCENARIO_KEYS = frozenset({
    "format", "description", "references", "type", "name", "capacity", "leakspeed", "filter",
    "groupby", "distinct", "debug", "labels", "blackhole", "scope", "reprocess", "cache_size",
    "version", "data", "condition", "cancel_on", "overflow_filter", "duration",
    "bayesian_prior", "bayesian_threshold", "bayesian_conditions"})
BAYESIAN_KEYS = ("bayesian_prior", "bayesian_threshold", "bayesian_conditions")
BAYESIAN_CONDITION_KEYS = frozenset({"condition", "prob_given_evil", "prob_given_benign", "guillotine"})
SCOPE_KEYS = frozenset({"type", "expression"})


@dataclass(frozen=True, slots=True)
class Scope:
    """Which value an alert's source carries: ``Ip`` (``Meta.source_ip``), ``Range``
    (``Meta.SourceRange`` or the expression), or a custom type with an expression."""

    type: str = "Ip"
    expression: CompiledExpr | None = None


@dataclass(frozen=True, slots=True)
class BayesianCondition:
    """One entry of ``bayesian_conditions`` (probabilities are float32 values)."""

    condition: CompiledExpr = field(repr=False)
    prob_given_evil: float
    prob_given_benign: float
    guillotine: bool = False


@dataclass(frozen=True)
class Scenario:
    """A compiled scenario. Times are nanoseconds; ``rate`` is tokens per second."""

    name: str
    description: str
    type: str
    kind: BucketType = field(repr=False)
    filter: CompiledExpr = field(repr=False)
    groupby: CompiledExpr | None = field(repr=False)
    distinct: CompiledExpr | None = field(repr=False)
    capacity: int
    leakspeed_ns: int
    blackhole_ns: int
    cache_size: int
    labels: Mapping[str, Any]
    scope: Scope
    reprocess: bool
    version: str
    hash: str
    path: Path
    debug: bool = False
    references: tuple[str, ...] = ()
    id: str = ""  # unique within loaded content: the name, or "name#2"… for repeated names
    #: ``condition`` (env evt, queue, leaky): evaluated after each pour, true overflows
    condition: CompiledExpr | None = field(default=None, repr=False)
    #: ``cancel_on`` (env evt): evaluated when the event is routed; true kills the bucket
    cancel_on: CompiledExpr | None = field(default=None, repr=False)
    #: ``overflow_filter`` (env queue, signal, leaky): false discards the overflow
    overflow_filter: CompiledExpr | None = field(default=None, repr=False)
    #: counter buckets: the overflow comes ``duration`` after the first event
    duration_ns: int = 0
    #: bayesian buckets (float32 values; 0: not set)
    bayesian_prior: float = 0.0
    bayesian_threshold: float = 0.0
    bayesian_conditions: tuple[BayesianCondition, ...] = ()
    #: in simulation (``simulation.yaml``): its alerts are marked simulated
    simulated: bool = False

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", self.name)

    @property
    def rate(self) -> float:
        """Go ``rate.Every(leakspeed)``: tokens per second."""
        sec, nsec = divmod(self.leakspeed_ns, 1_000_000_000)
        return 1.0 / (float(sec) + nsec / 1e9)

    @property
    def leakspeed(self) -> str:
        """Leakspeed as Go prints it (``"10s"``)."""
        return format_duration(self.leakspeed_ns)

    @property
    def remediation(self) -> bool:
        """CrowdSec: the alert asks for remediation iff ``labels.remediation`` is ``true``."""
        return self.labels.get("remediation") is True

    @property
    def queue_size(self) -> int | None:
        """CrowdSec's queue size (the queue keeps one more event); None: unbounded
        (capacity -1 without ``cache_size``)."""
        if self.cache_size > 0 and (self.cache_size <= self.capacity or self.capacity == -1):
            return self.cache_size
        if self.capacity == -1:
            return None
        return self.capacity


def _expr(spec: Fields, key: str, functions: Mapping[str, Function],
          required: bool = False, names: tuple[str, ...] = ("evt",)) -> CompiledExpr | None:
    source = spec.str(key)
    if not source:
        if required:
            raise spec.error(key, "is required")
        return None
    try:
        return compile_expr(source, functions=functions, names=names)
    except ExprError as exc:
        raise spec.error(key, f"invalid expression: {exc}") from None


def _duration(spec: Fields, key: str) -> int:
    text = spec.str(key)
    if not text:
        return 0
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise spec.error(key, str(exc)) from None


def _probability(spec: Fields, key: str, reason: str, low_open: bool) -> float:
    """A float32 probability in [0, 1] (]0, 1] when ``low_open``); 0 when absent."""
    value = float32(spec.number(key))
    if spec.present(key) and not ((0.0 < value if low_open else 0.0 <= value) and value <= 1.0):
        raise spec.error(key, reason)
    return value


def _bayesian_conditions(spec: Fields, functions: Mapping[str, Function]) -> tuple[BayesianCondition, ...]:
    out = []
    for item in spec.maps("bayesian_conditions"):
        item.check(BAYESIAN_CONDITION_KEYS)
        condition = _expr(item, "condition", functions, required=True, names=("evt", "queue", "leaky"))
        probs = []
        for key in ("prob_given_evil", "prob_given_benign"):
            if not item.present(key):
                raise item.error(key, "is required")
            probs.append(_probability(item, key, "invalid probability: must be >= 0 and <= 1", False))
        out.append(BayesianCondition(condition, probs[0], probs[1], item.bool("guillotine")))  # type: ignore[arg-type]
    return tuple(out)


def _bayesian(spec: Fields, type_name: str, functions: Mapping[str, Function]) -> dict[str, Any]:
    """The ``bayesian_*`` fields of a :class:`Scenario`."""
    if type_name != "bayesian":
        for key in BAYESIAN_KEYS:
            if key in spec:
                raise spec.error(key, "is only for bayesian buckets")
        return {}
    return {"bayesian_prior": _probability(spec, "bayesian_prior", "invalid prior: must be > 0 and <= 1", True),
            "bayesian_threshold": _probability(spec, "bayesian_threshold",
                                               "invalid threshold: must be > 0 and <= 1", True),
            "bayesian_conditions": _bayesian_conditions(spec, functions)}


def compile_scenario(spec: Fields, file_hash: str, runtime: Runtime) -> Scenario:
    """Validate and compile one scenario document; its ``data:`` files go to ``runtime``."""
    spec.check(SCENARIO_KEYS)
    if spec.present("data"):
        runtime.load_data(spec.any("data"), spec.at("data"))
    functions = runtime.functions
    name = spec.str("name")
    if not name:
        raise spec.error("name", "is required")
    if not spec.str("description"):
        raise spec.error("description", "is required")
    type_name = spec.str("type")
    kind = BUCKET_TYPES.get(type_name)
    if kind is None:
        raise spec.error("type", f"unknown bucket type {type_name!r}")
    scope_spec = spec.map("scope")
    scope = Scope()
    if scope_spec is not None:
        scope_spec.check(SCOPE_KEYS)
        scope_type = scope_spec.str("type") or "Ip"
        expression = _expr(scope_spec, "expression", functions)
        if scope_type == "Ip" and expression is not None:
            raise scope_spec.error("expression", "is not allowed for the Ip scope")
        if scope_type not in ("Ip", "Range") and expression is None:
            raise scope_spec.error("expression", f"is required for the {scope_type} scope")
        scope = Scope(scope_type, expression)
    labels = spec.any("labels") or {}
    if not isinstance(labels, dict):
        raise spec.error("labels", "expected a mapping")
    scenario = Scenario(
        name=name,
        description=spec.str("description"),
        type=type_name,
        kind=kind,
        filter=_expr(spec, "filter", functions, required=True),  # type: ignore[arg-type]
        groupby=_expr(spec, "groupby", functions),
        distinct=_expr(spec, "distinct", functions),
        capacity=spec.int("capacity"),
        leakspeed_ns=_duration(spec, "leakspeed"),
        blackhole_ns=_duration(spec, "blackhole"),
        cache_size=spec.int("cache_size"),
        labels=labels,
        scope=scope,
        reprocess=spec.bool("reprocess"),
        version=spec.str("version") or "?",
        hash=file_hash,
        path=spec.path,
        debug=spec.bool("debug"),
        references=tuple(spec.strings("references")),
        condition=_expr(spec, "condition", functions, names=("evt", "queue", "leaky")),
        cancel_on=_expr(spec, "cancel_on", functions),
        overflow_filter=_expr(spec, "overflow_filter", functions, names=("evt", "queue", "signal", "leaky")),
        duration_ns=_duration(spec, "duration"),
        **_bayesian(spec, type_name, functions),
    )
    spec.str("format")
    problem = kind.validate(scenario)
    if isinstance(problem, tuple):
        raise spec.error(*problem)
    if problem:
        raise spec.error("", f"{type_name} bucket: {problem}")
    return scenario


def scenario_files(paths: Sequence[Path | str]) -> list[Path]:
    """Scenario files: the files given, and the YAML files below the directories given."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise ContentError(f"{path}: no such scenario file or directory")
    return files


def load_scenarios(paths: Sequence[Path | str], *, runtime: Runtime | None = None) -> list[Scenario]:
    """Compile every scenario of ``paths`` in order. Names may repeat (the hub has files
    with several documents of one name, which CrowdSec runs as separate buckets): each
    scenario gets a unique ``id``, its name or ``name#2``, ``name#3``… in load order."""
    runtime = runtime if runtime is not None else Runtime()
    scenarios: list[Scenario] = []
    counts: dict[str, int] = {}
    for file in scenario_files(paths):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        for doc in load_documents(file):
            scenario = compile_scenario(doc, digest, runtime)
            counts[scenario.name] = counts.get(scenario.name, 0) + 1
            if counts[scenario.name] > 1:
                scenario = replace(scenario, id=f"{scenario.name}#{counts[scenario.name]}")
            scenarios.append(scenario)
    return scenarios
