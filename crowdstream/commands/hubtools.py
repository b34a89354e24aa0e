"""``crowdstream hub``, ``crowdstream hubtest`` and ``crowdstream explain``: content tooling.

These commands work on content directories only; they never read ``config.yaml``.

* ``hub list [--hub-dir HUB] [--type T] [-o human|json]`` / ``hub inspect TYPE NAME``
* ``hubtest run --hub-dir HUB --tests-dir TESTS [--all | NAME…] [-o human|json] [-j N]``:
  stdout carries only the result (a JSON array with ``-o json``); logs go to stderr.
* ``explain (--log LINE | --file F) --type T [--hub-dir HUB] [--parsers REF…]``: the
  per-stage, per-node trace of each line (✅/❌, and what each node changed).

"Now" is ``CROWDSTREAM_NOW`` (RFC 3339) when set, else the clock, read once here and
injected into the engine.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

COMMANDS = frozenset({"hub", "hubtest", "explain"})
DEFAULTS = Path(__file__).resolve().parents[1] / "defaults"
HUB_ENV = "CROWDSTREAM_HUB_DIR"
NOW_ENV = "CROWDSTREAM_NOW"


class UsageError(Exception):
    """A bad command line or unusable directory (exit status 2)."""


# --- argparse -------------------------------------------------------------------------------

def register(sub: Any) -> None:
    """Add the ``hub``, ``hubtest`` and ``explain`` sub-commands to ``sub``."""
    hub = sub.add_parser("hub", help="inspect a local CrowdSec hub directory")
    hub_sub = hub.add_subparsers(dest="action", required=True, metavar="ACTION")
    hub_list = hub_sub.add_parser("list", help="list the items of the hub index")
    hub_list.add_argument("--type", default=None, help="only this item type (parsers, scenarios…)")
    inspect = hub_sub.add_parser("inspect", help="show one item of the hub index")
    inspect.add_argument("type", help="item type: parsers, scenarios, postoverflows, collections…")
    inspect.add_argument("name", help="item name, e.g. crowdsecurity/sshd-logs")
    for action in (hub_list, inspect):
        action.add_argument("--hub-dir", type=Path, default=None,
                            help=f"hub directory with hub/, patterns/, data/ (default: ${HUB_ENV})")
        action.add_argument("-o", "--output", choices=("human", "json"), default="human")

    hubtest = sub.add_parser("hubtest", help="run CrowdSec hub tests")
    hubtest_sub = hubtest.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = hubtest_sub.add_parser("run", help="run hub tests and evaluate their asserts")
    run.add_argument("--hub-dir", type=Path, default=None,
                     help=f"hub directory with hub/, patterns/, data/ (default: ${HUB_ENV})")
    run.add_argument("--tests-dir", type=Path, default=None,
                     help="folder of test folders (default: HUB/tests)")
    run.add_argument("--all", action="store_true", help="run every test of the tests folder")
    run.add_argument("names", nargs="*", metavar="NAME", help="tests to run")
    run.add_argument("-o", "--output", choices=("human", "json"), default="human")
    run.add_argument("-j", "--jobs", type=int, default=None,
                     help="parallel processes (default: the number of CPUs)")
    run.add_argument("-v", "--verbose", action="count", default=0, help="more logs on stderr")

    explain = sub.add_parser("explain", help="trace log lines through the parsers")
    source = explain.add_mutually_exclusive_group(required=True)
    source.add_argument("--log", help="one log line")
    source.add_argument("--file", type=Path, help="a log file")
    explain.add_argument("--type", required=True, help="the log type (evt.Line.Labels.type)")
    explain.add_argument("--labels", action="append", default=[], metavar="K:V",
                         help="extra label (repeatable)")
    explain.add_argument("--hub-dir", type=Path, default=None,
                         help="hub directory (default content: the shipped parsers)")
    explain.add_argument("--parsers", nargs="+", default=None, metavar="REF",
                         help="parser names of the hub index, or parser files")
    explain.add_argument("--scenarios", nargs="+", default=None, metavar="REF",
                         help="scenario names or files: show which ones an event is poured into")
    explain.add_argument("-v", "--verbose", action="count", default=0,
                         help="log content warnings on stderr (-vv: debug)")


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; returns the exit status."""
    from engine.hub import HubError

    level = logging.ERROR  # content warnings (grok redefinitions…) only with -v
    if getattr(args, "verbose", 0):
        level = logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "hub":
            return _hub(args)
        if args.command == "hubtest":
            return _hubtest(args)
        return _explain(args)
    except (UsageError, HubError) as exc:
        print(f"crowdstream {args.command}: {exc}", file=sys.stderr)
        return 2


def read_now(environ: Any = None) -> float:
    """Epoch seconds of "now": ``CROWDSTREAM_NOW`` (RFC 3339) if set, else the clock."""
    from engine.gotime import TimeParseError, parse_rfc3339

    environ = os.environ if environ is None else environ
    text = environ.get(NOW_ENV, "")
    if not text:
        return time.time()
    try:
        return parse_rfc3339(text).timestamp()
    except TimeParseError:
        raise UsageError(f"{NOW_ENV}={text!r} is not an RFC 3339 time") from None


def _hub_dir(value: Path | None) -> Path:
    if value is not None:
        return value
    env = os.environ.get(HUB_ENV)
    if env:
        return Path(env)
    raise UsageError(f"no hub directory: give --hub-dir or set ${HUB_ENV}")


# --- hub list / inspect ----------------------------------------------------------------------

def _hub(args: argparse.Namespace) -> int:
    from engine.hub import TYPE_ALIASES, Hub

    hub = Hub(_hub_dir(args.hub_dir))
    if args.action == "list":
        item_type = TYPE_ALIASES.get(args.type, args.type) if args.type else None
        rows = [item.as_dict() for item in hub.items(item_type)]
        if args.output == "json":
            print(json.dumps(rows, indent=1))
            return 0
        table = [(r["type"], r["name"], r["stage"] or "-", r["version"] or "-",
                  "yes" if r["exists"] else "no", r["path"]) for r in rows]
        _print_table(("TYPE", "NAME", "STAGE", "VERSION", "PRESENT", "PATH"), table)
        print(f"{len(rows)} items")
        return 0
    item_type = TYPE_ALIASES.get(args.type, args.type)
    item = hub.item(item_type, args.name)
    if item is None:
        print(f"crowdstream hub: no {item_type} named {args.name!r} in the hub index", file=sys.stderr)
        return 1
    info = item.as_dict()
    info["documents"] = _document_names(item.file) if item.exists else []
    if args.output == "json":
        print(json.dumps(info, indent=1))
        return 0
    for key in ("type", "name", "author", "version", "stage", "path", "file", "exists", "description"):
        if info.get(key) not in ("", None):
            print(f"{key:<12} {info[key]}")
    if info["documents"]:
        print(f"{'documents':<12} " + ", ".join(info["documents"]))
    return 0


def _document_names(file: Path) -> list[str]:
    """The ``name:`` of each YAML document of an item file (what keys parser results)."""
    import yaml

    try:
        docs = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError):
        return []
    return [str(d.get("name", "")) for d in docs if isinstance(d, dict)]


def _print_table(header: Sequence[str], rows: Iterable[Sequence[Any]], out: Any = None) -> None:
    out = out or sys.stdout
    rows = [tuple(str(c) for c in row) for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()
    print(line, file=out)
    print("-" * len(line), file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


# --- hubtest run ------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(hub_dir: str, tests_dir: str, now: float) -> None:
    from engine.hub import Hub

    _WORKER.update(hub=Hub(hub_dir), tests_dir=Path(tests_dir), now=now)


def _run_one(test_dir: str) -> dict[str, Any]:
    """Run one test in this process; a plain, picklable summary."""
    from engine.hubtest import run_hub_test

    path = Path(test_dir)
    if not (path / "config.yaml").is_file():
        return {"json": {"name": path.name, "success": False,
                         "parser_asserts": {"total": 0, "failed": 0},
                         "scenario_asserts": {"total": 0, "failed": 0},
                         "error": f"no such test: {path.name} (no config.yaml)"},
                "seconds": 0.0, "first_failure": None}
    result = run_hub_test(path, _WORKER["hub"], _WORKER["now"], _WORKER["tests_dir"])
    return {"json": result.as_json(), "seconds": result.seconds,
            "first_failure": result.details.get("first_failure")}


def _crashed(test_dir: str, exc: BaseException) -> dict[str, Any]:
    return {"json": {"name": Path(test_dir).name, "success": False,
                     "parser_asserts": {"total": 0, "failed": 0},
                     "scenario_asserts": {"total": 0, "failed": 0},
                     "error": f"test process failed: {type(exc).__name__}: {exc}"},
            "seconds": 0.0, "first_failure": None}


def run_tests(hub_dir: Path, tests_dir: Path, names: Sequence[str], now: float,
              jobs: int) -> list[dict[str, Any]]:
    """Run the tests (all of ``tests_dir`` when ``names`` is empty) over ``jobs`` processes;
    summaries sorted by test name."""
    from engine.hubtest import discover_tests

    tests = [str(p) for p in discover_tests(tests_dir, names)]
    initargs = (str(hub_dir), str(tests_dir), now)
    out: list[dict[str, Any]] = []
    if jobs <= 1 or len(tests) <= 1:
        _init_worker(*initargs)
        out = [_run_one(t) for t in tests]
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=initargs) as pool:
            futures = {pool.submit(_run_one, t): t for t in tests}
            for future in as_completed(futures):
                try:
                    out.append(future.result())
                except Exception as exc:  # noqa: BLE001 - a dead worker fails its test only
                    out.append(_crashed(futures[future], exc))
    return sorted(out, key=lambda r: r["json"]["name"])


def _hubtest(args: argparse.Namespace) -> int:
    hub_dir = _hub_dir(args.hub_dir).resolve()
    tests_dir = (args.tests_dir or hub_dir / "tests").resolve()
    if not (hub_dir / "hub").is_dir():
        raise UsageError(f"{hub_dir}: not a hub directory (no hub/ folder)")
    if not tests_dir.is_dir():
        raise UsageError(f"{tests_dir}: no such tests directory")
    if args.all == bool(args.names):
        raise UsageError("give test names or --all (not both)")
    now = read_now()
    os.environ["TZ"] = "UTC"  # cscli runs crowdsec with TZ=UTC: UTC is the local zone
    time.tzset()
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise UsageError("-j must be at least 1")
    started = time.perf_counter()
    summaries = run_tests(hub_dir, tests_dir, [] if args.all else args.names, now, jobs)
    elapsed = time.perf_counter() - started
    if args.output == "json":
        sys.stdout.write(json.dumps([s["json"] for s in summaries], indent=1) + "\n")
        passed = sum(1 for s in summaries if s["json"]["success"])
        print(f"hubtest: {passed}/{len(summaries)} passed in {elapsed:.1f}s", file=sys.stderr)
        return 0
    _print_human(summaries, elapsed)
    return 0


def _print_human(summaries: list[dict[str, Any]], elapsed: float) -> None:
    rows = []
    for s in summaries:
        j = s["json"]
        pa, sa = j["parser_asserts"], j["scenario_asserts"]
        rows.append((j["name"], "✅ pass" if j["success"] else "❌ fail",
                     f"{pa['total'] - pa['failed']}/{pa['total']}",
                     f"{sa['total'] - sa['failed']}/{sa['total']}", f"{s['seconds']:.2f}s"))
    _print_table(("TEST", "RESULT", "PARSER ASSERTS", "SCENARIO ASSERTS", "TIME"), rows)
    failures = [s for s in summaries if not s["json"]["success"]]
    for s in failures:
        j = s["json"]
        print(f"\n❌ {j['name']}")
        if j["error"]:
            print(f"   error: {j['error']}")
        ff = s.get("first_failure")
        if ff:
            print(f"   first failing assert ({ff['file']}:{ff['line']}): {ff['assert']}")
            if ff.get("actual") is not None:
                print(f"   actual value: {ff['actual']}")
    passed = len(summaries) - len(failures)
    print(f"\n{passed}/{len(summaries)} tests passed in {elapsed:.1f}s")


# --- explain ----------------------------------------------------------------------------------

def _explain(args: argparse.Namespace) -> int:
    from engine.content import Content
    from engine.event import Event
    from engine.hub import Hub
    from engine.hubtest.results import ParserCollector
    from engine.hubtest.runner import make_runtime
    from engine.parser import load_parsers
    from engine.runtime import Runtime, RuntimeOptions
    from engine.scenario import load_scenarios
    from engine.spec import ContentError

    now = read_now()
    labels = {}
    for pair in args.labels:
        key, sep, value = pair.partition(":")
        if not sep:
            raise UsageError(f"--labels {pair!r}: expected key:value")
        labels[key] = value
    labels["type"] = args.type
    cwd = Path.cwd()
    runtime = Runtime(RuntimeOptions(now=lambda: now))
    if args.hub_dir is not None:
        hub = Hub(args.hub_dir)
        runtime = make_runtime(hub, now)
        patterns = hub.patterns
        if args.parsers:
            parser_sources = [(r.stage, r.file) for r in
                              (hub.resolve("parsers", ref, cwd) for ref in args.parsers)]
        else:
            parser_sources = [(i.stage, i.file) for i in hub.items("parsers") if i.exists]
        scenario_files = [hub.resolve("scenarios", ref, cwd).file for ref in args.scenarios or ()]
    else:
        patterns = DEFAULTS / "patterns"
        parser_sources = list(args.parsers) if args.parsers else [DEFAULTS / "parsers"]
        scenario_files = [Path(s) for s in args.scenarios or ()]
    try:
        chain = load_parsers(parser_sources, patterns, runtime=runtime)
        scenarios = load_scenarios(scenario_files, runtime=runtime) if scenario_files else []
    except ContentError as exc:
        print(f"crowdstream explain: {exc}", file=sys.stderr)
        return 1
    content = Content(chain, scenarios, runtime)
    if args.log is not None:
        lines = [args.log]
        source = "explain"
    else:
        from engine.hubtest.runner import read_log_lines

        if not args.file.is_file():
            raise UsageError(f"{args.file}: no such file")
        lines = list(read_log_lines(args.file))
        source = str(args.file.absolute())
    for raw in lines:
        evt = Event.from_line(raw, source=source, module="file", labels=labels, ingest_ts=now)
        trace: list[tuple[str, str, Event, bool]] = []
        collector = ParserCollector()
        before = _snapshot(evt)
        before.Stage = chain.stages[0] if chain.stages else ""

        def observe(stage: str, node: str, event: Event, ok: bool,
                    _trace: list[tuple[str, str, Event, bool]] = trace,
                    _collector: ParserCollector = collector) -> None:
            _collector.observe(stage, node, event, ok)
            _trace.append((stage, node, _collector.results[stage][node][-1].Evt, ok))

        parsed = chain.parse(evt, observe)
        more = parsed is not None and bool(scenarios)
        sys.stdout.write(render_trace(raw, before, trace, parsed, chain.stages, bool(args.verbose), more))
        if more:
            routes = content.route(parsed)
            names = sorted({content.scenarios[sid].name for _, ids in routes for sid in ids})
            sys.stdout.write("\t└ Scenarios\n")
            if not names:
                sys.stdout.write("\t\t└ (none)\n")
            for i, name in enumerate(names):
                sys.stdout.write(f"\t\t{'└' if i == len(names) - 1 else '├'} 🟢 {name}\n")
        sys.stdout.write("\n")
    return 0


def _snapshot(evt: Any) -> Any:
    from engine.hubtest.results import snapshot

    return snapshot(evt)


_SCALARS = ("Stage", "StrTime", "StrTimeFormat", "MarshaledTime", "Whitelisted", "WhitelistReason")
_MAPS = ("Parsed", "Meta", "Enriched", "Unmarshaled")


def event_changes(old: Any, new: Any) -> list[str]:
    """What changed from ``old`` to ``new`` (two event snapshots): ``+ Parsed.x = "v"``,
    ``~ Meta.y: "a" -> "b"``, ``- Enriched.z``."""
    changes = []
    for name in _MAPS:
        a, b = getattr(old, name), getattr(new, name)
        for key in sorted(set(a) | set(b), key=str):
            if key not in a:
                changes.append(f"+ {name}.{key} = {_show(b[key])}")
            elif key not in b:
                changes.append(f"- {name}.{key}")
            elif a[key] != b[key]:
                changes.append(f"~ {name}.{key}: {_show(a[key])} -> {_show(b[key])}")
    for name in _SCALARS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            changes.append(f"~ {name}: {_show(a)} -> {_show(b)}")
    return changes


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def render_trace(raw: str, before: Any, trace: list[tuple[str, str, Any, bool]], parsed: Any,
                 stages: Sequence[str], verbose: bool = False, more: bool = False) -> str:
    """The ``cscli explain``-like tree of one line."""
    out = [f"line: {raw}\n"]
    previous = before
    by_stage: dict[str, list[tuple[str, Any, bool]]] = {}
    for stage, node, snap, ok in trace:
        by_stage.setdefault(stage, []).append((node, snap, ok))
    for stage in stages:
        if stage not in by_stage:
            continue
        out.append(f"\t├ {stage}\n")
        entries = by_stage[stage]
        for i, (node, snap, ok) in enumerate(entries):
            last = i == len(entries) - 1
            changes = event_changes(previous, snap)
            added = sum(1 for c in changes if c.startswith("+"))
            changed = sum(1 for c in changes if c.startswith("~"))
            removed = sum(1 for c in changes if c.startswith("-"))
            counts = " ".join(f"{sign}{n}" for sign, n in (("+", added), ("~", changed), ("-", removed)) if n)
            mark = "✅" if ok else "❌"
            out.append(f"\t|\t{'└' if last else '├'} {mark} {node}{f' ({counts})' if counts else ''}\n")
            if ok or verbose or changes:
                for j, change in enumerate(changes):
                    out.append(f"\t|\t{' ' if last else '|'}\t{'└' if j == len(changes) - 1 else '├'} {change}\n")
            previous = snap
    branch = "├" if more else "└"
    if parsed is None:
        out.append(f"\t{branch} parser failure ❌\n")
    elif parsed.Whitelisted:
        out.append(f"\t{branch} parser success, whitelisted ({parsed.WhitelistReason or 'no reason'}) 🟡\n")
    else:
        out.append(f"\t{branch} parser success ✅\n")
    return "".join(out)
