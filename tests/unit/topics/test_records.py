"""Record schemas round-trip and reject malformed messages with a reason."""
import pytest

from topics.records import (AlertBatch, Origin, Pour, PourBatch, RawBatch, RawLine, RecordError,
                            Tick, decode_pours_message)


def test_raw_batch_round_trip() -> None:
    batch = RawBatch("/var/log/auth.log", "file", {"type": "syslog"},
                     [RawLine("a line", 1700000000.5), RawLine("é", 1700000001.0)])
    assert RawBatch.decode(batch.encode()) == batch


def test_pour_batch_round_trip() -> None:
    batch = PourBatch([Pour("1.2.3.4", ["s1", "s2"], 12.5, {"Meta": {"source_ip": "1.2.3.4"}})])
    assert PourBatch.decode(batch.encode()) == batch


def test_alert_batch_requires_identity_fields() -> None:
    alert = {"uuid": "u", "scenario": "s", "source": {}, "start_at": "x", "stop_at": "y"}
    assert AlertBatch.decode(AlertBatch([alert]).encode()).alerts == [alert]
    with pytest.raises(RecordError, match="alert batch: alert without 'uuid'"):
        AlertBatch.decode(b'{"v":1,"alerts":[{"scenario":"s"}]}')


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff not json", "raw batch: not JSON"),
        (b"[1,2]", "raw batch: expected a JSON object"),
        (b'{"v":2,"lines":[]}', "raw batch: unsupported schema version 2"),
        (b'{"v":1,"source":"s","module":"file","labels":{},"lines":[["x"]]}',
         "raw batch: each line must be [text, ingest_ts]"),
        (b'{"v":1,"module":"file","labels":{},"lines":[]}',
         "raw batch: field 'source' is missing or not str"),
    ],
)
def test_raw_batch_rejects_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(RecordError) as err:
        RawBatch.decode(data)
    assert str(err.value).startswith(reason)


def test_pours_carry_their_origin_and_ticks_share_the_topic() -> None:
    batch = PourBatch([Pour("k", ["s"], 1.5, {}, Origin("r3", 42, 7)), Pour("j", ["s"], 2.0, {})])
    assert decode_pours_message(batch.encode()) == batch
    assert decode_pours_message(Tick(1795327200.25).encode()) == Tick(1795327200.25)
    # a pour without origin (4 elements) is still accepted
    assert PourBatch.decode(b'{"v":1,"pours":[["k",["s"],1,{}]]}').pours[0].origin is None


@pytest.mark.parametrize(("data", "reason"), [
    (b'{"v":1,"tick":"soon"}', "tick: field 'tick' must be a number"),
    (b'{"v":1,"tick":true}', "tick: field 'tick' must be a number"),
    (b'{"v":1,"pours":[["k",["s"],1,{},["r0",1]]]}', "pour batch: an origin must be [stream, offset, index]"),
    (b'{"v":1,"pours":[["k",["s"],1,{},["r0",1.5,0]]]}', "pour batch: an origin must be [stream, offset, index]"),
])
def test_pours_topic_rejects_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(RecordError) as err:
        decode_pours_message(data)
    assert str(err.value) == reason
