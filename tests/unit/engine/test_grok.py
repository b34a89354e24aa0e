"""Grok translation and pattern libraries."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import re2
from engine.grok import GrokError, GrokLibrary
from engine.spec import load_documents
from tests.support.shared import HUB as SHARED_HUB

HUB = SHARED_HUB


def lib(**patterns: str) -> GrokLibrary:
    return GrokLibrary(patterns)


def test_named_and_anonymous_references() -> None:
    g = lib(NUM="[0-9]+", WORD=r"\w+", PAIR="%{WORD:key}=%{NUM:value}")
    p = g.compile("^%{PAIR} %{NUM}$")
    assert p.fields == ("key", "value")
    assert p.parse("port=22 7") == {"key": "port", "value": "22"}
    assert p.parse("port=x 7") is None
    # grokky only knows %{NAME} and %{NAME:field}: %{NUM:n:int} stays regex text ("{" literal)
    typed = g.compile("%{NUM:n:int}")
    assert typed.fields == ()
    assert typed.parse("a 42") is None and typed.parse("%{NUM:n:int}") is None


def test_non_participating_groups_give_empty_strings() -> None:
    g = lib(NUM="[0-9]+", WORD="[a-z]+")
    p = g.compile("^(?:%{NUM:number}|%{WORD:word})$")
    assert p.parse("abc") == {"number": "", "word": "abc"}
    assert p.parse("12") == {"number": "12", "word": ""}


def test_pattern_without_fields_never_matches() -> None:
    # grokky returns an empty map, which CrowdSec treats as a failed grok
    g = lib(NUM="[0-9]+")
    assert g.compile("^%{NUM}$").parse("12") is None
    assert g.compile("^[0-9]+$").parse("12") is None


def test_field_priority_follows_grokky() -> None:
    g = lib(
        A="[a-z]+",
        B="[0-9]+",
        INNER="(?:%{A:x})",
    )
    # own level beats a nested capture of the same name
    own = g.compile("%{INNER} %{B:x}")
    assert own.parse("abc 12") == {"x": "12"}
    own_first = g.compile("%{B:x} %{INNER}")
    assert own_first.parse("12 abc") == {"x": "12"}
    # among captures at one level, the last one wins (even when it did not participate)
    last = g.compile("(?:%{A:x}|%{B:x})")
    assert last.parse("abc") == {"x": ""}
    assert last.parse("12") == {"x": "12"}


def test_references_must_exist_when_a_pattern_is_added() -> None:
    # grokky compiles a pattern when it is added: a name defined later does not exist yet,
    # which also makes reference cycles impossible
    g = GrokLibrary()
    with pytest.raises(GrokError, match="the 'B' pattern doesn't exist"):
        g.add("A", "%{B}")
    assert "A" not in g
    g.add("B", "b")
    g.add("A", "%{B}")
    with pytest.raises(GrokError, match="'MISSING' pattern doesn't exist"):
        g.compile("x%{MISSING}")
    with pytest.raises(GrokError, match="'NOPE' is not defined"):
        g.get("NOPE")
    with pytest.raises(GrokError, match="missing closing"):
        g.add("BAD", "a(b")
    assert "BAD" not in g


def test_group_numbers_follow_grokkys_count_quirks() -> None:
    # grokky counts the groups of literal text with a heuristic: "s)" looks like a flags group
    # "(?s)" to it, so the field after it points one group too early
    g = lib(W="[a-z]+")
    p = g.compile(r"(\s)%{W:word}")
    assert p.parse(" abc") == {"word": " "}
    # a character class with "(" counts as a group: the field points one group too late,
    # here past the last group, and reads ""
    q = g.compile(r"[(]%{W:word}")
    assert q.parse("(abc") == {"word": ""}
    # real captures in the literal text are counted and skipped
    r = g.compile(r"(a|b)-%{W:word}")
    assert r.parse("a-xyz") == {"word": "xyz"}


def test_first_definition_wins() -> None:
    g = GrokLibrary()
    assert g.add("X", "a") is True
    assert g.add("X", "b") is False
    assert g.compile("%{X:v}").parse("b a") == {"v": "a"}


def test_re2_syntax_inside_patterns() -> None:
    g = lib(NAMED=r"(?P<ignored>[0-9]+)\z", CI="(?i)abc")
    assert g.compile("%{NAMED:n}").parse("x 42") == {"n": "42"}
    assert g.compile("%{NAMED:n}").parse("42\n") is None
    assert g.compile("^%{CI:c}$").parse("AbC") == {"c": "AbC"}
    with pytest.raises(GrokError, match="not RE2"):
        lib(BAD="(?=x)").get("BAD")


def test_pattern_files_skip_names_with_a_dot(tmp_path: Path) -> None:
    (tmp_path / "base").write_text("# comment\nNUM [0-9]+\n\nnot a pattern line\nIP %{NUM}(?:\\.%{NUM}){3}\n")
    (tmp_path / "LICENSE.txt").write_text("NUM should not load\n")
    g = GrokLibrary.from_dir(tmp_path)
    assert len(g) == 3  # NUM, IP, "not" (a "NAME regex" line, as grokky reads it)
    assert g.compile("%{IP:ip}").parse("from 10.0.0.1") == {"ip": "10.0.0.1"}
    assert g.compile("^%{not:x}$").parse("a pattern line") == {"x": "a pattern line"}


def test_pattern_files_may_not_redefine_a_name(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("NUM [0-9]+\n")
    (tmp_path / "b").write_text("# x\nNUM [a-z]+\n")
    with pytest.raises(GrokError, match=r"b:2: grok pattern 'NUM' is already defined"):
        GrokLibrary.from_dir(tmp_path)
    (tmp_path / "b").write_text("WORD %{NOPE}\n")
    with pytest.raises(GrokError, match=r"b:1: .*'NOPE' pattern doesn't exist"):
        GrokLibrary.from_dir(tmp_path)


def test_default_content_patterns_compile(content_dir: Path) -> None:
    g = GrokLibrary.from_dir(content_dir / "patterns")
    line = g.compile("^%{CS_SYSLOG_LINE}$")
    assert line.parse("Nov 22 06:10:08 host sshd[1234]: Failed password for root from 203.0.113.7 port 4242 ssh2") == {
        "syslog_priority": "", "timestamp": "Nov 22 06:10:08", "timestamp8601": "", "logsource": "host",
        "program": "sshd", "pid": "1234",
        "message": "Failed password for root from 203.0.113.7 port 4242 ssh2"}
    assert line.parse("<38>2026-11-22T06:10:08.5+01:00 fw kernel: drop")["timestamp8601"] == "2026-11-22T06:10:08.5+01:00"
    fail = g.get("CS_SSHD_FAILED_AUTH")
    assert fail.parse("Failed publickey for invalid user git from 2001:db8::7 port 51234 ssh2") == {
        "sshd_auth_method": "publickey", "sshd_invalid_user": "git", "sshd_client_ip": "2001:db8::7"}


@pytest.mark.skipif(not HUB.exists(), reason="the shared CrowdSec hub is not available")
def test_hub_patterns_load_and_the_sshd_parser_patterns_compile() -> None:
    g = GrokLibrary.from_dir(HUB / "patterns")
    assert len(g) >= 390
    parser = load_documents(HUB / "hub/parsers/s01-parse/crowdsecurity/sshd-logs.yaml")[0]
    g.add_many(parser.pairs("pattern_syntax"))
    names = [node.map("grok").str("name") for node in parser.maps("nodes")]  # type: ignore[union-attr]
    assert len(names) == 16
    compiled = {name: g.get(name) for name in names}
    assert compiled["SSHD_INVALID_USER"].parse("Invalid user pascal from 35.188.49.176 port 53502") == {
        "sshd_invalid_user": "pascal", "sshd_client_ip": "35.188.49.176"}
    assert compiled["SSHD_FAIL"].parse("Failed password for root from 203.0.113.7 port 4242 ssh2") == {
        "sshd_auth_type": "password", "sshd_invalid_user": "root", "sshd_client_ip": "203.0.113.7",
        "sshd_port": "4242", "sshd_protocol": "ssh2"}
    syslog = g.compile("^%{SYSLOGLINE}")
    assert syslog.parse("Feb 12 14:10:21 sd-126005 sshd[16378]: Invalid user pascal from 35.188.49.176")["program"] == "sshd"


def test_re2_capture_numbering_for_grok() -> None:
    # groups are numbered as RE2 numbers them; by default they do not capture
    assert re2.translate("(a)(?:b)(?P<n>c)(?i)d") == "(?:a)(?:b)(?:c)(?i:d)"
    assert re2.translate("(a)(?:b)(?P<n>c)", lambda n: f"(?P<g{n}>") == "(?P<g1>a)(?:b)(?P<g2>c)"
    assert re2.count_groups(r"(a)\((b|[(])(?<x>c)") == 3


def test_library_copies_are_independent() -> None:
    base = lib(NUM="[0-9]+")
    copy = base.copy()
    assert copy.add("WORD", "[a-z]+") and "WORD" not in base
    assert copy.compile("%{NUM:n}").parse("7") == {"n": "7"}
