"""Parser nodes and stages on small YAML files written by the tests."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.event import Event
from engine.grok import GrokLibrary
from engine.parser import load_parsers
from engine.spec import ContentError

Write = Callable[[str, str], Path]
GROK = {"WORD": r"\w+", "NUM": "[0-9]+", "DATA": ".*?", "REST": ".*"}


def chain_of(write: Write, files: dict[str, str]):  # noqa: ANN202
    paths = [write(name, text) for name, text in files.items()]
    return load_parsers(paths, None, grok=GrokLibrary(GROK))


def event(raw: str, **labels: str) -> Event:
    return Event.from_line(raw, source="/var/log/x.log", module="file", labels=labels or {"type": "test"},
                           ingest_ts=1_700_000_000.0)


def test_filter_grok_and_statics(write: Write) -> None:
    chain = chain_of(write, {"p/s00-raw/a.yaml": """
        name: t/a
        filter: "evt.Line.Labels.type == 'test'"
        onsuccess: next_stage
        grok:
          pattern: "^user=%{WORD:user} n=%{NUM:n}$"
          apply_on: Line.Raw
          statics:
            - meta: from_grok
              value: "yes"
        statics:
          - meta: user
            expression: evt.Parsed.user
          - parsed: twice
            expression: int(evt.Parsed.n) * 2
          - parsed: half
            expression: int(evt.Parsed.n) / 4
          - meta: number_text
            value: 0.10
          - target: evt.StrTime
            value: "2026-01-02T03:04:05Z"
          - meta: empty_is_skipped
            expression: evt.Parsed.nope
          - meta: nil_is_skipped
            expression: evt.Unmarshaled.nope
          - meta: error_is_skipped
            expression: evt.Unmarshaled.nope.deeper
    """})
    evt = chain.parse(event("user=bob n=21"))
    assert evt is not None and evt.Process is True and evt.Stage == "s00-raw"
    assert dict(evt.Parsed) == {"user": "bob", "n": "21", "twice": "42", "half": "5.250000"}
    assert dict(evt.Meta) == {"from_grok": "yes", "user": "bob", "number_text": "0.10"}
    assert evt.StrTime == "2026-01-02T03:04:05Z"
    assert chain.parse(event("user=bob n=21", type="other")) is None  # filter false
    assert chain.parse(event("user=bob")) is None  # grok fails


def test_a_bool_static_discards_the_event(write: Write) -> None:
    chain = chain_of(write, {"p/s00-raw/a.yaml": """
        name: t/a
        statics:
          - meta: flag
            expression: evt.Line.Raw == 'x'
    """})
    assert chain.parse(event("x")) is None


def test_stage_needs_next_stage_to_continue(write: Write) -> None:
    files = {
        "p/s00-raw/a.yaml": """
            name: t/raw
            onsuccess: next_stage
            grok:
              pattern: "^%{WORD:program}: %{REST:message}$"
              apply_on: Line.Raw
        """,
        "p/s01-parse/b.yaml": """
            name: t/continue-only
            filter: "evt.Parsed.program == 'cont'"
            statics:
              - meta: seen
                value: "1"
            ---
            name: t/next
            filter: "evt.Parsed.program == 'next'"
            onsuccess: next_stage
            statics:
              - meta: seen
                value: "2"
        """,
        "p/s02-enrich/c.yaml": """
            name: t/enrich
            statics:
              - meta: enriched
                value: "yes"
        """,
    }
    chain = chain_of(write, files)
    assert chain.stages == ("s00-raw", "s01-parse", "s02-enrich")
    evt = chain.parse(event("next: hello"))
    assert evt is not None and dict(evt.Meta) == {"seen": "2", "enriched": "yes"}
    assert evt.Stage == "s02-enrich"
    # succeeded with onsuccess: continue only, so the event never reaches s02: dropped
    assert chain.parse(event("cont: hello")) is None
    # no node of s01 succeeds: dropped
    assert chain.parse(event("other: hello")) is None


def test_observer_sees_every_node_tried(write: Write) -> None:
    chain = chain_of(write, {"p/s00-raw/a.yaml": """
        name: t/first
        filter: "false"
        statics:
          - meta: a
            value: "1"
        ---
        name: t/second
        onsuccess: next_stage
        statics:
          - meta: b
            value: "2"
        ---
        name: t/never
        statics:
          - meta: c
            value: "3"
    """})
    seen: list[tuple[str, str, bool]] = []
    chain.parse(event("x"), observer=lambda stage, name, evt, ok: seen.append((stage, name, ok)))
    assert seen == [("s00-raw", "t/first", False), ("s00-raw", "t/second", True)]


def test_child_nodes(write: Write) -> None:
    chain = chain_of(write, {"p/s00-raw/a.yaml": """
        name: t/parent
        onsuccess: next_stage
        nodes:
          - filter: "evt.Line.Raw startsWith 'a'"
            statics:
              - meta: child
                value: a
          - filter: "evt.Line.Raw contains 'b'"
            statics:
              - meta: child
                value: b
        statics:
          - meta: parent
            value: done
    """})
    # with next_stage the first successful child ends the loop
    evt = chain.parse(event("ab"))
    assert evt is not None and dict(evt.Meta) == {"child": "a", "parent": "done"}
    evt = chain.parse(event("xb"))
    assert evt is not None and dict(evt.Meta) == {"child": "b", "parent": "done"}
    assert chain.parse(event("xx")) is None
    assert [c.name for c in chain.nodes["s00-raw"][0].children] == ["child-t/parent", "child-t/parent"]


def test_children_without_grok_parent_last_child_decides(write: Write) -> None:
    # onsuccess: continue → every child runs; with no grok the last child's result counts
    chain = chain_of(write, {"p/s00-raw/a.yaml": """
        name: t/parent
        nodes:
          - filter: "evt.Line.Raw == 'a'"
            statics:
              - meta: first
                value: "1"
          - filter: "evt.Line.Raw == 'b'"
            statics:
              - meta: second
                value: "1"
    """})
    assert chain.parse(event("b")) is not None
    failed = event("a")
    assert chain.parse(failed) is None
    assert dict(failed.Meta) == {"first": "1"}  # changes are never rolled back


def test_grok_parent_stays_successful_when_children_fail(write: Write) -> None:
    chain = chain_of(write, {"p/s00-raw/a.yaml": """
        name: t/parent
        grok:
          pattern: "^%{WORD:word}$"
          apply_on: Line.Raw
        nodes:
          - filter: "evt.Parsed.word == 'special'"
            statics:
              - meta: special
                value: "yes"
        statics:
          - meta: word
            expression: evt.Parsed.word
    """})
    evt = chain.parse(event("plain"))
    assert evt is not None and dict(evt.Meta) == {"word": "plain"}
    evt = chain.parse(event("special"))
    assert evt is not None and dict(evt.Meta) == {"special": "yes", "word": "special"}


def test_grok_apply_on_a_parsed_field_and_pattern_syntax(write: Write) -> None:
    chain = chain_of(write, {"p/s00-raw/a.yaml": """
        name: t/raw
        grok:
          pattern: "^%{WORD:program}: %{REST:message}$"
          apply_on: Line.Raw
        ---
        name: t/sub
        onsuccess: next_stage
        pattern_syntax:
          GREETING: "hello %{WORD:who}"
        grok:
          name: GREETING
          apply_on: message
    """, "p/s01-parse/b.yaml": """
        name: t/missing-field
        onsuccess: next_stage
        grok:
          pattern: "%{WORD:x}"
          apply_on: nope
    """})
    evt = event("app: hello world")
    assert chain.parse(evt) is None  # s01 applies on a Parsed key that does not exist
    assert evt.Parsed["who"] == "world"
    assert evt.Stage == "s01-parse"


@pytest.mark.parametrize(("text", "message"), [
    ("name: t/x\nfitler: 'true'\nstatics: [{meta: a, value: b}]\n", "document: fitler: unknown key"),
    ("name: t/x\nwhitelist: {reason: r, ip: [1.2.3.400]}\n", "whitelist.ip: invalid address '1.2.3.400'"),
    ("name: t/x\nwhitelist: {reason: r, cidr: [1.2.3.0/33]}\n", "whitelist.cidr: invalid range '1.2.3.0/33'"),
    ("name: t/x\nwhitelist: {reason: r, ips: [1.2.3.4]}\n", "whitelist.ips: unknown key"),
    ("name: t/x\nwhitelist: {reason: r}\n", "node is empty"),
    ("name: t/x\nstatics: [{enriched: a, value: b}]\n", "statics[0]: a static needs one of meta, parsed, target or method"),
    ("name: t/x\nonsuccess: next\nstatics: [{meta: a, value: b}]\n", "onsuccess: must be continue or next_stage"),
    ("name: t/x\nfilter: 'evt.'\nstatics: [{meta: a, value: b}]\n", "filter: invalid expression: expected name"),
    ("name: t/x\nfilter: 'foo == 1'\nstatics: [{meta: a, value: b}]\n", "filter: invalid expression: unknown name foo"),
    ("name: t/x\nfilter: 'true'\n", "node is empty"),
    ("name: t/x\nstatics: [{meta: a}]\n", "statics[0]: a static needs 'value' or 'expression'"),
    ("name: t/x\nstatics: [{value: a}]\n", "statics[0]: a static needs one of meta"),
    ("name: t/x\nstatics: [{method: GeoIpCity}]\n", "statics[0]: a static needs 'value' or 'expression'"),
    ("name: t/x\ngrok: {pattern: '%{NOPE:x}', apply_on: Line.Raw}\n", "grok.pattern: grok pattern '%{NOPE:x}': the 'NOPE' pattern doesn't exist"),
    ("name: t/x\npattern_syntax: {A: '%{NOPE}'}\nstatics: [{meta: a, value: b}]\n",
     "pattern_syntax.A: grok pattern 'A': the 'NOPE' pattern doesn't exist"),
    ("name: t/x\nstash: [{name: s, key: evt.Line.Raw, value: evt.Line.Raw, ttl: soon}]\n", "ttl: "),
    ("name: t/x\ndata: [{dest_file: x.txt, type: string}]\nstatics: [{meta: a, value: b}]\n",
     "data: x.txt: no data directory configured"),
    ("name: t/x\ngrok: {pattern: '%{WORD:x}'}\n", "grok: grok requires 'expression' or 'apply_on'"),
    ("name: t/x\nnodes: [{grok: {apply_on: Line.Raw}}]\n", "nodes[0].grok: grok needs 'pattern' or 'name'"),
    ("name: t/x\nname: t/y\n", "name: key is repeated"),
    ("name: [t/x\n", "invalid YAML"),
])
def test_invalid_nodes_name_file_and_key(write: Write, text: str, message: str) -> None:
    path = write("p/s00-raw/bad.yaml", text)
    with pytest.raises(ContentError) as info:
        load_parsers([path], None, grok=GrokLibrary(GROK))
    assert str(info.value).startswith(str(path))
    assert message.replace("document: ", "") in str(info.value)


def test_documents_without_name_are_skipped_and_stages_come_from_directories(write: Write, tmp_path: Path) -> None:
    write("parsers/s01-parse/author/b.yaml", """
        name: t/b
        onsuccess: next_stage
        statics: [{meta: b, value: "1"}]
    """)
    write("parsers/s00-raw/a.yaml", """
        filter: "true"
        statics: [{meta: skipped, value: "1"}]
        ---
        description: "a node without a name still loads"
        onsuccess: next_stage
        statics: [{meta: a, value: "1"}]
    """)
    write("parsers/s00-raw/notes.txt", "not yaml")
    chain = load_parsers([tmp_path / "parsers"], None, grok=GrokLibrary(GROK))
    assert chain.stages == ("s00-raw", "s01-parse")
    assert [n.name for n in chain.nodes["s00-raw"]] == [""]
    evt = chain.parse(event("x"))
    assert evt is not None and dict(evt.Meta) == {"a": "1", "b": "1"}
    # a single stage directory, and a file whose stage is its parent directory
    assert load_parsers([tmp_path / "parsers" / "s01-parse"], None).stages == ("s01-parse",)
    assert load_parsers([tmp_path / "parsers/s01-parse/author/b.yaml"], None).stages == ("s01-parse",)
    with pytest.raises(ContentError, match="cannot tell the parser stage"):
        load_parsers([write("elsewhere/c.yaml", "name: x\n")], None)
