"""What loaded content needs at run time besides the event: one :class:`Runtime` per loaded
content (a Content, a hubtest test), never global state.

It carries the injected outside world (the clock for ``now``-style helpers, the reverse-DNS
resolver, where data and GeoIP files live) and the state content builds while it loads or
runs (data files named by ``data:`` sections, the stash caches). Expressions are compiled
with :attr:`Runtime.functions`: expr builtins plus CrowdSec helpers bound to this runtime.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.expr import DEFAULT_FUNCTIONS, Function

#: reverse DNS: ip → hostname, or None when there is none (must bound its own time)
Resolver = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """The outside world, injected by whoever loads content (pipeline, hubtest, tests)."""

    #: where the files named by ``data:`` sections (``dest_file``) and the GeoLite2 mmdb live
    data_dir: Path | None = None
    #: reverse DNS lookups; None disables the ``reverse_dns`` enricher (no network in tests)
    resolver: Resolver | None = None
    #: epoch seconds "now" for helpers that need the current time (hubtest: CROWDSTREAM_NOW);
    #: None makes such helpers an error — the engine never reads the clock itself
    now: Callable[[], float] | None = None


@dataclass(slots=True)
class Runtime:
    options: RuntimeOptions = field(default_factory=RuntimeOptions)
    #: expr functions visible to this content's expressions
    functions: Mapping[str, Function] = field(default_factory=lambda: DEFAULT_FUNCTIONS)
