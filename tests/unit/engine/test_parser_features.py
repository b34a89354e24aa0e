"""Parser node features: whitelists, stash, data, statics rules, grok subjects, the observer,
and the runtime threading through loading."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.content import Content
from engine.event import OVFLW, Event
from engine.expr import Function, function_set
from engine.grok import GrokLibrary
from engine.parser import load_parsers
from engine.runtime import Runtime, RuntimeOptions
from engine.spec import ContentError

Write = Callable[[str, str], Path]
GROK = {"WORD": r"\w+", "NUM": "[0-9]+", "REST": ".*"}


def runtime_with(tmp_path: Path | None = None) -> Runtime:
    """A real runtime (stash, data files) plus a ``Marker()`` helper."""
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    runtime.functions = function_set(runtime.functions, [Function("Marker", lambda: "from-runtime", 0, 0)])
    return runtime


def stash_items(runtime: Runtime, name: str, keys: list[str]) -> dict[str, str]:
    now = runtime.event_time_ns or 0
    return {k: runtime.stash.get(name, k, now_ns=now) for k in keys if runtime.stash.get(name, k, now_ns=now)}


def chain_of(write: Write, text: str, runtime: Any = None, stage: str = "s00-raw"):  # noqa: ANN201
    path = write(f"p/{stage}/a.yaml", text)
    return load_parsers([path], None, grok=GrokLibrary(GROK), runtime=runtime)


def event(raw: str = "x", **meta: str) -> Event:
    evt = Event.from_line(raw, source="/var/log/x.log", module="file", labels={"type": "test"},
                          ingest_ts=1_700_000_000.0)
    evt.Meta.update(meta)
    return evt


WHITELIST = """
    name: t/wl
    whitelist:
      reason: "trusted"
      ip: ["10.0.0.1", "2001:db8::1"]
      cidr: ["192.168.0.0/16", "2001:db8:1::/48", "172.16.1.7/24"]
      expression: ["evt.Meta.user == 'root'", "evt.Meta.boom.x == 1", "evt.Meta.user == 'never'"]
    statics:
      - meta: statics_ran
        value: "yes"
"""


@pytest.mark.parametrize(("meta", "listed"), [
    ({"source_ip": "10.0.0.1"}, True),
    ({"source_ip": "10.0.0.2"}, False),
    ({"source_ip": "192.168.3.4"}, True),
    ({"source_ip": "172.16.1.200"}, True),      # a range with host bits still matches its network
    ({"source_ip": "2001:db8::1"}, True),
    ({"source_ip": "2001:db8:1:ff::9"}, True),
    ({"source_ip": "::ffff:10.0.0.1"}, False),   # IPv4-mapped IPv6 is another address (netip)
    ({"source_ip": "010.0.0.1"}, False),         # not an address: no IP check
    ({"source_ip": "8.8.8.8", "user": "root"}, True),
    ({"user": "root"}, True),
    ({}, False),
])
def test_whitelist_ip_cidr_expression(write: Write, meta: dict[str, str], listed: bool) -> None:
    chain = chain_of(write, WHITELIST)
    evt = chain.parse(event(**meta))
    assert evt is not None and evt.Process is True  # a whitelist node succeeds either way
    assert evt.Whitelisted is listed
    assert evt.WhitelistReason == ("trusted" if listed else "")
    # the statics of a whitelist node run only when it whitelisted
    assert evt.Meta["statics_ran"] == ("yes" if listed else "")


def test_a_failing_whitelist_expression_ends_the_checks(write: Write) -> None:
    chain = chain_of(write, """
        name: t/wl
        whitelist:
          reason: r
          expression: ["evt.Unmarshaled.a.b == 1", "true"]
        statics: [{meta: s, value: "1"}]
    """)
    evt = chain.parse(event())
    assert evt is not None and evt.Whitelisted is False and "s" not in evt.Meta


def test_first_whitelist_reason_is_kept_and_later_statics_still_run(write: Write) -> None:
    chain = chain_of(write, """
        name: t/one
        whitelist: {reason: first, ip: [10.0.0.1]}
        ---
        name: t/two
        whitelist: {reason: second, cidr: [10.0.0.0/8]}
        statics: [{meta: two, value: ran}]
    """)
    evt = chain.parse(event(source_ip="10.0.0.1"))
    assert evt is not None and evt.Whitelisted and evt.WhitelistReason == "first"
    assert evt.Meta["two"] == "ran"


def test_whitelisting_an_overflow_marks_the_alert(write: Write) -> None:
    class Overflow:
        Whitelisted = False
        Sources = {"10.0.0.1": object()}

    chain = chain_of(write, "name: t/wl\nwhitelist: {reason: cdn, ip: [10.0.0.1]}\n", stage="s01-whitelist")
    evt = Event()
    evt.Type = OVFLW
    evt.Overflow = Overflow()
    assert chain.parse(evt) is evt
    assert evt.Whitelisted and evt.WhitelistReason == "cdn" and evt.Overflow.Whitelisted is True


def test_whitelisted_events_are_not_poured(write: Write, content: Content) -> None:
    evt = Event.from_line("x", source="s", module="file", labels={}, ingest_ts=1.0)
    evt.Meta.update({"log_type": "ssh_failed-auth", "source_ip": "1.2.3.4", "service": "ssh"})
    assert content.route(evt) != []
    evt.Whitelisted = True
    assert content.route(evt) == []


def test_stash_runs_after_a_grok_match_and_feeds_helpers(write: Write) -> None:
    runtime = runtime_with()
    chain = chain_of(write, """
        name: t/stash
        onsuccess: next_stage
        nodes:
          - grok:
              pattern: "^start %{WORD:program} pid %{NUM:pid}$"
              apply_on: Line.Raw
            stash:
              - name: pids
                key: evt.Parsed.pid
                value: evt.Parsed.program
                ttl: 90s
                size: 10
              - name: bad
                key: len(evt.Parsed.pid)
                value: evt.Parsed.program
                ttl: 1m
                strategy: LFU
          - grok:
              pattern: "^pid %{NUM:pid} did it$"
              apply_on: Line.Raw
              statics:
                - meta: prog
                  expression: GetFromStash("pids", evt.Parsed.pid)
    """, runtime)
    assert runtime.stash.has("pids") and runtime.stash.has("bad")
    chain.parse(event("start foo pid 12"))
    chain.parse(event("start bar pid 42"))
    chain.parse(event("pid 7 did it"))  # no grok match in the first child: no stash
    assert runtime.event_time_ns == 1_700_000_000 * 10**9  # the acquisition time
    assert stash_items(runtime, "pids", ["12", "42", "7"]) == {"12": "foo", "42": "bar"}
    assert runtime.stash.size_of("bad") == 0  # its key is not a string: skipped
    assert chain.parse(event("pid 42 did it")).Meta["prog"] == "bar"  # type: ignore[union-attr]
    assert "prog" not in chain.parse(event("pid 45 did it")).Meta  # type: ignore[union-attr]
    # entries expire on event time: 90s after they were set
    late = Event.from_line("pid 42 did it", source="s", module="file", labels={}, ingest_ts=1_700_000_091.0)
    assert "prog" not in chain.parse(late).Meta  # type: ignore[union-attr]


def test_stash_without_grok_runs_when_the_filter_passes(write: Write) -> None:
    runtime = runtime_with()
    chain = chain_of(write, """
        name: t/stash
        filter: "evt.Meta.k != ''"
        stash: [{name: s, key: evt.Meta.k, value: evt.Line.Raw, ttl: 1s}]
        statics: [{meta: done, value: "1"}]
    """, runtime)
    chain.parse(event("raw1", k="a"))
    chain.parse(event("raw2"))
    assert stash_items(runtime, "s", ["a", ""]) == {"a": "raw1"}


@pytest.mark.parametrize(("stash", "message"), [
    ("{key: a, value: b, ttl: 1m}", "stash[0].name: must be set"),
    ("{name: s, value: b, ttl: 1m}", "stash[0].key: must be set"),
    ("{name: s, key: a, value: b}", "stash[0].ttl: must be set"),
    ("{name: s, key: evt.Line.Raw, value: evt.Line.Raw, ttl: 1y}", "stash[0].ttl:"),
])
def test_invalid_stash(write: Write, stash: str, message: str) -> None:
    with pytest.raises(ContentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        chain_of(write, f"name: t/x\nstash: [{stash}]\nstatics: [{{meta: a, value: b}}]\n", runtime_with())


def test_data_sections_go_to_the_runtime(write: Write, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("alpha\nbeta\n")
    runtime = runtime_with(tmp_path / "data")
    path = write("p/s00-raw/a.yaml", """
        name: t/data
        data:
          - source_url: https://example.invalid/x.txt
            dest_file: x.txt
            type: string
        nodes:
          - data: [{dest_file: child-data-is-ignored.txt, type: string}]
            statics:
              - meta: listed
                expression: "evt.Line.Raw in File('x.txt') ? 'yes' : 'no'"
    """)
    chain = load_parsers([path], None, runtime=runtime)
    assert [chain.parse(event(raw)).Meta["listed"] for raw in ("beta", "gamma")] == ["yes", "no"]  # type: ignore[union-attr]
    with pytest.raises(ContentError, match="data"):
        load_parsers([path], None, runtime=runtime_with(tmp_path / "nowhere"))


def test_expressions_use_the_runtime_functions(write: Write) -> None:
    text = "name: t/x\nstatics: [{meta: m, expression: Marker()}]\n"
    chain = chain_of(write, text, runtime_with())
    assert chain.parse(event()).Meta["m"] == "from-runtime"  # type: ignore[union-attr]
    with pytest.raises(ContentError, match="Marker"):
        chain_of(write, text)


def test_content_load_creates_a_runtime(content_dir: Path) -> None:
    content = Content.load([content_dir / "parsers"], [content_dir / "scenarios"], content_dir / "patterns")
    assert isinstance(content.runtime, Runtime)
    runtime = Runtime()
    content = Content.load([content_dir / "parsers"], [content_dir / "scenarios"], content_dir / "patterns",
                           runtime=runtime)
    assert content.runtime is runtime


STATICS = """
    name: t/statics
    statics:
      - meta: int
        expression: 6 * 7
      - meta: float
        expression: 1.5 + 1
      - meta: string
        expression: "'s'"
      - meta: nil
        expression: evt.Unmarshaled.nope
      - meta: map
        expression: "{'a': 1}"
      - meta: list
        expression: "[1, 2]"
      - meta: empty
        value: ""
        expression: "''"
      - parsed: both
        meta: both
        value: parsed-wins
      - target: evt.Line.Labels.new
        value: label
      - target: Parsed.via_target
        value: p
      - target: StrTimeFormat
        value: layout
      - target: evt.NoSuchField
        value: x
      - target: Time
        value: not-a-string-field
      - method: NoSuchMethod
        value: x
      - method: GeoIpCity
        expression: evt.Meta.nope
"""


def test_static_results_and_targets(write: Write) -> None:
    evt = chain_of(write, STATICS).parse(event())
    assert evt is not None
    assert dict(evt.Meta) == {"int": "42", "float": "2.500000", "string": "s"}
    assert dict(evt.Parsed) == {"both": "parsed-wins", "via_target": "p"}
    assert evt.Line.Labels["new"] == "label" and evt.StrTimeFormat == "layout"
    assert dict(evt.Enriched) == {}


def test_parse_date_runs_even_with_an_empty_value(write: Write) -> None:
    chain = chain_of(write, """
        name: t/date
        statics:
          - method: ParseDate
            expression: evt.StrTime
          - target: evt.MarshaledTime
            expression: evt.Enriched.MarshaledTime
    """)
    evt = chain.parse(event())
    assert evt is not None
    # nothing to parse: the ingest time ("now")
    assert evt.Enriched["MarshaledTime"] == evt.MarshaledTime == "2023-11-14T22:13:20Z"


def test_a_bool_static_discards_the_event_and_is_not_observed(write: Write) -> None:
    chain = chain_of(write, """
        name: t/first
        statics: [{meta: a, value: "1"}]
        ---
        name: t/bool
        statics: [{meta: flag, expression: "true"}]
    """)
    seen: list[tuple[str, bool]] = []
    assert chain.parse(event(), lambda stage, name, evt, ok: seen.append((name, ok))) is None
    assert seen == [("t/first", True)]


def test_grok_subjects(write: Write) -> None:
    chain = chain_of(write, """
        name: t/expr
        grok:
          pattern: "^%{NUM:n}$"
          expression: len(evt.Line.Raw) * 2
        ---
        name: t/missing
        grok:
          pattern: "^%{REST:all}$"
          apply_on: nope
        statics: [{meta: missing, value: "ran"}]
        ---
        name: t/parsed
        grok:
          pattern: "^%{NUM:n2}$"
          apply_on: n
    """)
    seen: list[tuple[str, bool]] = []
    evt = chain.parse(event("abcd"), lambda stage, name, e, ok: seen.append((name, ok)))
    assert evt is not None and dict(evt.Parsed) == {"n": "8", "n2": "8"}
    assert seen == [("t/expr", True), ("t/missing", False), ("t/parsed", True)]
    assert "missing" not in evt.Meta


def test_the_observer_sees_live_events_and_changes_are_not_rolled_back(write: Write) -> None:
    chain = chain_of(write, """
        name: t/partial
        filter: "evt.Line.Raw != 'skip'"
        nodes:
          - statics: [{meta: child, value: "wrote"}]
          - filter: "false"
            statics: [{meta: never, value: "1"}]
        ---
        name: t/last
        filter: "false"
        statics: [{meta: never, value: "1"}]
    """)
    snapshots: list[tuple[str, bool, dict[str, str]]] = []
    live: list[Event] = []

    def observer(stage: str, name: str, evt: Event, ok: bool) -> None:
        live.append(evt)
        snapshots.append((name, ok, dict(evt.snapshot().Meta)))

    assert chain.parse(event("x"), observer) is None
    # the parent failed (its last child failed) but the first child's write stays
    assert snapshots == [("t/partial", False, {"child": "wrote"}), ("t/last", False, {"child": "wrote"})]
    assert live[0] is live[1]
    snapshots.clear()
    chain.parse(event("skip"), observer)
    assert snapshots == [("t/partial", False, {}), ("t/last", False, {})]


def test_pattern_syntax_is_shared_and_the_first_definition_wins(write: Write) -> None:
    files = [write("p/s00-raw/a.yaml", """
        name: t/a
        pattern_syntax: {MINE: "[a-z]+"}
        grok: {pattern: "^%{MINE:a}", apply_on: Line.Raw}
    """), write("p/s00-raw/b.yaml", """
        name: t/b
        pattern_syntax: {MINE: "[0-9]+"}
        grok: {pattern: "%{MINE:b}$", apply_on: Line.Raw}
    """)]
    chain = load_parsers(files, None, grok=GrokLibrary(GROK))
    evt = chain.parse(event("abc123xyz"))
    assert evt is not None and dict(evt.Parsed) == {"a": "abc", "b": "xyz"}


def test_hub_patterns_with_a_repeated_name_fail_to_load(tmp_path: Path, write: Write) -> None:
    patterns = tmp_path / "patterns"
    patterns.mkdir()
    (patterns / "a").write_text("X [a-z]+\n")
    (patterns / "b").write_text("X [0-9]+\n")
    path = write("p/s00-raw/a.yaml", "name: t/a\nstatics: [{meta: a, value: b}]\n")
    with pytest.raises(ContentError, match="'X' is already defined"):
        load_parsers([path], patterns)


@pytest.mark.parametrize(("version", "supported"), [
    ("1.0", True), ("2.0", True), ("3.0", True), ("3", True), ("v2.1.3", True), ("3.0.0.0", True),
    ("0.9", False), ("3.0.1", False), ("4.0", False), ("3.0-beta", False), ("1.0-rc1", False),
])
def test_node_format_versions(write: Write, version: str, supported: bool) -> None:
    chain = chain_of(write, f"name: t/v\nformat: {version}\nstatics: [{{meta: a, value: b}}]\n")
    assert [n.name for n in chain.nodes.get("s00-raw", ())] == (["t/v"] if supported else [])


def test_invalid_node_format_is_an_error(write: Write) -> None:
    with pytest.raises(ContentError, match="format: malformed version"):
        chain_of(write, "name: t/v\nformat: latest\nstatics: [{meta: a, value: b}]\n")


def test_float_statics_print_like_go(write: Write) -> None:
    from engine.parser.statics import go_float
    assert [go_float(v) for v in (0.1, -2.0, 1e21, float("inf"), float("-inf"), float("nan"))] == [
        "0.100000", "-2.000000", "1000000000000000000000.000000", "+Inf", "-Inf", "NaN"]
