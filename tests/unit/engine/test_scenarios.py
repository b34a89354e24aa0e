"""Scenario loading: strict spec, validation, compiled fields."""
from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.scenario import Scope, load_scenarios
from engine.spec import ContentError

Write = Callable[[str, str], Path]

LEAKY = textwrap.dedent("""
    type: leaky
    name: t/leaky
    description: "a leaky bucket"
    filter: "evt.Meta.log_type == 'x'"
    groupby: evt.Meta.source_ip
    capacity: 5
    leakspeed: 10s
    blackhole: 1m
    labels:
      remediation: true
      confidence: 3
      classification: [attack.T1110]
""")


def test_compiled_fields(write: Write) -> None:
    path = write("scenarios/a.yaml", LEAKY + textwrap.dedent("""
        ---
        type: trigger
        name: t/trigger
        description: "a trigger"
        filter: "true"
        scope:
          type: username
          expression: evt.Meta.user
        version: "1.2"
        references: [http://example.com]
        reprocess: true
        debug: true
        format: 2.0
    """))
    leaky, trigger = load_scenarios([path])
    assert (leaky.name, leaky.type, leaky.capacity, leaky.leakspeed_ns, leaky.blackhole_ns) == (
        "t/leaky", "leaky", 5, 10_000_000_000, 60_000_000_000)
    assert leaky.leakspeed == "10s" and leaky.rate == 0.1 and leaky.queue_size == 5
    assert leaky.labels == {"remediation": True, "confidence": 3, "classification": ["attack.T1110"]}
    assert leaky.remediation is True
    assert leaky.scope == Scope("Ip", None) and leaky.version == "?" and leaky.distinct is None
    assert leaky.hash == hashlib.sha256(path.read_bytes()).hexdigest() == trigger.hash
    assert (trigger.type, trigger.capacity, trigger.leakspeed, trigger.version) == ("trigger", 0, "0s", "1.2")
    assert trigger.scope.type == "username" and trigger.scope.expression is not None
    assert trigger.reprocess is True and trigger.references == ("http://example.com",)
    assert trigger.remediation is False


def test_remediation_needs_a_real_true(write: Write) -> None:
    path = write("s.yaml", LEAKY.replace("remediation: true", "remediation: 'true'"))
    assert load_scenarios([path])[0].remediation is False


def test_directories_load_in_name_order(write: Write, tmp_path: Path) -> None:
    write("scenarios/b.yaml", LEAKY.replace("t/leaky", "t/b"))
    write("scenarios/sub/a.yml", LEAKY.replace("t/leaky", "t/a"))
    write("scenarios/readme.md", "not a scenario")
    assert [s.name for s in load_scenarios([tmp_path / "scenarios"])] == ["t/b", "t/a"]


@pytest.mark.parametrize(("change", "message"), [
    (("capacity: 5", "capacity: 5\ncapacty: 5"), "capacty: unknown key"),
    (("capacity: 5", "capacity: 5\ncancel_on: queue.Queue"), "cancel_on: invalid expression: unknown name queue"),
    (("capacity: 5", "capacity: 5\ncondition: len(queue.Queue) >"), "condition: invalid expression"),
    (("capacity: 5", "capacity: 5\noverflow_filter: len(signal.X) && leaky2"),
     "overflow_filter: invalid expression: unknown name leaky2"),
    (("capacity: 5", "capacity: 5\nduration: ages"), "duration: invalid duration 'ages'"),
    (("type: leaky", "type: conditional"), "conditional bucket: a condition is required"),
    (("type: leaky", "type: counter"), "counter bucket: invalid capacity '5': must be -1"),
    (("type: leaky", "type: bayesian"), "bayesian_conditions: is required"),
    (("capacity: 5", "capacity: 5\ndata: [1]"), "data: each entry must be a mapping"),
    (("type: leaky", "type: leakyy"), "type: unknown bucket type 'leakyy'"),
    (("capacity: 5", "capacity: 0"), "leaky bucket: invalid capacity '0': must be > 0"),
    (("capacity: 5", "capacity: '5'"), "capacity: expected an integer, got '5'"),
    (("leakspeed: 10s", "leakspeed: 10"), "leakspeed: missing unit in duration '10'"),
    (("leakspeed: 10s", "leakspeed: ''"), "leaky bucket: leakspeed is required"),
    (("blackhole: 1m", "blackhole: forever"), "blackhole: invalid duration 'forever'"),
    (('filter: "evt.Meta.log_type == \'x\'"', "filter: ''"), "filter: is required"),
    (('filter: "evt.Meta.log_type == \'x\'"', "filter: 'evt.Meta.log_type =='"), "filter: invalid expression"),
    (("groupby: evt.Meta.source_ip", "groupby: meta.source_ip"), "groupby: invalid expression: unknown name meta"),
    (("name: t/leaky", "name: ''"), "name: is required"),
    (('description: "a leaky bucket"', "description: ''"), "description: is required"),
    (("capacity: 5", "capacity: 5\nscope: {type: Ip, expression: evt.Meta.x}"),
     "scope.expression: is not allowed for the Ip scope"),
    (("capacity: 5", "capacity: 5\nscope: {type: user}"), "scope.expression: is required for the user scope"),
    (("capacity: 5", "capacity: 5\nscope: {type: Ip, filter: x}"), "scope.filter: unknown key"),
])
def test_invalid_scenarios_name_file_and_key(write: Write, change: tuple[str, str], message: str) -> None:
    path = write("bad.yaml", LEAKY.replace(*change))
    with pytest.raises(ContentError) as info:
        load_scenarios([path])
    assert re.match(rf"{re.escape(str(path))}:\d+: ", str(info.value)), str(info.value)
    assert message in str(info.value)


def test_errors_give_the_line_of_the_key(write: Write) -> None:
    path = write("bad.yaml", LEAKY.replace("capacity: 5", "capacity: 5\ncapacty: 5"))
    line = path.read_text().splitlines().index("capacty: 5") + 1
    with pytest.raises(ContentError) as info:
        load_scenarios([path])
    assert str(info.value) == f"{path}:{line}: capacty: unknown key"


def test_trigger_needs_zero_capacity(write: Write) -> None:
    path = write("t.yaml", "type: trigger\nname: t/t\ndescription: d\nfilter: 'true'\ncapacity: 1\n")
    with pytest.raises(ContentError, match="trigger bucket: invalid capacity '1': must be 0"):
        load_scenarios([path])

def test_repeated_names_get_unique_ids(write: Write) -> None:
    twice = write("twice.yaml", LEAKY + "\n---\n" + LEAKY.replace("capacity: 5", "capacity: 2"))
    first, second = load_scenarios([twice, write("other.yaml", LEAKY)])[:2]
    assert (first.name, first.id, first.capacity) == ("t/leaky", "t/leaky", 5)
    assert (second.name, second.id, second.capacity) == ("t/leaky", "t/leaky#2", 2)
    assert [s.id for s in load_scenarios([twice, write("other.yaml", LEAKY)])] == ["t/leaky", "t/leaky#2", "t/leaky#3"]
