"""CrowdSec's own parser fixtures (``crowdsec-fixtures/parser``), run the way upstream's
``pkg/parser/parsing_test.go`` runs them.

Each case loads its ``parsers.yaml`` stage files with the hub's grok patterns and a runtime
whose data dir is the fixtures folder (GeoLite2 test databases, ``sample_strings.txt``) and
whose resolver is a fake (no network). Every input event is parsed; the results are matched
to the expected events in any order, as ``testSubSet`` does: ``Stage`` when given,
``Process``, ``Whitelisted``, and every expected key of ``Parsed`` / ``Meta`` / ``Enriched``
(values compared as the YAML text, like Go's ``map[string]string``). A case that needs
something this engine does not have yet is skipped, naming it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.event import Event, Line
from engine.expr.values import StrMap
from engine.parser import load_parsers
from engine.runtime import Runtime, RuntimeOptions
from engine.spec import ContentError
from tests.support.shared import HUB as SHARED_HUB, FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "parser"
PATTERNS = SHARED_HUB / "patterns"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "test.yaml").exists()) if FIXTURES.exists() else []
DNS = {"1.1.1.1": "one.one.one.one."}

pytestmark = pytest.mark.skipif(not CASES or not PATTERNS.exists(),
                                reason="CrowdSec fixtures or hub patterns are not available")


def fixture_runtime() -> Runtime:
    return Runtime(options=RuntimeOptions(data_dir=FIXTURES, resolver=DNS.get))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def input_event(data: dict[str, Any]) -> Event:
    """A test line as Go's yaml.v2 decodes it into ``pipeline.Event`` (zero values elsewhere:
    ``ExpectMode`` LIVE, ``Process`` false)."""
    evt = Event()
    evt.ExpectMode = 0
    evt.Process = False
    line = data.get("Line") or {}
    evt.Line = Line(_text(line.get("Raw")), _text(line.get("Src")),
                    Labels={k: _text(v) for k, v in (line.get("Labels") or {}).items()})
    for name in ("Parsed", "Meta", "Enriched"):
        setattr(evt, name, StrMap({k: _text(v) for k, v in (data.get(name) or {}).items()}))
    for name in ("Stage", "StrTime", "StrTimeFormat"):
        setattr(evt, name, _text(data.get(name)))
    return evt


def matches(expected: dict[str, Any], evt: Event) -> bool:
    """Upstream ``matchEvent``."""
    if expected.get("Stage") and expected["Stage"] != evt.Stage:
        return False
    if (expected.get("Process") == "true") != evt.Process:
        return False
    if (expected.get("Whitelisted") == "true") != evt.Whitelisted:
        return False
    for name in ("Parsed", "Meta", "Enriched"):
        got = getattr(evt, name)
        for key, value in (expected.get(name) or {}).items():
            if key not in got or got[key] != _text(value):
                return False
    return True


def run_case(case: str) -> list[tuple[list[Event], list[dict[str, Any]]]]:
    folder = FIXTURES / case
    listing = (folder / "parsers.yaml").read_text().replace("{{.TestDirectory}}", str(folder))
    sources = [(item["stage"], Path(item["filename"])) for item in yaml.safe_load(listing)]
    try:
        chain = load_parsers(sources, PATTERNS, runtime=fixture_runtime())
    except ContentError as exc:
        if "not supported yet" in str(exc):
            pytest.skip(f"needs: {str(exc).split(': ', 1)[1]}")
        raise
    out = []
    for test_set in yaml.load_all((folder / "test.yaml").read_text(), Loader=yaml.BaseLoader):
        if not test_set:
            continue
        events = []
        for data in test_set["lines"]:
            evt = input_event(data)
            chain.parse(evt)
            events.append(evt)
        out.append((events, list(test_set["results"])))
    return out


@pytest.mark.parametrize("case", CASES)
def test_crowdsec_parser_fixture(case: str) -> None:
    for events, expected in run_case(case):
        assert events or expected
        remaining = list(expected)
        for evt in events:
            match = next((i for i, exp in enumerate(remaining) if matches(exp, evt)), None)
            assert match is not None, f"no expected result matches {evt.to_dict()}"
            remaining.pop(match)
        assert not remaining, f"expected results left over: {remaining}"


def test_fixture_results_in_full() -> None:
    """Beyond upstream's subset check: the exact outputs of the enrichment cases."""
    (geo_events, _), = run_case("geoip-enrich")
    assert dict(geo_events[0].Enriched) == {
        "IsoCode": "", "IsInEU": "false", "Latitude": "0.000000", "Longitude": "0.000000",
        "ASNNumber": "15169", "ASNumber": "15169", "ASNOrg": "Google Inc.", "SourceRange": "1.0.0.0/24"}
    assert dict(geo_events[0].Meta) == {
        "test": "test1", "source_ip": "1.0.0.1", "IsInEU": "false", "ASNNumber": "15169",
        "ASNOrg": "Google Inc.", "SourceRange": "1.0.0.0/24"}
    assert dict(geo_events[1].Enriched) == {
        "IsoCode": "", "IsInEU": "false", "Latitude": "0.000000", "Longitude": "0.000000",
        "ASNNumber": "0", "ASNumber": "0", "ASNOrg": ""}
    (dns_events, _), = run_case("reverse-dns-enrich")
    assert [dict(e.Enriched) for e in dns_events] == [
        {"IpToResolve": "1.1.1.1", "reverse_dns": "one.one.one.one."}, {"IpToResolve": "1.2.3.4"}]
    assert [e.Meta["did_dns_succeeded"] for e in dns_events] == ["yes", "no"]
    (json_events, _), = run_case("json-unmarshal")
    assert json_events[0].Unmarshaled == {"foo": "bar", "pouet": 42.0}
    assert type(json_events[0].Unmarshaled["pouet"]) is float
    assert json_events[1].Unmarshaled == {} and json_events[1].Process
    (wl_events, _), = run_case("whitelist-base")
    assert [(e.Whitelisted, e.WhitelistReason, e.Meta["statics"]) for e in wl_events] == [
        (True, "Whitelist tests", "success"), (True, "Whitelist tests", "success"),
        (False, "", "toto"), (False, "", "toto"), (True, "Whitelist tests", "success")]
    (date_events, _), = run_case("dateparser-enrich")
    assert [(e.Enriched["MarshaledTime"], e.MarshaledTime) for e in date_events] == [
        ("2012-11-01T00:00:00Z", "2012-11-01T00:00:00Z"), ("2012-11-02T13:37:05Z", "2012-11-02T13:37:05Z")]
