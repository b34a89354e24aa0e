"""What hub test asserts see: parser results and overflows, shaped like CrowdSec's dumps.

* Parser results (``parser-dump.yaml``): ``results[stage][node]`` → list of
  :class:`ParserResult` (``Idx``, ``Evt``, ``Success``), recorded by :class:`ParserCollector`
  for every node tried. ``results["success"]`` is always ``{"": []}``. Maps read a missing key
  as Go's zero value (an empty map, an empty list), as expr does on typed Go maps.
* Snapshots go through what the YAML round trip of the dump does (yaml.v3 Marshal then
  Unmarshal): a float in ``Unmarshaled`` that Go prints without exponent or fraction (``200``)
  comes back as an int, others stay floats, nested objects become plain maps.
* Scenario results (``bucket-dump.yaml``): a list of overflow :class:`Event` (``Type``
  OVFLW) whose ``Overflow`` is an :class:`engine.overflow.RuntimeAlert` with ``Sources``, ``Alert``
  (``models.Alert``: ``Events[i].GetMeta(k)``, ``GetScenario()``, ``GetEventsCount()``…),
  ``Whitelisted`` and ``Reprocess``; ordered by :func:`sort_overflows`.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from engine.event import Event
from engine.expr.values import format_float
from engine.gomap import GoMap
from engine.hubtest.gosort import go_sort

_INT_TEXT = re.compile(r"-?[0-9]+\Z")


# --- the YAML round trip -----------------------------------------------------------------

def yaml_float(value: float) -> int | float:
    """A float64 after yaml.v3 Marshal/Unmarshal: Go prints it with ``strconv 'g'``
    (shortest); a plain integer text then decodes as an int."""
    if math.isnan(value) or math.isinf(value):
        return value
    text = format_float(value)
    if _INT_TEXT.match(text):
        return int(text)
    return value


def yaml_round_trip(value: Any) -> Any:
    """``value`` as a ``map[string]any`` field reads back after the dump's YAML round trip."""
    t = type(value)
    if t is float:
        return yaml_float(value)
    if t is int:  # Go decodes every JSON number as float64
        try:
            return yaml_float(float(value))
        except OverflowError:
            return value
    if t is str or t is bool or value is None:
        return value
    if isinstance(value, Mapping):
        return {(k if isinstance(k, str) else str(k)): yaml_round_trip(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [yaml_round_trip(v) for v in value]
    return value


def snapshot(evt: Event) -> Event:
    """A deep copy of ``evt`` as the parser dump reloads it (``Unmarshaled`` through YAML)."""
    copy = evt.snapshot()
    if copy.Unmarshaled:
        copy.Unmarshaled = yaml_round_trip(copy.Unmarshaled)
    return copy


# --- parser results ----------------------------------------------------------------------

class ParserResult:
    """``dumps.ParserResult``."""

    __slots__ = ("Idx", "Evt", "Success")

    def __init__(self, Idx: int, Evt: Event, Success: bool) -> None:  # noqa: N803
        self.Idx = Idx
        self.Evt = Evt
        self.Success = Success

    def __repr__(self) -> str:
        return f"ParserResult(Idx={self.Idx}, Success={self.Success})"


def _node_map() -> GoMap:
    return GoMap(zero=list)


class ParserCollector:
    """Records a snapshot after every node tried (the observer of ``ParserChain.parse``)."""

    def __init__(self) -> None:
        self.results: GoMap = GoMap(zero=_node_map)
        self.results["success"] = GoMap({"": []}, zero=list)
        self.index = 0  # number of the event being parsed (``Idx``)

    def observe(self, stage: str, node: str, evt: Event, success: bool) -> None:
        nodes = dict.get(self.results, stage)
        if nodes is None:
            nodes = self.results[stage] = _node_map()
        entries = dict.get(nodes, node)
        if entries is None:
            entries = nodes[node] = []
        entries.append(ParserResult(self.index, snapshot(evt), bool(success)))


def overflow_sort_key(evt: Event) -> str:
    ovf = evt.Overflow
    scenario = ovf.Alert.GetScenario() if ovf is not None and ovf.Alert is not None else ""
    return scenario + "@".join(ovf.GetSources() if ovf is not None else ())


def sort_overflows(events: list[Event]) -> list[Event]:
    """cscli ``LoadScenarioDump``: ``sort.Sort`` descending by scenario + sources, from
    emission order (an insertion sort, so stable, up to 12 overflows; pdqsort above)."""
    keyed = [(overflow_sort_key(e), e) for e in events]
    go_sort(keyed, lambda x, y: x[0] > y[0])
    return [e for _, e in keyed]
