"""The bucket stage without Kafka: redelivered pours are skipped, ticks expire and collect
keys, postoverflows filter and rewrite alerts, reprocess re-pours."""
from __future__ import annotations

import textwrap
from pathlib import Path

import orjson
import pytest

from engine.content import Content
from engine.gotime import GoTime
from engine.parser import ParserChain, load_parsers
from engine.scenario import load_scenarios
from pipeline.bucket_stage import BucketStage, decode_row, is_bucket_key
from topics.keys import partition_for
from topics.records import Origin, Pour, PourBatch

T0 = 1795327200.0  # 2026-11-22T06:00:00Z
PARTITIONS = 4

LEAKY = """
type: leaky
name: t/leaky
description: d
filter: "evt.Meta.kind == 'fail'"
groupby: evt.Meta.source_ip
capacity: 2
leakspeed: 10s
blackhole: 1m
"""
COUNTER = """
type: counter
name: t/counter
description: d
filter: "evt.Meta.kind == 'hit'"
groupby: evt.Meta.source_ip
duration: 30s
capacity: -1
"""
REPROCESS = """
type: trigger
name: t/first
description: d
filter: "evt.Meta.kind == 'probe'"
groupby: evt.Meta.source_ip
reprocess: true
"""
SECOND = """
type: trigger
name: t/second
description: d
filter: "evt.Overflow.Alert.GetScenario() == 't/first'"
"""


class Table(dict[str, bytes]):
    """The table as the stage sees it: get, items, and the caller applying writes."""

    def apply(self, writes: dict[str, bytes | None]) -> None:
        for key, value in writes.items():
            if value is None:
                self.pop(key, None)
            else:
                self[key] = value


def make_stage(tmp_path: Path, *docs: str, lag: float | None = None,
               postoverflows: str | None = None) -> BucketStage:
    files = []
    for i, doc in enumerate(docs):
        path = tmp_path / f"s{i}.yaml"
        path.write_text(textwrap.dedent(doc))
        files.append(path)
    post = None
    if postoverflows is not None:
        node = tmp_path / "post" / "s01-whitelist" / "w.yaml"
        node.parent.mkdir(parents=True)
        node.write_text(textwrap.dedent(postoverflows))
        post = load_parsers([tmp_path / "post"], None)
    content = Content(ParserChain([]), load_scenarios(files), None, post)
    return BucketStage(content, PARTITIONS, lag)


def pour(ip: str, second: float, kind: str, scenarios: list[str], origin: Origin | None) -> Pour:
    ts = T0 + second
    event = {"time": GoTime.from_unix(ts).marshal_text(), "meta": {"source_ip": ip, "kind": kind}}
    return Pour(ip, scenarios, ts, event, origin)


def fails(ip: str, seconds: list[float], offset: int) -> PourBatch:
    return PourBatch([pour(ip, s, "fail", ["t/leaky"], Origin("r0", offset, i))
                      for i, s in enumerate(seconds)])


def test_a_redelivered_pour_changes_nothing_and_alerts_keep_their_uuid(tmp_path: Path) -> None:
    stage, table = make_stage(tmp_path, LEAKY), Table()
    ip = "203.0.113.7"
    p = partition_for(ip, PARTITIONS)
    first = stage.pour_batch(p, 10, fails(ip, [0, 1], offset=5), table.get)
    assert first.alerts == [] and first.repours == []
    table.apply(first.writes)
    states, origins = decode_row(table[ip])
    assert origins == {"r0": [5, 1]} and states["t/leaky"]["bucket"]["count"] == 2
    # the same raw message again (a crash before its offset was committed): skipped
    again = stage.pour_batch(p, 11, fails(ip, [0, 1], offset=5), table.get)
    assert decode_row(again.writes[ip]) == (states, origins)
    # the third failure overflows
    third_pour = PourBatch([pour(ip, 2, "fail", ["t/leaky"], Origin("r0", 6, 0))])
    third = stage.pour_batch(p, 12, third_pour, table.get)
    assert [(a["scenario"], a["events_count"], a["start_at"], a["stop_at"]) for a in third.alerts] == [
        ("t/leaky", 3, "2026-11-22T06:00:00Z", "2026-11-22T06:00:02Z")]
    # a crash after the alert was delivered, before the writes: the next worker recomputes
    # the very same alert
    assert make_stage(tmp_path, LEAKY).pour_batch(p, 12, third_pour, table.get).alerts == third.alerts
    table.apply(third.writes)
    assert decode_row(table[ip])[0] == {"t/leaky": {"blackhole_until_ns": int((T0 + 62) * 1e9)}}
    # once the key is gone (collected), the partition's marks still reject the redelivery
    del table[ip]
    assert make_stage(tmp_path, LEAKY).pour_batch(p, 13, fails(ip, [0, 1], offset=5), table.get).writes == {
        ip: None, f"\x00partition:{p}": table[f"\x00partition:{p}"]}


def test_ticks_expire_fire_counters_and_collect_idle_keys(tmp_path: Path) -> None:
    stage, table = make_stage(tmp_path, LEAKY, COUNTER), Table()
    p = partition_for("198.51.100.1", PARTITIONS)
    ips = [ip for ip in (f"198.51.100.{n}" for n in range(1, 200))
           if partition_for(ip, PARTITIONS) == p][:3]  # three keys of one partition
    batch = PourBatch([pour(ips[0], 0, "fail", ["t/leaky"], None),          # dies at 0+30s
                       pour(ips[1], 5, "hit", ["t/counter"], None),         # overflows at 35s
                       pour(ips[2], 10, "fail", ["t/leaky"], None)])        # dies at 10+30s
    table.apply(stage.pour_batch(p, 0, batch, table.get).writes)
    assert sorted(k for k in table if is_bucket_key(k)) == sorted(ips)
    # the first tick indexes the table; event time is at 10s: nothing due
    out = stage.tick(p, 1, wall_ts=0.0, get=table.get, items=table.items)
    assert out.writes == {} and out.alerts == [] and stage.keys_scheduled() == 3
    # event time reaches 36s (a pour of another key): ips[0] is collected, the counter fires
    table.apply(stage.pour_batch(p, 2, PourBatch([pour(ips[2], 36, "fail", ["t/leaky"], None)]),
                                 table.get).writes)
    out = stage.tick(p, 3, wall_ts=0.0, get=table.get, items=table.items)
    assert [(a["scenario"], a["source"]["value"], a["stop_at"]) for a in out.alerts] == [
        ("t/counter", ips[1], "2026-11-22T06:00:35Z")]
    assert out.writes == {ips[0]: None, ips[1]: None}
    table.apply(out.writes)
    assert sorted(k for k in table if is_bucket_key(k)) == [ips[2]]
    # a tick of another partition touches nothing here
    assert stage.tick((p + 1) % PARTITIONS, 0, 0.0, table.get, table.items).writes == {}


def test_the_watermark_follows_wall_clock_minus_the_lag(tmp_path: Path) -> None:
    stage = make_stage(tmp_path, LEAKY, lag=60.0)
    assert stage.watermark(0, wall_ts=T0) == T0 - 60
    stage.pour_batch(0, 0, PourBatch([pour("1.2.3.4", 500, "fail", ["t/leaky"], Origin("r0", 0, 0)),
                                      pour("1.2.3.5", 900, "fail", ["t/leaky"], Origin("r1", 0, 0))]), {}.get)
    assert stage.watermark(0, wall_ts=T0) == T0 + 440  # the slower stream
    assert make_stage(tmp_path, LEAKY).watermark(0, wall_ts=T0) == 0.0


def test_the_index_is_rebuilt_after_a_partition_comes_back(tmp_path: Path) -> None:
    stage, table = make_stage(tmp_path, LEAKY), Table()
    ip = "192.0.2.44"
    p = partition_for(ip, PARTITIONS)
    table.apply(stage.pour_batch(p, 0, fails(ip, [0], 0), table.get).writes)
    stage.forget([p])
    # a new owner: stream r0's time comes back from the rows (0 s), so a pour of another
    # stream at 100 s collects nothing; once r0 itself reaches 100 s, the key is idle
    table.apply(stage.pour_batch(p, 1, PourBatch([pour("x", 100, "fail", ["t/leaky"], Origin("r1", 0, 0))]),
                                 table.get).writes)
    assert stage.tick(p, 2, 0.0, table.get, table.items).writes == {}
    table.apply(stage.pour_batch(p, 3, PourBatch([pour("y", 100, "fail", ["t/leaky"], Origin("r0", 9, 0))]),
                                 table.get).writes)
    assert stage.tick(p, 4, 0.0, table.get, table.items).writes == {ip: None}


def test_a_lagging_stream_keeps_its_buckets(tmp_path: Path) -> None:
    """Two raw partitions feed one pours partition; the one far ahead must not make the
    other's buckets look idle (5 failures at 06:10, another stream at 06:30, a tick, then
    the 6th failure at 06:10:05 still overflows)."""
    stage, table = make_stage(tmp_path, LEAKY.replace("capacity: 2", "capacity: 5")), Table()
    ip = "10.9.9.9"
    p = partition_for(ip, PARTITIONS)
    table.apply(stage.pour_batch(p, 0, PourBatch([pour(ip, 600 + i, "fail", ["t/leaky"], Origin("r1", 0, i))
                                                  for i in range(5)]), table.get).writes)
    table.apply(stage.pour_batch(p, 1, PourBatch([pour("x", 1800, "fail", ["t/leaky"], Origin("r0", 0, 0))]),
                                 table.get).writes)
    table.apply(stage.tick(p, 2, 0.0, table.get, table.items).writes)
    assert stage.watermark(p, 0.0) == T0 + 604
    out = stage.pour_batch(p, 3, PourBatch([pour(ip, 605, "fail", ["t/leaky"], Origin("r1", 1, 0))]), table.get)
    assert [(a["events_count"], a["start_at"]) for a in out.alerts] == [(6, "2026-11-22T06:10:00Z")]


def test_one_table_scan_indexes_every_owned_partition(tmp_path: Path) -> None:
    stage, table = make_stage(tmp_path, LEAKY), Table()
    by_partition: dict[int, str] = {}
    for n in range(100):
        by_partition.setdefault(partition_for(f"192.0.2.{n}", PARTITIONS), f"192.0.2.{n}")
    for p, ip in by_partition.items():
        table.apply(stage.pour_batch(p, 0, fails(ip, [0], 0), table.get).writes)
    stage.assign(range(PARTITIONS))
    scans = []

    def items() -> list[tuple[str, bytes]]:
        scans.append(1)
        return list(table.items())

    for p in range(PARTITIONS):
        stage.tick(p, 1, 0.0, table.get, items)
    assert len(scans) == 1 and stage.keys_scheduled() == PARTITIONS


WHITELIST = """
name: t/wl
description: d
whitelist:
  reason: test
  expression:
    - evt.Overflow.Alert.Source.IP == '203.0.113.9'
"""


def test_postoverflow_whitelists_drop_alerts(tmp_path: Path) -> None:
    stage = make_stage(tmp_path, LEAKY, postoverflows=WHITELIST)
    table = Table()
    outs = [stage.pour_batch(0, n, fails(ip, [0, 1, 2], n), table.get)
            for n, ip in enumerate(("203.0.113.9", "203.0.113.10"))]
    assert [[a["source"]["value"] for a in out.alerts] for out in outs] == [[], ["203.0.113.10"]]


def test_reprocess_repours_the_overflow_with_origins(tmp_path: Path) -> None:
    stage = make_stage(tmp_path, REPROCESS, SECOND)
    out = stage.pour_batch(2, 40, PourBatch([pour("203.0.113.5", 0, "probe", ["t/first"], None)]), {}.get)
    assert [a["scenario"] for a in out.alerts] == ["t/first"]
    assert [(p, [(r.key, r.scenarios, r.origin) for r in b.pours]) for p, b in out.repours] == [
        (partition_for("", PARTITIONS), [("", ["t/second"], Origin("p2", 40, 0))])]
    again = stage.pour_batch(partition_for("", PARTITIONS), 7, out.repours[0][1], {}.get)
    assert [a["scenario"] for a in again.alerts] == ["t/second"]


def test_rows_are_json_with_states_and_origins(tmp_path: Path) -> None:
    stage = make_stage(tmp_path, LEAKY)
    out = stage.pour_batch(0, 0, fails("10.0.0.1", [0], 3), {}.get)
    assert set(orjson.loads(out.writes["10.0.0.1"])) == {"s", "o"}
    assert decode_row(None) == ({}, {})


@pytest.mark.parametrize("count", [1, 3])
def test_one_write_per_key_per_message(tmp_path: Path, count: int) -> None:
    stage = make_stage(tmp_path, LEAKY)
    out = stage.pour_batch(0, 0, fails("10.0.0.1", [0.0] * count, 0), {}.get)
    assert list(out.writes) == ["10.0.0.1", "\x00partition:0"]  # the partition's row last
    assert orjson.loads(out.writes["\x00partition:0"]) == {"o": {"r0": [0, count - 1]},
                                                          "t": {"r0": T0}}


def test_a_blackhole_row_keeps_its_stream_time_after_a_rebalance(tmp_path: Path) -> None:
    """After a takeover, a row holding only a blackhole still tells how far its source got,
    so another source's clock does not end the blackhole early."""
    stage, table = make_stage(tmp_path, LEAKY), Table()
    ip = "10.7.7.7"
    p = partition_for(ip, PARTITIONS)
    table.apply(stage.pour_batch(p, 0, fails(ip, [0, 1, 2], 0), table.get).writes)  # overflow at 2 s
    assert list(decode_row(table[ip])[0]["t/leaky"]) == ["blackhole_until_ns"]
    stage.assign([p])  # a rebalance: everything known of p is rebuilt from the table
    table.apply(stage.pour_batch(p, 1, PourBatch([pour("x", 1000, "fail", ["t/leaky"], Origin("r1", 0, 0))]),
                                 table.get).writes)
    table.apply(stage.tick(p, 2, 0.0, table.get, table.items).writes)
    assert stage.watermark(p, 0.0) == T0 + 2
    assert ip in table
