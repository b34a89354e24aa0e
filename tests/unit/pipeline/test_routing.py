"""The route stage: a raw batch → pour messages per pours partition, each pour with an origin
of its own — a line routed to several bucket keys on one partition must reach all of them."""
from __future__ import annotations

import textwrap
from pathlib import Path

from engine.content import Content
from engine.parser import load_parsers
from engine.scenario import load_scenarios
from pipeline.bucket_stage import BucketStage, decode_row
from pipeline.routing import route_batch
from pipeline.settings import PipelineSettings
from topics.keys import partition_for
from topics.names import TopicNames
from topics.records import Origin, RawBatch, RawLine

PARTITIONS = 4
T0 = 1795327200.0  # 2026-11-22T06:00:00Z

PARSER = r"""
name: t/parse
filter: "1 == 1"
onsuccess: next_stage
pattern_syntax:
  NAME: '\w+'
  ADDR: '[0-9.]+'
grok:
  pattern: 'fail user=%{NAME:user} ip=%{ADDR:ip}'
  apply_on: Line.Raw
statics:
  - meta: source_ip
    expression: evt.Parsed.ip
  - meta: user
    expression: evt.Parsed.user
"""
BY_IP = """
type: leaky
name: t/by-ip
description: d
filter: "evt.Meta.source_ip != ''"
groupby: evt.Meta.source_ip
capacity: 5
leakspeed: 10s
"""
BY_USER = """
type: leaky
name: t/by-user
description: d
filter: "evt.Meta.user != ''"
groupby: evt.Meta.user
capacity: 5
leakspeed: 10s
"""


def content(tmp_path: Path) -> Content:
    node = tmp_path / "parsers" / "s01-parse" / "p.yaml"
    node.parent.mkdir(parents=True)
    node.write_text(textwrap.dedent(PARSER))
    scenarios = []
    for name, doc in (("ip", BY_IP), ("user", BY_USER)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(doc))
        scenarios.append(path)
    return Content(load_parsers([tmp_path / "parsers"], None), load_scenarios(scenarios))


def settings() -> PipelineSettings:
    return PipelineSettings(bootstrap_servers="unused:9092", topics=TopicNames("t"),
                            partitions=PARTITIONS)


def test_a_line_routed_to_two_keys_of_one_partition_pours_into_both(tmp_path: Path) -> None:
    ip = "203.0.113.7"
    user = next(u for u in (f"user{n}" for n in range(100))
                if partition_for(u, PARTITIONS) == partition_for(ip, PARTITIONS))
    loaded = content(tmp_path)
    lines = [RawLine(f"fail user={user} ip={ip}", T0 + n) for n in range(2)]
    routed = route_batch(loaded, RawBatch("/var/log/auth.log", "file", {"type": "syslog"}, lines),
                         settings(), "r1", 7)

    [(partition, batch)] = routed
    assert partition == partition_for(ip, PARTITIONS)
    stream = routed[0][1].pours[0].origin.stream
    assert stream.startswith("r1:")
    assert [(p.key, p.scenarios, p.origin) for p in batch.pours] == [
        (ip, ["t/by-ip"], Origin(stream, 7, 0)), (user, ["t/by-user"], Origin(stream, 7, 1)),
        (ip, ["t/by-ip"], Origin(stream, 7, 2)), (user, ["t/by-user"], Origin(stream, 7, 3))]

    table: dict[str, bytes] = {}
    out = BucketStage(loaded, PARTITIONS, None).pour_batch(partition, 0, batch, table.get)
    for key in (ip, user):
        states, origins = decode_row(out.writes[key])
        assert origins == {stream: [7, 3 if key == user else 2]}
        [state] = states.values()
        assert state["bucket"]["count"] == 2
