"""``crowdstream hub``, ``hubtest run`` and ``explain``: no config.yaml, stdout contract (A.9)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crowdstream.cli import main
from crowdstream.commands.hubtools import read_now
from tests.unit.engine.hubtest_fixtures import make_hub, make_test


@pytest.fixture()
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    broken = tmp_path / "broken-config.yaml"
    broken.write_text("this: [is not a valid config\n")
    monkeypatch.setenv("CROWDSTREAM_CONFIG", str(broken))  # must never be read
    monkeypatch.setenv("CROWDSTREAM_NOW", "2026-08-22T18:03:54Z")
    monkeypatch.delenv("CROWDSTREAM_HUB_DIR", raising=False)
    hub = make_hub(tmp_path)
    tests = tmp_path / "tests"
    make_test(tests, "good")
    make_test(tests, "bad", scenario_assert='results[0].Overflow.Alert.GetScenario() == "nope"\n')
    return hub, tests


def test_hubtest_json_is_the_only_stdout(hub_env: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    hub, tests = hub_env
    code = main(["hubtest", "run", "--hub-dir", str(hub), "--tests-dir", str(tests), "--all",
                 "-o", "json", "-j", "2"])
    out = capsys.readouterr()
    assert code == 0
    results = json.loads(out.out)
    assert results == [
        {"name": "bad", "success": False, "parser_asserts": {"total": 13, "failed": 0},
         "scenario_asserts": {"total": 1, "failed": 1}, "error": None},
        {"name": "good", "success": True, "parser_asserts": {"total": 13, "failed": 0},
         "scenario_asserts": {"total": 11, "failed": 0}, "error": None},
    ]
    assert "1/2 passed" in out.err


def test_hubtest_named_tests_and_human_output(hub_env: tuple[Path, Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    hub, tests = hub_env
    code = main(["hubtest", "run", "--hub-dir", str(hub), "--tests-dir", str(tests), "bad", "absent",
                 "-j", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "❌ bad" in out and "first failing assert (scenario.assert:1)" in out
    assert "actual value: 'test/app-bf'" in out
    assert "no such test: absent" in out
    assert "0/2 tests passed" in out


def test_hubtest_usage_errors(hub_env: tuple[Path, Path], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    hub, tests = hub_env
    assert main(["hubtest", "run", "--hub-dir", str(hub), "--tests-dir", str(tests)]) == 2
    assert main(["hubtest", "run", "--hub-dir", str(tmp_path / "nohub"), "--all"]) == 2
    assert "give test names or --all" in capsys.readouterr().err


def test_read_now() -> None:
    assert read_now({"CROWDSTREAM_NOW": "2026-08-22T18:03:54Z"}) == 1787421834.0
    with pytest.raises(Exception, match="RFC 3339"):
        read_now({"CROWDSTREAM_NOW": "yesterday"})


def test_hub_list_and_inspect(hub_env: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    hub, _ = hub_env
    assert main(["hub", "list", "--hub-dir", str(hub), "-o", "json", "--type", "parsers"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["stage"], r["exists"]) for r in rows] == [
        ("test/absent", "s01-parse", False), ("test/app-logs", "s01-parse", True),
        ("test/dates", "s02-enrich", True), ("test/raw", "s00-raw", True)]
    assert main(["hub", "list", "--hub-dir", str(hub)]) == 0
    assert "test/app-bf" in capsys.readouterr().out
    assert main(["hub", "inspect", "parser", "test/raw", "--hub-dir", str(hub), "-o", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["documents"] == ["test/raw", "test/never"] and info["version"] == "0.1"
    assert main(["hub", "inspect", "scenarios", "nope", "--hub-dir", str(hub)]) == 1


def test_explain_traces_every_node(hub_env: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    hub, _ = hub_env
    code = main(["explain", "--log", "2026-01-02T03:04:05Z app: login failed user=bob ip=1.2.3.4",
                 "--type", "app", "--hub-dir", str(hub), "--parsers", "test/raw", "test/app-logs",
                 "test/dates", "--scenarios", "test/app-bf"])
    out = capsys.readouterr().out
    assert code == 0
    assert "✅ test/raw" in out and "+ Parsed.program = \"app\"" in out
    assert "✅ test/app-logs" in out and "+ Meta.log_type = \"app_failed-auth\"" in out
    assert "parser success ✅" in out and "🟢 test/app-bf" in out
    code = main(["explain", "--log", "junk", "--type", "app", "--hub-dir", str(hub),
                 "--parsers", "test/raw"])
    out = capsys.readouterr().out
    assert "❌ test/raw" in out and "❌ test/never" in out and "parser failure ❌" in out


def test_explain_defaults_to_shipped_content(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROWDSTREAM_NOW", "2026-08-22T18:03:54Z")
    line = "Feb 12 14:10:21 host sshd[123]: Failed password for root from 1.2.3.4 port 22 ssh2"
    assert main(["explain", "--log", line, "--type", "syslog"]) == 0
    out = capsys.readouterr().out
    assert "s01-parse" in out and "parser success ✅" in out


def test_explain_a_file(hub_env: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    hub, tests = hub_env
    log = tests / "good" / "app.log"
    code = main(["explain", "--file", str(log), "--type", "app", "--labels", "env:dev",
                 "--hub-dir", str(hub), "--parsers", "test/raw", "test/app-logs", "test/dates"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("line: ") == 3  # the empty line is skipped
    assert '+ Meta.label_env = "dev"' in out
    assert out.count("parser success ✅") == 2 and out.count("parser failure ❌") == 1
