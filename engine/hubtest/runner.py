"""Running one hub test: build its content, feed its log, collect results, evaluate asserts.

This is what ``cscli hubtest run`` does with a crowdsec process (see HUBTEST-SPEC.md, A.2 to
A.7), done in-process: no files are written into the test folder. "Now" is given by the
caller (the CLI reads ``CROWDSTREAM_NOW`` or the clock once); it is the ingest time of every
log line, so year-less syslog dates take its year.
"""
from __future__ import annotations

import gzip
import logging
import tempfile
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.content import Content
from engine.event import Event
from engine.hub import Hub, HubError
from engine.hubtest.asserts import (AssertLine, AssertReport, assert_functions, evaluate_assert_file,
                                    read_assert_lines)
from engine.hubtest.config import HubTestConfig, TestConfigError
from engine.hubtest.results import ParserCollector, sort_overflows
from engine.overflow import BucketOverflow
from engine.parser import load_parsers
from engine.runtime import Runtime, RuntimeOptions
from engine.scenario import load_scenarios
from engine.spec import ContentError

log = logging.getLogger("crowdstream.hubtest")

PARSER_ASSERT = "parser.assert"
SCENARIO_ASSERT = "scenario.assert"
MAX_LINE = 64 * 1024
MAX_REPROCESS = 8  # overflows re-poured into overflows, at most this deep


class HubTestError(RuntimeError):
    """The test could not run (what makes crowdsec or cscli fail before the asserts)."""


def make_runtime(hub: Hub, now: float) -> Runtime:
    """The runtime of one test: the hub's data files, and "now" for the time helpers."""
    return Runtime(RuntimeOptions(data_dir=hub.data, now=lambda: now))


# --- reading the log ---------------------------------------------------------------------------

def read_log_lines(path: Path) -> Iterator[str]:
    """The lines crowdsec's file acquisition reads in one-shot mode: split on ``\\n``, one
    trailing ``\\r`` removed, exactly-empty lines skipped; ``.gz`` files are gunzipped."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    for piece in pieces:
        if piece.endswith(b"\r"):
            piece = piece[:-1]
        if not piece:
            continue
        if len(piece) > MAX_LINE:
            raise HubTestError(f"{path.name}: line longer than 64 KiB")
        yield piece.decode("utf-8", errors="replace")


# --- the environment ---------------------------------------------------------------------------

@dataclass(slots=True)
class TestEnvironment:
    """The resolved content of one test."""

    config: HubTestConfig
    parsers: list[tuple[str, Path]]
    scenarios: list[Path]
    postoverflows: list[tuple[str, Path]]
    log_file: Path
    labels: dict[str, str]

    __test__ = False


def build_environment(test_dir: Path, hub: Hub, tests_dir: Path, scratch: Path,
                      config: HubTestConfig | None = None) -> TestEnvironment:
    """Resolve the test's items (A.2); the overrides node is written into ``scratch``."""
    if config is None:
        config = HubTestConfig.load(test_dir / "config.yaml")
    parsers: list[tuple[str, Path]] = []
    if config.override_statics:
        node = {"name": "overrides", "filter": "1==1", "statics": list(config.override_statics)}
        file = scratch / "parsers" / "s00-raw" / "00_overrides.yaml"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(yaml.safe_dump(node, sort_keys=False), encoding="utf-8")
        parsers.append(("s00-raw", file))
    for ref in config.parser_refs:
        found = hub.resolve("parsers", ref, test_dir, tests_dir)
        parsers.append((found.stage, found.file))
    scenarios = [hub.resolve("scenarios", ref, test_dir, tests_dir).file for ref in config.scenario_refs]
    postoverflows = []
    for ref in config.postoverflow_refs:
        found = hub.resolve("postoverflows", ref, test_dir, tests_dir)
        postoverflows.append((found.stage, found.file))
    if not config.log_file:
        raise HubTestError("config.yaml: log_file is not set")
    log_file = (test_dir / config.log_file).absolute()
    if not log_file.is_file() or log_file.stat().st_size == 0:
        raise HubTestError(f"log file {config.log_file} is missing or empty")
    labels = dict(config.labels)
    labels["type"] = config.log_type
    return TestEnvironment(config, parsers, scenarios, postoverflows, log_file, labels)


# --- running -----------------------------------------------------------------------------------

@dataclass(slots=True)
class RunOutput:
    """Parser results (``results`` of parser.assert) and overflows (of scenario.assert)."""

    parser_results: Any
    overflows: list[Event]
    lines: int = 0
    poured: int = 0


class _Buckets:
    """Time-machine pouring of parsed events into the scenarios (A.6), one test's state."""

    def __init__(self, content: Content, collector: ParserCollector) -> None:
        self.content = content
        self.collector = collector
        self.states: dict[str, dict[str, dict[str, Any]]] = {}
        self.overflows: list[Event] = []
        self.poured = 0
        self.depth = 0  # reprocess nesting

    def pour(self, evt: Event) -> None:
        content = self.content
        routes = content.route(evt)
        if not routes:
            return
        event = content.pour_event(evt)
        timed = bool(evt.MarshaledTime)
        ts = content.event_time(evt)
        for key, ids in routes:
            for sid in ids:
                scenario = content.scenarios[sid]
                if not timed and scenario.type != "trigger":
                    log.debug("event without MarshaledTime not poured into %s", scenario.name)
                    continue
                self.poured += 1
                states = self.states.setdefault(key, {})
                for overflow in content.pour(key, [sid], ts, event, states):
                    self._overflow(overflow)

    def _overflow(self, overflow: BucketOverflow) -> None:
        """Postoverflows, then the dump (even when whitelisted), then ``reprocess``."""
        evt = self.content.postoverflow(overflow, self.collector.observe)
        self.overflows.append(evt)
        if evt.Overflow.Reprocess and not evt.Overflow.Whitelisted and self.depth < MAX_REPROCESS:
            self.depth += 1
            try:
                self.pour(evt)  # poured again into all buckets, not parsed again
            finally:
                self.depth -= 1


def run_content(env: TestEnvironment, hub: Hub, now: float, runtime: Runtime) -> RunOutput:
    """Load the test's content and run its log through it."""
    chain = load_parsers(env.parsers, hub.patterns, runtime=runtime)
    scenarios = load_scenarios(env.scenarios, runtime=runtime) if env.scenarios else []
    post = load_parsers(env.postoverflows, hub.patterns, runtime=runtime) if env.postoverflows else None
    content = Content(chain, scenarios, runtime, post)
    collector = ParserCollector()
    buckets = _Buckets(content, collector)
    source = str(env.log_file)
    count = 0
    for raw in read_log_lines(env.log_file):
        evt = Event.from_line(raw, source=source, module="file", labels=env.labels, ingest_ts=now)
        collector.index = count
        count += 1
        parsed = chain.parse(evt, collector.observe)
        if parsed is None or parsed.Whitelisted or not scenarios:
            continue
        buckets.pour(parsed)
    return RunOutput(collector.results, sort_overflows(buckets.overflows), count, buckets.poured)


# --- one test, end to end ---------------------------------------------------------------------

@dataclass(slots=True)
class HubTestResult:
    """The outcome of one test (the JSON object of the contract, plus details)."""

    name: str
    success: bool = False
    parser: AssertReport | None = None
    scenario: AssertReport | None = None
    error: str | None = None
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    __test__ = False

    def counts(self, report: AssertReport | None) -> dict[str, int]:
        if report is None:
            return {"total": 0, "failed": 0}
        return {"total": report.total, "failed": report.failed}

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "success": self.success,
                "parser_asserts": self.counts(self.parser),
                "scenario_asserts": self.counts(self.scenario),
                "error": self.error}


def _unrun_report(path: Path, evaluated: bool) -> AssertReport:
    """An assert file of a test that could not run: every evaluated line counts as failed."""
    report = AssertReport(path, evaluated)
    if evaluated:
        lines = read_assert_lines(path)
        report.exists = lines is not None
        report.lines = [AssertLine(n, t, t, False, "not run") for n, t in lines or ()]
    return report


def _fail(result: HubTestResult, test_dir: Path, config: HubTestConfig | None, error: str) -> HubTestResult:
    """``result`` as a test that could not run (its evaluated lines all count as failed)."""
    result.error = error
    result.success = False
    if config is not None:
        result.parser = _unrun_report(test_dir / PARSER_ASSERT, not config.ignore_parsers)
        result.scenario = _unrun_report(test_dir / SCENARIO_ASSERT, bool(config.scenario_refs))
    return result


def run_hub_test(test_dir: Path, hub: Hub, now: float, tests_dir: Path | None = None) -> HubTestResult:
    """Run the test in ``test_dir`` and evaluate its assert files; never raises for a test
    problem (the result carries ``error``)."""
    test_dir = Path(test_dir).absolute()
    tests_dir = Path(tests_dir).absolute() if tests_dir is not None else test_dir.parent
    result = HubTestResult(test_dir.name)
    started = _time.perf_counter()
    config: HubTestConfig | None = None
    try:
        config = HubTestConfig.load(test_dir / "config.yaml")
        with tempfile.TemporaryDirectory(prefix="hubtest-") as scratch:
            env = build_environment(test_dir, hub, tests_dir, Path(scratch), config)
            runtime = make_runtime(hub, now)
            output = run_content(env, hub, now, runtime)
            functions = assert_functions(runtime.functions)
            result.details = {"lines": output.lines, "poured": output.poured,
                              "overflows": len(output.overflows)}
            result.parser = evaluate_assert_file(test_dir / PARSER_ASSERT, output.parser_results,
                                                 functions, not config.ignore_parsers)
            result.scenario = evaluate_assert_file(test_dir / SCENARIO_ASSERT, output.overflows,
                                                   functions, bool(config.scenario_refs))
            for report, results in ((result.parser, output.parser_results),
                                    (result.scenario, output.overflows)):
                line = report.first_failure()
                if line is not None and "first_failure" not in result.details:
                    result.details["first_failure"] = {
                        "file": report.path.name, "line": line.number, "assert": line.text,
                        "error": line.error,
                        "actual": line.actual({"results": results}, functions)}
    except (TestConfigError, ContentError, HubError, HubTestError, OSError) as exc:
        return _fail(result, test_dir, config, str(exc))
    except Exception as exc:  # noqa: BLE001 - one broken test never stops the run
        log.exception("hubtest %s: unexpected error", result.name)
        return _fail(result, test_dir, config, f"internal error: {type(exc).__name__}: {exc}")
    finally:
        result.seconds = _time.perf_counter() - started
    errors = [r.error for r in (result.parser, result.scenario) if r.error]
    result.error = errors[0] if errors else None
    result.success = result.error is None and result.parser.success and result.scenario.success
    return result


def discover_tests(tests_dir: Path, names: Sequence[str] = ()) -> list[Path]:
    """Sub-folders of ``tests_dir`` with a ``config.yaml`` (all, or the ``names`` given)."""
    if names:
        return [tests_dir / name for name in names]
    return sorted(p for p in tests_dir.iterdir() if p.is_dir() and (p / "config.yaml").is_file())
