"""What loaded content needs at run time besides the event: one :class:`Runtime` per loaded
content (a Content, a hubtest test), never global state.

It carries the injected outside world (the clock for ``now``-style helpers, the reverse-DNS
resolver, the host name, where data and GeoIP files live) and the state content builds while it
loads or runs (data files named by ``data:`` sections, the stash caches). Expressions are
compiled with :attr:`Runtime.functions`: expr builtins plus every CrowdSec helper, those that
need state bound to this runtime (see :mod:`engine.helpers`). Two runtimes share nothing.

Contract with the parser and bucket engines
-------------------------------------------
* ``data:`` sections: call :meth:`Runtime.load_data` with the section's entries when a parser
  node or scenario is loaded, **before** its expressions run (compiling earlier is fine: the
  data helpers are looked up at call time). Entries without ``type`` are skipped, as CrowdSec
  only downloads them.
* Stash sections: ``runtime.stash.configure(name, ttl_ns=, size=, strategy=)`` once per
  ``stash:`` entry at load time (CrowdSec: ``size`` 0/missing means 100, ``strategy`` missing
  means LRU, ``ttl`` is required). Per event, ``runtime.stash.set(name, key, value,
  now_ns=..., ttl_ns=<that section's ttl>)`` — passing the section's own TTL matters when two
  sections share a name, as CrowdSec stores every entry with the TTL of the section writing it.
* **Event time.** The engine never reads the clock; the stash expires entries on event time.
  Before evaluating anything for an event (filters, statics, stash, whitelists, scenario
  filters), the caller sets ``runtime.event_time_ns`` to that event's time; ``GetFromStash`` and
  ``SetInStash`` called from expressions read it (and raise an expr runtime error while it is
  None). Use the acquisition time ``evt.Line.Time.unix_ns``: it stands for CrowdSec's wall clock
  at processing time and, unlike ``evt.Time``, does not jump when ``dateparse`` rewrites the
  event date. Pass the same value as ``now_ns`` to ``Stash.set``/``Stash.get`` from stash
  sections. Events are processed one at a time per runtime, so a plain attribute is enough.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.expr import Function
from engine.helpers import runtime_functions
from engine.helpers.datafiles import DataFileError, DataFiles
from engine.helpers.stash import Stash
from engine.spec import ContentError

#: reverse DNS: ip → hostname, or None when there is none (must bound its own time)
Resolver = Callable[[str], "str | None"]

__all__ = ["DataFiles", "Resolver", "Runtime", "RuntimeOptions", "Stash"]


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """The outside world, injected by whoever loads content (pipeline, hubtest, tests)."""

    #: where the files named by ``data:`` sections (``dest_file``) and the GeoLite2 mmdb live
    data_dir: Path | None = None
    #: reverse DNS lookups; None disables the ``reverse_dns`` enricher (no network in tests)
    resolver: Resolver | None = None
    #: epoch seconds "now" for helpers that need the current time (hubtest: CROWDSTREAM_NOW);
    #: None makes such helpers (``TimeNow``) an error — the engine never reads the clock itself
    now: Callable[[], float] | None = None
    #: what the ``Hostname()`` helper returns; None makes it an error
    hostname: str | None = None


class Runtime:
    """The run-time state of one loaded content; see the module docstring for the contract."""

    __slots__ = ("options", "data", "stash", "functions", "event_time_ns")

    options: RuntimeOptions
    #: data files loaded by ``data:`` sections
    data: DataFiles
    #: CrowdSec stash caches
    stash: Stash
    #: expr functions visible to this content's expressions
    functions: Mapping[str, Function]
    #: time (epoch ns) of the event being processed, set by the caller before evaluating
    #: expressions for it; read by GetFromStash/SetInStash
    event_time_ns: int | None

    def __init__(self, options: RuntimeOptions | None = None) -> None:
        self.options = options if options is not None else RuntimeOptions()
        self.data = DataFiles()
        self.stash = Stash()
        self.event_time_ns = None
        self.functions = runtime_functions(self)

    def load_data(self, entries: list[dict[str, Any]], where: str) -> None:
        """Load a ``data:`` section: ``[{source_url, dest_file, type}]`` read from
        ``options.data_dir / dest_file``. Raises :class:`ContentError` (``where: data: …``)
        for a malformed entry, a missing directory or file, or a file that does not load."""
        if entries is None:
            return
        if not isinstance(entries, list):
            raise ContentError(f"{where}: data: must be a list")
        for entry in entries:
            if not isinstance(entry, dict):
                raise ContentError(f"{where}: data: each entry must be a mapping")
            dest = entry.get("dest_file")
            kind = entry.get("type") or ""
            if not isinstance(dest, str) or not dest:
                raise ContentError(f"{where}: data: an entry has no dest_file")
            if not isinstance(kind, str):
                raise ContentError(f"{where}: data: {dest}: type must be a string")
            if not kind:
                continue  # CrowdSec only downloads files without a type
            if self.data.is_loaded(dest, kind):
                continue
            if self.options.data_dir is None:
                raise ContentError(f"{where}: data: {dest}: no data directory configured")
            path = Path(self.options.data_dir) / dest.lstrip("/")  # filepath.Join semantics
            if not path.is_file():
                raise ContentError(f"{where}: data: {dest}: file not found in {self.options.data_dir}")
            try:
                self.data.load(path, dest, kind)
            except DataFileError as exc:
                raise ContentError(f"{where}: data: {dest}: {exc}") from None

    def __repr__(self) -> str:
        return f"Runtime({self.options!r})"
