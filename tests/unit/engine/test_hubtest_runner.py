"""engine.hubtest.runner: one hub test end to end over a tiny hub (A.1–A.7)."""
from __future__ import annotations

import calendar
from pathlib import Path

import pytest

from engine.hub import Hub
from engine.hubtest import HubTestConfig, discover_tests, run_hub_test
from engine.hubtest.runner import read_log_lines
from tests.unit.engine.hubtest_fixtures import PARSER_ASSERT, make_hub, make_test, write

NOW = float(calendar.timegm((2026, 8, 22, 18, 3, 54)))


@pytest.fixture()
def env(tmp_path: Path) -> tuple[Hub, Path]:
    return Hub(make_hub(tmp_path)), tmp_path / "tests"


def test_passing_test_counts_every_evaluated_line(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    result = run_hub_test(make_test(tests, "ok"), hub, NOW, tests)
    assert result.as_json() == {"name": "ok", "success": True,
                                "parser_asserts": {"total": 13, "failed": 0},
                                "scenario_asserts": {"total": 11, "failed": 0}, "error": None}
    assert result.details["lines"] == 3  # the empty line is skipped


def test_a_false_assert_fails_exactly_one_line(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    wrong = make_test(tests, "wrong", scenario_assert="len(results) == 1\n"
                      'results[0].Overflow.Alert.GetScenario() == "test/app-bfX"\n')
    result = run_hub_test(wrong, hub, NOW, tests).as_json()
    assert result["success"] is False and result["error"] is None
    assert result["scenario_asserts"] == {"total": 2, "failed": 1}
    assert result["parser_asserts"] == {"total": 13, "failed": 0}


def test_junk_log_fails(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    result = run_hub_test(make_test(tests, "junk", log="zzz qqq\n"), hub, NOW, tests).as_json()
    assert result["success"] is False
    assert result["parser_asserts"]["failed"] > 0 and result["scenario_asserts"]["failed"] > 0


def test_ignored_parser_assert_and_missing_files(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    config = """\
    parsers: [test/raw, test/app-logs, test/dates]
    scenarios: [test/app-bf]
    log_file: app.log
    log_type: app
    ignore_parsers: true
    """
    ignored = run_hub_test(make_test(tests, "ign", config=config, parser_assert=None), hub, NOW, tests)
    assert ignored.success and ignored.as_json()["parser_asserts"] == {"total": 0, "failed": 0}
    missing = run_hub_test(make_test(tests, "miss", parser_assert=None), hub, NOW, tests)
    assert not missing.success and "parser.assert is missing" in (missing.error or "")
    empty = run_hub_test(make_test(tests, "empty", scenario_assert="\n"), hub, NOW, tests)
    assert not empty.success and "scenario.assert is empty" in (empty.error or "")


def test_no_scenarios_means_scenario_assert_is_not_evaluated(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    config = """\
    parsers: [test/raw, test/app-logs, test/dates]
    scenarios: [""]
    log_file: app.log
    log_type: app
    """
    result = run_hub_test(make_test(tests, "p", config=config, scenario_assert="garbage ((\n"), hub, NOW, tests)
    assert result.success and result.as_json()["scenario_asserts"] == {"total": 0, "failed": 0}


def test_environment_errors(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    bad_ref = """\
    parsers: [someone/unknown]
    log_file: app.log
    log_type: app
    """
    result = run_hub_test(make_test(tests, "bad", config=bad_ref), hub, NOW, tests)
    assert not result.success and "someone/unknown" in (result.error or "")
    assert result.as_json()["parser_asserts"] == {"total": 13, "failed": 13}
    empty_log = run_hub_test(make_test(tests, "nolog", log=""), hub, NOW, tests)
    assert not empty_log.success and "missing or empty" in (empty_log.error or "")
    write(tests / "yaml" / "config.yaml", "parsers: [\n")
    broken = run_hub_test(tests / "yaml", hub, NOW, tests)
    assert not broken.success and "invalid YAML" in (broken.error or "")


def test_override_statics_and_labels(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    config = """\
    parsers: [test/raw, test/app-logs, test/dates]
    scenarios: [""]
    log_file: app.log
    log_type: app
    labels: {env: staging, type: ignored}
    override_statics:
      - meta: forced
        value: "yes"
    """
    asserts = """\
    results["s00-raw"]["overrides"][0].Success == true
    results["s00-raw"]["overrides"][0].Evt.Meta["forced"] == "yes"
    results["s00-raw"]["test/raw"][0].Evt.Meta["label_env"] == "staging"
    results["s00-raw"]["test/raw"][0].Evt.Line.Labels["type"] == "app"
    basename(results["s00-raw"]["test/raw"][0].Evt.Line.Src) == "app.log"
    results["s00-raw"]["test/raw"][0].Evt.Line.Src[0:1] == "/"
    results["s00-raw"]["test/raw"][0].Evt.Line.Raw == "2026-01-02T03:04:05Z app: login failed user=bob ip=1.2.3.4"
    results["s00-raw"]["test/raw"][1].Evt.Line.Raw == "2026-01-02T03:04:06Z app: login failed user=alice ip=1.2.3.4"
    """
    import textwrap
    folder = make_test(tests, "ovr", config=config, parser_assert=textwrap.dedent(asserts))
    result = run_hub_test(folder, hub, NOW, tests)
    assert result.success, result.details


def test_read_log_lines(tmp_path: Path) -> None:
    log = write(tmp_path / "x.log", "")
    log.write_bytes(b"a\r\n\r\n\n  \nb\r\r\nc")
    assert list(read_log_lines(log)) == ["a", "  ", "b\r", "c"]


def test_config_ignores_unknown_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yaml", "parsers: [a, '']\nostoverflows: [x]\ncollections: [c]\n"
                 "log_file: l.log\nlabels: {n: 1}\n")
    config = HubTestConfig.load(path)
    assert config.parser_refs == ("a",) and config.postoverflow_refs == ()
    assert config.labels == {"n": "1"} and not config.ignore_parsers


def test_discover_tests(tmp_path: Path) -> None:
    write(tmp_path / "b" / "config.yaml", "{}")
    write(tmp_path / "a" / "config.yaml", "{}")
    (tmp_path / "c").mkdir()
    write(tmp_path / "template_x.yaml", "{}")
    assert [p.name for p in discover_tests(tmp_path)] == ["a", "b"]


def test_reprocess_pours_the_overflow_again(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    write(hub.root / "scenarios" / "test" / "again.yaml", """\
type: leaky
name: test/again
description: reprocessed
filter: "evt.Meta.log_type == 'app_failed-auth'"
groupby: evt.Meta.source_ip
capacity: 1
leakspeed: 10s
reprocess: true
---
type: trigger
name: test/on-overflow
description: sees overflows
filter: "evt.GetType() == 'overflow'"
""")
    config = """\
    parsers: [test/raw, test/app-logs, test/dates]
    scenarios: [/scenarios/test/again.yaml]
    log_file: app.log
    log_type: app
    ignore_parsers: true
    """
    # the re-poured overflow carries its sources into the trigger's alert (overflowEventSources)
    asserts = ('len(results) == 2\n'
               'results[0].Overflow.Alert.GetScenario() == "test/on-overflow"\n'
               'results[0].Overflow.Reprocess == false\n'
               'results[0].Overflow.GetSources() == results[1].Overflow.GetSources()\n'
               'results[1].Overflow.Alert.GetScenario() == "test/again"\n'
               'results[1].Overflow.Reprocess == true\n'
               'results[0].Overflow.Sources["9.9.9.9"].IP == ""\n')
    result = run_hub_test(make_test(tests, "re", config=config, scenario_assert=asserts), hub, NOW, tests)
    assert result.success, result.as_json()
    assert result.details["poured"] == 3  # 2 log events + the overflow poured again


def test_postoverflow_whitelist_keeps_the_overflow_in_results(env: tuple[Hub, Path]) -> None:
    hub, tests = env
    folder = tests / "po"
    write(folder / "postoverflows" / "s01-whitelist" / "me" / "wl.yaml", """\
name: me/wl
description: whitelist one source
whitelist:
  reason: trusted
  expression:
    - evt.Overflow.Alert.Source.IP == '1.2.3.4'
""")
    config = """\
    parsers: [test/raw, test/app-logs, test/dates]
    scenarios: [test/app-bf]
    postoverflows: [./postoverflows/s01-whitelist/me/wl.yaml]
    log_file: app.log
    log_type: app
    """
    parser_assert = PARSER_ASSERT.replace("len(results) == 4", "len(results) == 5") + \
        'results["s01-whitelist"]["me/wl"][0].Success == true\n' \
        'results["s01-whitelist"]["me/wl"][0].Evt.Whitelisted == true\n'
    scenario_assert = 'len(results) == 1\nresults[0].Overflow.Whitelisted == true\n'
    make_test(tests, "po", config=config, parser_assert=parser_assert, scenario_assert=scenario_assert)
    result = run_hub_test(folder, hub, NOW, tests)
    assert result.success, (result.as_json(), result.details)
