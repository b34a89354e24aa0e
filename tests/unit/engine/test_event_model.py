"""pipeline.Event: Go field names, methods, source addresses and snapshots."""
from __future__ import annotations

import ipaddress

from engine.event import LIVE, LOG, OVFLW, TIMEMACHINE, Event, parse_addr
from engine.gotime import GoTime

GO_FIELDS = ("Type", "ExpectMode", "Whitelisted", "WhitelistReason", "Stage", "Line", "Parsed",
             "Enriched", "Unmarshaled", "Time", "StrTime", "StrTimeFormat", "MarshaledTime",
             "Process", "Meta", "Overflow")


def test_every_go_field_exists_with_go_zero_values() -> None:
    evt = Event()
    for name in GO_FIELDS:
        assert hasattr(evt, name), name
    for name in ("Raw", "Src", "Time", "Labels", "Process", "Module"):
        assert hasattr(evt.Line, name), name
    assert (evt.Type, evt.Whitelisted, evt.WhitelistReason, evt.Stage) == (LOG, False, "", "")
    assert evt.Parsed["missing"] == "" and evt.Meta["missing"] == "" and "missing" not in evt.Meta
    assert evt.Unmarshaled == {} and evt.Overflow is None
    assert evt.Time.IsZero() and evt.Line.Time.IsZero()
    assert (LIVE, TIMEMACHINE) == (0, 1)


def test_methods() -> None:
    evt = Event()
    assert evt.SetMeta("a", "1") and evt.GetMeta("a") == "1" and evt.GetMeta("b") == ""
    assert evt.SetParsed("p", "2") and evt.Parsed["p"] == "2"
    assert evt.GetType() == "log"
    evt.Type = OVFLW
    assert evt.GetType() == "overflow" and evt.GetMeta("a") == ""


def test_parse_ip_sources() -> None:
    evt = Event()
    assert evt.ParseIPSources() == []
    evt.Meta["source_ip"] = "1.2.3.4"
    assert evt.ParseIPSources() == [ipaddress.ip_address("1.2.3.4")]
    evt.Meta["source_ip"] = "1.2.3"
    assert evt.ParseIPSources() == []

    class Overflow:
        Sources = {"10.0.0.1": None, "2001:db8::1": None, "not-an-ip": None}

    ovf = Event()
    ovf.Type = OVFLW
    ovf.Overflow = Overflow()
    assert ovf.ParseIPSources() == [ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("2001:db8::1")]
    ovf.Overflow = {"Sources": {"10.0.0.2": {}}}
    assert ovf.ParseIPSources() == [ipaddress.ip_address("10.0.0.2")]
    assert parse_addr("01.2.3.4") is None and parse_addr("") is None
    assert str(parse_addr("::ffff:1.2.3.4")) == "::ffff:102:304"


def test_snapshot_is_deep_and_independent() -> None:
    evt = Event.from_line("raw", source="/x", module="file", labels={"type": "t"}, ingest_ts=10.0)
    evt.Parsed["a"] = "1"
    evt.Unmarshaled["j"] = {"k": [1.0]}
    evt.Overflow = {"Sources": {"1.2.3.4": {"ip": "1.2.3.4"}}}
    evt.Whitelisted, evt.WhitelistReason, evt.Stage = True, "r", "s01-parse"
    evt.StrTime, evt.StrTimeFormat, evt.MarshaledTime = "st", "fmt", "mt"
    snap = evt.snapshot()
    for name in GO_FIELDS:
        if name != "Line":
            assert getattr(snap, name) == getattr(evt, name), name
    assert (snap.Line.Raw, snap.Line.Src, snap.Line.Module, dict(snap.Line.Labels), snap.Line.Process,
            snap.Line.Time) == ("raw", "/x", "file", {"type": "t"}, True, GoTime.from_unix(10.0))
    evt.Parsed["a"] = "changed"
    evt.Unmarshaled["j"]["k"].append(2.0)
    evt.Overflow["Sources"]["1.2.3.4"]["ip"] = "x"
    evt.Line.Labels["type"] = "other"
    evt.Meta["new"] = "v"
    assert snap.Parsed == {"a": "1"} and snap.Unmarshaled == {"j": {"k": [1.0]}}
    assert snap.Overflow == {"Sources": {"1.2.3.4": {"ip": "1.2.3.4"}}}
    assert snap.Line.Labels == {"type": "t"} and "new" not in snap.Meta
    assert snap.Meta["missing"] == ""  # still Go maps
