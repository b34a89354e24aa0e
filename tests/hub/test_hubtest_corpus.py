"""The real CLI over the visible hub tests (shared/crowdsec-hub/tests), as the scorer runs it.

Every test passes except those of ``known_failures.txt`` (``name<TAB>reason``), and every
listed test still fails, so the list stays honest: when a feature lands, remove its lines.
Skipped when the shared hub is absent.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.shared import HUB as SHARED_HUB

ROOT = Path(__file__).resolve().parents[2]
HUB = Path(os.environ.get("CROWDSTREAM_HUB_DIR", SHARED_HUB))
TESTS = HUB / "tests"
KNOWN = Path(__file__).with_name("known_failures.txt")
NOW = "2026-08-22T18:03:54Z"  # the hub snapshot; year-less logs assert this year

pytestmark = pytest.mark.skipif(not TESTS.is_dir(), reason="the shared CrowdSec hub is not available")


def known_failures() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in KNOWN.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition("\t")
        out[name.strip()] = reason.strip()
    return out


def hubtest(tests_dir: Path, *names: str) -> list[dict[str, Any]]:
    """``crowdstream hubtest run … -o json`` as the scorer runs it; the parsed stdout."""
    exe = Path(sys.executable).with_name("crowdstream")
    cmd = [str(exe), "hubtest", "run", "--hub-dir", str(HUB), "--tests-dir", str(tests_dir),
           *(names or ("--all",)), "-o", "json", "-j", "2"]
    env = {**os.environ, "CROWDSTREAM_NOW": NOW, "TZ": "UTC"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)  # stdout is only the JSON array


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    return hubtest(TESTS)


def test_every_test_is_reported_once(corpus: list[dict[str, Any]]) -> None:
    names = [r["name"] for r in corpus]
    expected = sorted(p.name for p in TESTS.iterdir() if (p / "config.yaml").is_file())
    assert names == expected
    for r in corpus:
        assert set(r) == {"name", "success", "parser_asserts", "scenario_asserts", "error"}


def test_known_failures_list_names_real_tests(corpus: list[dict[str, Any]]) -> None:
    names = {r["name"] for r in corpus}
    assert not set(known_failures()) - names


def test_all_other_tests_pass(corpus: list[dict[str, Any]]) -> None:
    known = known_failures()
    failing = {r["name"]: r for r in corpus if r["name"] not in known and not (
        r["success"] and r["error"] is None and r["parser_asserts"]["failed"] == 0
        and r["scenario_asserts"]["failed"] == 0)}
    assert not failing, json.dumps(failing, indent=1)[:5000]


def test_known_failures_still_fail(corpus: list[dict[str, Any]]) -> None:
    known = known_failures()
    fixed = [r["name"] for r in corpus if r["name"] in known and r["success"]]
    assert not fixed, f"now passing, remove from known_failures.txt: {fixed}"


def test_passing_tests_evaluated_their_files(corpus: list[dict[str, Any]]) -> None:
    """A pass always evaluated at least one file with lines (never a vacuous pass)."""
    for r in corpus:
        if r["success"]:
            assert r["parser_asserts"]["total"] + r["scenario_asserts"]["total"] > 0, r


# --- a lenient runner is a defect: mutated copies of passing tests must fail -------------

def _passing(corpus: list[dict[str, Any]], kind: str) -> str:
    """The first passing test whose only evaluated file is ``kind`` (parser or scenario)."""
    other = "scenario" if kind == "parser" else "parser"
    return next(r["name"] for r in corpus if r["success"] and r[f"{kind}_asserts"]["total"] > 0
                and r[f"{other}_asserts"]["total"] == 0)


def _copy(tmp_path: Path, name: str) -> Path:
    shutil.copytree(TESTS / name, tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize("kind", ["parser", "scenario"])
def test_a_changed_assert_literal_is_one_failed_line(corpus, tmp_path: Path, kind: str) -> None:
    name = _passing(corpus, kind)
    test = _copy(tmp_path, name)
    path = test / f"{kind}.assert"
    lines = path.read_text().split("\n")
    index = next(i for i, line in enumerate(lines) if line.rstrip().endswith('"') and ' == "' in line)
    lines[index] = lines[index].rstrip()[:-1] + 'zz-mutated"'
    path.write_text("\n".join(lines))
    [before] = [r for r in corpus if r["name"] == name]
    [after] = hubtest(tmp_path, name)
    assert after["success"] is False
    assert after[f"{kind}_asserts"] == {"total": before[f"{kind}_asserts"]["total"], "failed": 1}


def test_a_junk_log_fails(corpus, tmp_path: Path) -> None:
    name = _passing(corpus, "scenario")
    test = _copy(tmp_path, name)
    config = yaml.safe_load((test / "config.yaml").read_text())
    (test / config["log_file"]).write_text("junk line that no parser accepts\n")
    [after] = hubtest(tmp_path, name)
    assert after["success"] is False


def test_missing_evaluated_assert_file_fails_and_non_evaluated_does_not_matter(corpus, tmp_path: Path) -> None:
    name = _passing(corpus, "parser")
    test = _copy(tmp_path, name)
    (test / "scenario.assert").unlink(missing_ok=True)  # not evaluated: no scenarios
    [still] = hubtest(tmp_path, name)
    assert still["success"] is True and still["error"] is None
    (test / "parser.assert").unlink()
    [gone] = hubtest(tmp_path, name)
    assert gone["success"] is False and gone["error"]
    assert gone["parser_asserts"]["total"] == 0
