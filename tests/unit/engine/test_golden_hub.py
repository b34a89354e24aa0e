"""Golden checks against CrowdSec's own expectations (skipped when ../shared is absent).

* hub tests (``crowdsec-hub/tests/<name>``): the hub's sshd parsers and ssh scenarios run
  unchanged over the test's log; the lines of ``parser.assert`` / ``scenario.assert`` that
  use the simple forms below are checked against our parser snapshots and overflows. A line
  in any other form fails the test, so nothing is silently left unchecked.
* CrowdSec engine fixtures (``crowdsec-fixtures/leakybucket``): every bucket case (each
  folder with a ``test.json``; ``hub`` holds only an index), poured like upstream's runner
  (``bucketstore_test.go``): overflows of ``reprocess`` scenarios are poured again, through
  the hubtest runner's overflow handling.
"""
from __future__ import annotations

import calendar
import json
import posixpath
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import bucket
from engine.alert import make_alerts
from engine.content import Content
from engine.event import Event
from engine.expr import compile_expr
from engine.gotime import parse_rfc3339
from engine.hubtest.results import ParserCollector
from engine.hubtest.runner import _Buckets
from engine.overflow import BucketOverflow
from engine.parser import ParserChain
from engine.runtime import Runtime, RuntimeOptions
from engine.scenario import load_scenarios
from engine.spec import ContentError
from tests.support.shared import HUB as SHARED_HUB, FIXTURES as SHARED_FIXTURES

HUB = SHARED_HUB
FIXTURES = SHARED_FIXTURES
NOW = float(calendar.timegm((2026, 8, 22, 18, 3, 54)))  # CROWDSTREAM_NOW of the hub snapshot

pytestmark = pytest.mark.skipif(not HUB.exists(), reason="the shared CrowdSec hub is not available")

S = r'"((?:[^"\\]|\\.)*)"'
N = r"(\d+)"
NODE = rf"results\[{S}\]\[{S}\]\[{N}\]"
OVF = rf"results\[{N}\]\.Overflow"
FORMS: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(rx + r"\s*$")) for name, rx in (
    ("len", rf"len\(results\) == {N}"),
    ("node_len", rf"len\(results\[{S}\]\[{S}\]\) == {N}"),
    ("success", rf"{NODE}\.Success == (true|false)"),
    ("whitelisted", rf"{NODE}\.Evt\.Whitelisted == (true|false)"),
    ("field", rf"(basename\()?{NODE}\.Evt\.(Parsed|Meta|Enriched)\[{S}\]\)? == {S}"),
    ("in_sources", rf"{S} in {OVF}\.GetSources\(\)"),
    ("event_meta", rf"(basename\()?{OVF}\.Alert\.Events\[{N}\]\.GetMeta\({S}\)\)? == {S}"),
    ("count", rf"{OVF}\.Alert\.GetEventsCount\(\) == {N}"),
    ("scenario", rf"{OVF}\.Alert\.GetScenario\(\) == {S}"),
    ("remediation", rf"{OVF}\.Alert\.Remediation == (true|false)"),
    ("source", rf"{OVF}\.Sources\[{S}\]\.(GetScope\(\)|GetValue\(\)|IP|Range) == {S}"),
)]


def unquote(raw: str) -> str:
    """Go string escapes, as expr's lexer reads them."""
    return compile_expr(f'"{raw}"').constant_value  # type: ignore[no-any-return]


def resolve(kind: str, ref: str, test_dir: Path) -> Path:
    if ref.startswith(("./", "/")) or ref.count("/") > 1:
        for base in (HUB / "hub", test_dir):
            path = base / ref.lstrip("./").lstrip("/")
            if path.is_file():
                return path
        raise FileNotFoundError(ref)
    pattern = f"{kind}/**/{ref}.y*ml" if kind == "parsers" else f"{kind}/{ref}.y*ml"
    found = sorted((HUB / "hub").glob(pattern))
    if not found:
        raise FileNotFoundError(ref)
    return found[0]


def run_hub_test(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    test_dir = HUB / "tests" / name
    cfg = yaml.safe_load((test_dir / "config.yaml").read_text())
    parsers = [resolve("parsers", p, test_dir) for p in cfg.get("parsers") or [] if p]
    scenarios = [resolve("scenarios", s, test_dir) for s in cfg.get("scenarios") or [] if s]
    try:
        content = Content.load(parsers, scenarios, HUB / "patterns")
    except ContentError as exc:
        if "not supported yet" in str(exc):
            pytest.skip(f"needs a later feature: {exc}")
        raise
    results: dict[str, Any] = {"success": {"": []}}

    def observe(stage: str, node: str, evt: Event, ok: bool) -> None:
        snapshot = {"Parsed": dict(evt.Parsed), "Meta": dict(evt.Meta), "Enriched": dict(evt.Enriched),
                    "Whitelisted": evt.Whitelisted}
        results.setdefault(stage, {}).setdefault(node, []).append((ok, snapshot))

    labels = {**(cfg.get("labels") or {}), "type": cfg["log_type"]}
    log = test_dir / cfg["log_file"]
    states: dict[tuple[str, str], dict[str, Any]] = {}
    overflows: list[dict[str, Any]] = []
    for raw in log.read_text().splitlines():
        if raw == "":
            continue
        evt = Event.from_line(raw, source=str(log), module="file", labels=labels, ingest_ts=NOW)
        if content.parsers.parse(evt, observe) is None or evt.Whitelisted:
            continue
        ts, event = content.event_time(evt), content.pour_event(evt)
        for key, names in content.route(evt):
            for scenario_name in names:
                scenario = content.scenarios[scenario_name]
                state, overflow = bucket.pour(scenario, states.get((key, scenario_name)), ts, event)
                states[(key, scenario_name)] = state  # type: ignore[assignment]
                if overflow is not None:
                    alerts = make_alerts(scenario, key, overflow)
                    if alerts:
                        overflows.append({"alert": alerts[0], "sources": {a["source"]["value"]: a["source"] for a in alerts}})
    overflows.sort(key=lambda o: o["alert"]["scenario"] + "@".join(o["sources"]), reverse=True)
    return results, overflows


def check(line: str, parsers: dict[str, Any], overflows: list[dict[str, Any]], scenario_file: bool) -> bool:
    for form, rx in FORMS:
        m = rx.match(line)
        if not m:
            continue
        g = m.groups()
        if form == "len":
            return (len(overflows) if scenario_file else len(parsers)) == int(g[0])
        if form == "node_len":
            return len(parsers.get(unquote(g[0]), {}).get(unquote(g[1]), [])) == int(g[2])
        if form in ("success", "whitelisted"):
            ok, snap = parsers[unquote(g[0])][unquote(g[1])][int(g[2])]
            return (ok if form == "success" else snap["Whitelisted"]) == (g[3] == "true")
        if form == "field":
            _, snap = parsers[unquote(g[1])][unquote(g[2])][int(g[3])]
            key = unquote(g[5])
            value = snap[g[4]].get(key, "")
            if g[0] or key == "datasource_path":
                value = posixpath.basename(value)
            return value == unquote(g[6])
        if form == "in_sources":
            return unquote(g[0]) in overflows[int(g[1])]["sources"]
        if form == "event_meta":
            meta = {m["key"]: m["value"] for m in overflows[int(g[1])]["alert"]["events"][int(g[2])]["meta"]}
            key = unquote(g[3])
            value = meta.get(key, "")
            if g[0] or key == "datasource_path":
                value = posixpath.basename(value)
            return value == unquote(g[4])
        alert = overflows[int(g[0])]["alert"]
        if form == "count":
            return alert["events_count"] == int(g[1])
        if form == "scenario":
            return alert["scenario"] == unquote(g[1])
        if form == "remediation":
            return alert["remediation"] == (g[1] == "true")
        source = overflows[int(g[0])]["sources"][unquote(g[1])]
        field = {"GetScope()": "scope", "GetValue()": "value", "IP": "ip", "Range": "range"}[g[2]]
        return source.get(field, "") == unquote(g[3])
    raise AssertionError(f"assert form not handled by this golden runner: {line}")


@pytest.mark.parametrize("name", ["ssh-bf", "opnsense-sshd", "sshd_banner_exchange", "ssh-slow-bf"])
def test_hub_ssh_tests(name: str) -> None:
    test_dir = HUB / "tests" / name
    if not test_dir.is_dir():
        pytest.skip(f"hub test {name} is not in the snapshot")
    cfg = yaml.safe_load((test_dir / "config.yaml").read_text())
    parsers, overflows = run_hub_test(name)
    checked = 0
    for file_name, evaluated in (("parser.assert", not cfg.get("ignore_parsers")),
                                 ("scenario.assert", any(cfg.get("scenarios") or []))):
        path = test_dir / file_name
        if not evaluated or not path.exists():
            continue
        lines = [ln.rstrip("\r") for ln in path.read_text().split("\n") if ln.rstrip("\r") != ""]
        failed = [ln for ln in lines if not check(ln, parsers, overflows, file_name == "scenario.assert")]
        assert failed == [], f"{name}/{file_name}: {len(failed)} of {len(lines)} asserts fail, first: {failed[:3]}"
        checked += len(lines)
    assert checked > 0


def test_hub_ssh_bf_overflows_exactly() -> None:
    _, overflows = run_hub_test("ssh-bf")
    assert [(o["alert"]["scenario"], o["alert"]["events_count"], o["alert"]["start_at"], o["alert"]["stop_at"])
            for o in overflows] == [
        ("crowdsecurity/ssh-bf_user-enum", 6, "2026-02-12T14:10:21Z", "2026-02-12T14:10:24Z"),
        ("crowdsecurity/ssh-bf", 6, "2026-02-12T14:10:21Z", "2026-02-12T14:10:24Z"),
    ]
    assert overflows[1]["alert"]["message"] == ("Ip 35.188.49.176 performed 'crowdsecurity/ssh-bf' "
                                                "(6 events over 3s) at 2026-02-12 14:10:24 +0000 UTC")


# --- CrowdSec's bucket fixtures -------------------------------------------------------------

SETTLE_SECONDS = 3.0  # bucketstore_test.go: sleep 1s, then polls until two empty 1s polls
BUCKET_CASES = sorted(p.name for p in (FIXTURES / "leakybucket").iterdir()
                      if (p / "test.json").exists()) if (FIXTURES / "leakybucket").exists() else []


class _RecordingBuckets(_Buckets):
    """The hubtest runner's pouring (reprocess included), keeping every overflow's alerts."""

    def __init__(self, content: Content, collector: ParserCollector) -> None:
        super().__init__(content, collector)
        self.alerts: list[dict[str, Any]] = []

    def _overflow(self, overflow: BucketOverflow) -> None:
        self.alerts.extend(overflow.alerts)
        super()._overflow(overflow)


def test_bucket_fixture_cases_are_all_found() -> None:
    if not BUCKET_CASES:
        pytest.skip("CrowdSec fixtures are not available")
    folders = sorted(p.name for p in (FIXTURES / "leakybucket").iterdir() if p.is_dir())
    assert [f for f in folders if f not in BUCKET_CASES] == ["hub"]  # an index, not a case
    assert len(BUCKET_CASES) == 21


@pytest.mark.skipif(not BUCKET_CASES, reason="CrowdSec fixtures are not available")
@pytest.mark.parametrize("case", BUCKET_CASES)
def test_crowdsec_bucket_fixtures(case: str) -> None:
    folder = FIXTURES / "leakybucket" / case
    test = json.loads((folder / "test.json").read_text())
    listing = (folder / "scenarios.yaml").read_text().replace("{{.TestDirectory}}", str(folder))
    files = [Path(f["filename"]) for f in yaml.safe_load(listing)]
    runtime = Runtime(RuntimeOptions(data_dir=FIXTURES / "leakybucket"))
    content = Content(ParserChain([]), load_scenarios(files, runtime=runtime), runtime)
    buckets = _RecordingBuckets(content, ParserCollector())
    latest = 0.0
    for line in test["lines"]:
        latest = max(latest, parse_rfc3339(line["MarshaledTime"]).timestamp())
        buckets.pour(Event.from_dict(line))
    # upstream's runner waits about 3s (real time) for results after the last pour: counter
    # timers that fire by then overflow; here event time advances by as much
    for key, key_states in list(buckets.states.items()):
        for overflow in content.expire(key, latest + SETTLE_SECONDS, key_states):
            buckets._overflow(overflow)
    got = [(alert["scenario"], alert["events_count"], json.dumps(alert["source"], sort_keys=True))
           for alert in buckets.alerts]
    expected = []
    for result in test["results"] or []:  # null: no overflow expected
        alert = result.get("Alert") or {}
        if not alert.get("Alert"):
            continue  # cleanup signals (underflow, blackholed overflow)
        sources = alert.get("sources", alert.get("Sources"))  # Go's JSON keys are case-insensitive
        for src in sources.values():
            expected.append((alert["Alert"]["scenario"], alert["Alert"]["events_count"], json.dumps(src, sort_keys=True)))
    assert sorted(got) == sorted(expected)


# CrowdSec's parser fixtures (crowdsec-fixtures/parser) run in test_golden_parser.py, with a runtime
# (GeoLite2 test databases, data files, stash, fake resolver).
