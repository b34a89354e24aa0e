"""CrowdSec profiles (``profiles.yaml``): which decisions an alert without decisions gets.

A profiles file holds YAML documents, each one profile::

    name: default_ip_remediation
    filters:                       # expr expressions on ``Alert``, OR-ed
      - Alert.Remediation == true && Alert.GetScope() == "Ip"
    decisions:                     # what to create when a filter matches
      - type: ban
        duration: 4h               # default 4h; scope defaults to the alert source's scope
    duration_expr: ...             # optional: expression giving the duration (e.g. "8h")
    on_success: break              # stop at the first matching profile (or continue)
    on_failure: continue           # what to do when no filter matches (or break)
    on_error: ...                  # filter failed to run: apply|continue|break|ignore

Expressions have CrowdSec's helpers, with the database ones (``GetDecisionsCount``…,
:mod:`lapi.decision_helpers`) when the LAPI ingests.

``profiles.yaml.local`` beside the file, when present, is read first (CrowdSec prepends it).

Semantics follow the LAPI's ``CreateAlert``: profiles are tried in order; the first matching
profile that produces decisions gives the alert its decisions (a later matching profile only
matters for notifications, which are not implemented yet); ``on_success: break`` stops the
chain. Two CrowdSec quirks are not copied: a profile matched by several filters yields its
decisions once (not once per filter), and ``on_failure: break``/``on_error: break`` really stop
the chain as documented.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.models import Alert
from lapi.decision_helpers import NAMES as HELPER_NAMES
from lapi.errors import ProfileError
from lapi.gotime import TimeFormatError, parse_duration_ns

log = logging.getLogger("crowdstream.lapi.profiles")

Compiled = Callable[[dict[str, Any]], Any]
Compiler = Callable[[str], Compiled]

DEFAULT_DURATION = "4h"

_PROFILE_KEYS = {"name", "debug", "filters", "decisions", "duration_expr", "on_success",
                 "on_failure", "on_error", "notifications"}
_DECISION_KEYS = {"type", "duration", "scope", "origin", "simulated", "value", "scenario",
                  "until", "id", "uuid"}
_ON_SUCCESS = {"", "break", "continue"}
_ON_FAILURE = {"", "break", "continue", "apply"}
_ON_ERROR = {"", "apply", "continue", "break", "ignore"}


def _default_compiler() -> Compiler:
    """expr with CrowdSec's stateless helpers; ``Alert`` and the database helpers
    (:mod:`lapi.decision_helpers`) come with the environment of each evaluation."""
    from engine.expr import DEFAULT_FUNCTIONS, compile_expr, function_set
    from engine.helpers import STATELESS_HELPERS

    functions = function_set(DEFAULT_FUNCTIONS, STATELESS_HELPERS)
    names = frozenset(("Alert", *HELPER_NAMES))
    return functools.partial(compile_expr, functions=functions, names=names)


@dataclass(frozen=True, slots=True)
class ProfileDecision:
    """One entry of a profile's ``decisions``."""

    type: str
    duration: str | None = None
    scope: str | None = None
    origin: str | None = None
    simulated: bool = False


@dataclass(slots=True)
class Profile:
    name: str
    filters: list[str]
    decisions: list[ProfileDecision]
    duration_expr: str | None = None
    on_success: str = ""
    on_failure: str = ""
    on_error: str = ""
    notifications: list[str] = field(default_factory=list)
    debug: bool = False
    compiled_filters: list[Compiled] = field(default_factory=list, repr=False)
    compiled_duration: Compiled | None = field(default=None, repr=False)

    def matches(self, env: dict[str, Any]) -> bool:
        """Whether any filter is true; ProfileError if one fails or is not a boolean."""
        for source, program in zip(self.filters, self.compiled_filters, strict=True):
            try:
                out = program(env)
            except Exception as exc:  # noqa: BLE001 - any expression failure
                raise ProfileError(
                    f"profile {self.name!r}: filter {source!r} failed: {exc}") from exc
            if not isinstance(out, bool):
                raise ProfileError(
                    f"profile {self.name!r}: filter {source!r} gave {out!r}, not a boolean")
            if self.debug:
                log.info("profile %r: filter %r -> %s", self.name, source, out)
            if out:
                return True
        return False

    def _duration(self, env: dict[str, Any], ref: ProfileDecision) -> str:
        fallback = ref.duration or DEFAULT_DURATION
        if self.compiled_duration is None:
            return fallback
        try:
            out = self.compiled_duration(env)
        except Exception as exc:  # noqa: BLE001
            log.warning("profile %r: duration_expr failed: %s", self.name, exc)
            return fallback
        text = out if isinstance(out, str) else str(out)
        try:
            parse_duration_ns(text)
        except TimeFormatError:
            log.warning("profile %r: duration_expr gave %r, not a duration", self.name, out)
            return fallback
        return text

    def make_decisions(self, alert: Mapping[str, Any], env: dict[str, Any]) -> list[dict[str, Any]]:
        """The decisions (API JSON shape) this profile gives ``alert``."""
        source = alert.get("source") if isinstance(alert.get("source"), Mapping) else {}
        out = []
        for ref in self.decisions:
            origin = "crowdsec" if not ref.origin else f"crowdsec/{ref.origin}"
            out.append({
                "type": ref.type,
                "duration": self._duration(env, ref),
                "scope": ref.scope or str(source.get("scope") or ""),
                "value": str(source.get("value") or ""),
                "origin": origin,
                "scenario": str(alert.get("scenario") or ""),
                "simulated": bool(ref.simulated or alert.get("simulated") is True),
            })
        return out


@dataclass(slots=True)
class Profiles:
    """The ordered profile chain."""

    profiles: list[Profile]
    source: str = "<profiles>"

    def decide(self, alert: Mapping[str, Any],
               helpers: Mapping[str, Callable[..., Any]] | None = None) -> list[dict[str, Any]]:
        """Decisions for an alert that carries none; ProfileError when a filter fails on a
        profile without an ``on_error`` policy. ``helpers``: the database helpers
        (:meth:`lapi.decision_helpers.DecisionHelpers.functions`); without them a call to
        one fails the filter."""
        env = {"Alert": Alert(alert), **(helpers or {})}
        decisions: list[dict[str, Any]] = []
        for profile in self.profiles:
            force_break = False
            try:
                matched = profile.matches(env)
            except ProfileError as exc:
                policy = profile.on_error
                if policy == "apply":
                    log.warning("%s; applying the profile anyway", exc)
                    matched = True
                elif policy == "continue":
                    log.warning("%s; skipping the profile", exc)
                    matched = False
                elif policy == "break":
                    log.warning("%s; stopping", exc)
                    matched, force_break = False, True
                elif policy == "ignore":
                    matched = False
                else:
                    raise
            if force_break:
                break
            if not matched:
                if profile.on_failure == "break":
                    break
                continue
            if not decisions:
                decisions = profile.make_decisions(alert, env)
            if profile.on_success == "break":
                break
        return decisions

    def __len__(self) -> int:
        return len(self.profiles)


def _scalar_text(value: Any) -> str | None:
    """A YAML scalar as the text Go's yaml decoder would put in a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _as_str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    texts = [_scalar_text(v) for v in value] if isinstance(value, list) else [None]
    if any(t is None for t in texts):
        raise ProfileError(f"{where}: expected a list of strings")
    return texts  # type: ignore[return-value]


def _parse_decision(data: Any, where: str, has_duration_expr: bool) -> ProfileDecision:
    if not isinstance(data, Mapping):
        raise ProfileError(f"{where}: expected a mapping")
    unknown = set(data) - _DECISION_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise ProfileError(f"{where}: 'type' is required")
    duration = data.get("duration")
    if duration is not None:
        if not isinstance(duration, str):
            raise ProfileError(f"{where}: 'duration' must be a string like 4h")
        if not has_duration_expr:
            try:
                parse_duration_ns(duration)
            except TimeFormatError as exc:
                raise ProfileError(f"{where}: {exc}") from None
    for key in ("scope", "origin"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            raise ProfileError(f"{where}: {key!r} must be a string")
    simulated = data.get("simulated", False)
    if not isinstance(simulated, bool):
        raise ProfileError(f"{where}: 'simulated' must be true or false")
    return ProfileDecision(kind, duration, data.get("scope") or None, data.get("origin") or None,
                           simulated)


def _compile(compiler: Compiler, src: str, where: str) -> Compiled:
    try:
        return compiler(src)
    except Exception as exc:  # noqa: BLE001 - the engine's compile errors
        raise ProfileError(f"{where}: cannot compile {src!r}: {exc}") from None


def _parse_profile(data: Any, where: str, compiler: Compiler) -> Profile:
    if not isinstance(data, Mapping):
        raise ProfileError(f"{where}: expected a mapping")
    unknown = set(data) - _PROFILE_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    name = data.get("name")
    name = str(name) if name is not None else ""
    where = f"{where} ({name or 'unnamed'})"
    filters = _as_str_list(data.get("filters"), f"{where}: filters")
    duration_expr = data.get("duration_expr") or None
    if duration_expr is not None and not isinstance(duration_expr, str):
        raise ProfileError(f"{where}: duration_expr must be a string")
    raw_decisions = data.get("decisions") or []
    if not isinstance(raw_decisions, list):
        raise ProfileError(f"{where}: decisions: expected a list")
    decisions = [
        _parse_decision(d, f"{where}: decisions[{i}]", duration_expr is not None)
        for i, d in enumerate(raw_decisions)
    ]
    policies = {}
    for key, allowed in (("on_success", _ON_SUCCESS), ("on_failure", _ON_FAILURE),
                         ("on_error", _ON_ERROR)):
        value = data.get(key) or ""
        if value not in allowed:
            raise ProfileError(f"{where}: invalid {key} {value!r} (one of "
                               f"{', '.join(sorted(a for a in allowed if a))})")
        policies[key] = value
    debug = data.get("debug", False)
    profile = Profile(
        name=name,
        filters=filters,
        decisions=decisions,
        duration_expr=duration_expr,
        notifications=_as_str_list(data.get("notifications"), f"{where}: notifications"),
        debug=debug is True,
        **policies,
    )
    profile.compiled_filters = [
        _compile(compiler, f, f"{where}: filters[{i}]") for i, f in enumerate(filters)
    ]
    if duration_expr is not None:
        profile.compiled_duration = _compile(compiler, duration_expr, f"{where}: duration_expr")
    return profile


def parse_profiles(text: str, source: str = "<profiles>", *,
                   compiler: Compiler | None = None) -> Profiles:
    """Profiles from YAML text (one profile per document)."""
    compiler = compiler or _default_compiler()
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise ProfileError(f"{source}: invalid YAML{at}: {problem}") from None
    profiles = [
        _parse_profile(doc, f"{source}: profile #{i + 1}", compiler)
        for i, doc in enumerate(documents)
        if doc is not None
    ]
    if not profiles:
        raise ProfileError(f"{source}: no profile defined")
    return Profiles(profiles, source)


def load_profiles(path: Path | str, *, compiler: Compiler | None = None) -> Profiles:
    """Load ``path`` (with ``path.local`` read first when it exists)."""
    path = Path(path)
    texts = []
    for candidate in (path.with_name(path.name + ".local"), path):
        if candidate is path or candidate.exists():
            try:
                texts.append(candidate.read_text())
            except OSError as exc:
                raise ProfileError(f"{candidate}: cannot read: {exc.strerror or exc}") from None
    text = "\n---\n".join(t.rstrip("\n") for t in texts)
    return parse_profiles(text, str(path), compiler=compiler)

