"""The shipped default content end to end: line → Event → routes → pours → alerts."""
from __future__ import annotations

import calendar
import hashlib
import uuid
from pathlib import Path
from typing import Any

import orjson

from engine.alert import ALERT_NAMESPACE
from engine.content import Content
from engine.event import Event
from topics.records import AlertBatch, Pour, PourBatch

INGEST = float(calendar.timegm((2026, 11, 22, 6, 30, 0)))
IP = "203.0.113.7"


def line(second: int, ip: str = IP, minute: int = 10, user: str = "root") -> str:
    return f"Nov 22 06:{minute:02d}:{second:02d} host sshd[1234]: Failed password for {user} from {ip} port 4242 ssh2"


def parse(content: Content, text: str) -> Event | None:
    return content.parse(text, source="/var/log/auth.log", module="file", labels={"type": "syslog"},
                         ingest_ts=INGEST)


def feed(content: Content, lines: list[str], table: dict[str, dict[str, Any]] | None = None
         ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Both pipeline stages, through the Kafka record encodings."""
    table = {} if table is None else table
    pours = []
    for text in lines:
        evt = parse(content, text)
        assert evt is not None, text
        for key, names in content.route(evt):
            pours.append(Pour(key, names, content.event_time(evt), content.pour_event(evt)))
    alerts: list[dict[str, Any]] = []
    for p in PourBatch.decode(PourBatch(pours).encode()).pours:
        stored = table.get(p.key)
        states = orjson.loads(stored) if stored else {}
        alerts.extend(a for o in content.pour(p.key, p.scenarios, p.ts, p.event, states) for a in o.alerts)
        if states:
            table[p.key] = orjson.dumps(states)
        else:
            table.pop(p.key, None)
    return AlertBatch.decode(AlertBatch(alerts).encode()).alerts, table


def test_a_failed_login_line_parses_into_exact_meta(content: Content) -> None:
    evt = parse(content, line(8))
    assert evt is not None
    assert dict(evt.Meta) == {
        "machine": "host", "datasource_path": "/var/log/auth.log", "datasource_type": "file",
        "log_type": "ssh_failed-auth", "service": "ssh", "source_ip": IP, "target_user": "root",
        "timestamp": "2026-11-22T06:10:08Z"}
    assert evt.Parsed["program"] == "sshd" and evt.Parsed["pid"] == "1234"
    assert evt.MarshaledTime == "2026-11-22T06:10:08Z"
    assert evt.Time.marshal_text() == "2026-11-22T06:10:08Z"
    assert evt.Stage == "s02-enrich" and evt.Process is True
    assert content.event_time(evt) == calendar.timegm((2026, 11, 22, 6, 10, 8))


def test_other_ssh_failures_parse(content: Content) -> None:
    cases = {
        "Nov 22 06:10:08 host sshd[1]: Invalid user admin from 203.0.113.8 port 4242": ("203.0.113.8", "admin"),
        "Nov 22 06:10:08 host sshd[1]: Invalid user admin from 203.0.113.8": ("203.0.113.8", "admin"),
        "Nov 22 06:10:08 host sshd[1]: Failed password for invalid user oracle from 2001:db8::5 port 22 ssh2":
            ("2001:db8::5", "oracle"),
        "Nov 22 06:10:08 host sshd-session[1]: Failed publickey for invalid user git from 203.0.113.9 port 22 ssh2":
            ("203.0.113.9", "git"),
        "Nov  2 06:10:08 host sshd[1]: Failed keyboard-interactive/pam for root from 203.0.113.9 port 22 ssh2":
            ("203.0.113.9", "root"),
    }
    for text, (ip, user) in cases.items():
        evt = parse(content, text)
        assert evt is not None, text
        assert (evt.Meta["log_type"], evt.Meta["source_ip"], evt.Meta["target_user"]) == ("ssh_failed-auth", ip, user)


def test_unrelated_lines_are_dropped(content: Content) -> None:
    for text in ["Nov 22 06:10:08 host sshd[1]: Accepted password for root from 203.0.113.7 port 22 ssh2",
                 "Nov 22 06:10:08 host CRON[1]: pam_unix(cron:session): session closed for user root",
                 "not syslog at all", ""]:
        assert parse(content, text) is None
    # the syslog parser only takes type: syslog
    assert content.parse(line(8), source="x", module="file", labels={"type": "nginx"}, ingest_ts=INGEST) is None


def test_a_line_without_a_parsable_date_gets_the_ingest_time(content: Content) -> None:
    evt = parse(content, "Nov 31 06:10:08 host sshd[1]: Invalid user a from 203.0.113.8")
    assert evt is not None and evt.MarshaledTime == "2026-11-22T06:30:00Z"


def test_route_and_pour_event(content: Content) -> None:
    evt = parse(content, line(8))
    assert evt is not None
    assert content.route(evt) == [(IP, ["crowdstream/ssh-bf"])]
    assert content.pour_event(evt) == {"time": "2026-11-22T06:10:08Z", "meta": dict(evt.Meta)}
    other = parse(content, "Nov 22 06:10:08 host sshd[1]: Invalid user a from 203.0.113.8")
    assert other is not None
    other.Meta["log_type"] = "something-else"
    assert content.route(other) == []


def test_six_failed_logins_give_exactly_one_alert(content: Content) -> None:
    alerts, table = feed(content, [line(8 + i) for i in range(6)])
    assert len(alerts) == 1
    alert = alerts[0]
    scenario_file = Path(content.scenarios["crowdstream/ssh-bf"].path)
    events = [{"meta": [{"key": k, "value": v} for k, v in (
        ("datasource_path", "/var/log/auth.log"), ("datasource_type", "file"),
        ("log_type", "ssh_failed-auth"), ("machine", "host"), ("service", "ssh"),
        ("source_ip", IP), ("target_user", "root"), ("timestamp", f"2026-11-22T06:10:{8 + i:02d}Z"))],
        "timestamp": f"2026-11-22T06:10:{8 + i:02d}Z"} for i in range(6)]
    expected_uuid = str(uuid.uuid5(ALERT_NAMESPACE, "\x00".join(
        ("crowdstream/ssh-bf", IP, "2026-11-22T06:10:08Z", "2026-11-22T06:10:13Z", IP))))
    assert alert == {
        "uuid": expected_uuid,
        "scenario": "crowdstream/ssh-bf",
        "scenario_hash": hashlib.sha256(scenario_file.read_bytes()).hexdigest(),
        "scenario_version": "0.1",
        "message": f"Ip {IP} performed 'crowdstream/ssh-bf' (6 events over 5s) at 2026-11-22 06:10:13 +0000 UTC",
        "events_count": 6,
        "start_at": "2026-11-22T06:10:08Z",
        "stop_at": "2026-11-22T06:10:13Z",
        "capacity": 5,
        "leakspeed": "10s",
        "simulated": False,
        "remediation": True,
        "decisions": None,
        "labels": None,
        "events": events,
        "source": {"ip": IP, "scope": "Ip", "value": IP},
    }
    # a redelivered overflow (the same pours replayed on the same earlier state) → same uuid
    again, _ = feed(content, [line(8 + i) for i in range(6)])
    assert again == alerts
    assert list(table) == [IP] and set(orjson.loads(table[IP])) == {"crowdstream/ssh-bf"}


def test_five_failed_logins_give_no_alert(content: Content) -> None:
    alerts, table = feed(content, [line(8 + i) for i in range(5)])
    assert alerts == []
    assert orjson.loads(table[IP])["crowdstream/ssh-bf"]["bucket"]["count"] == 5


def test_blackhole_suppresses_a_second_overflow_within_a_minute(content: Content) -> None:
    first, table = feed(content, [line(s) for s in range(0, 6)])
    assert len(first) == 1
    # a second burst 20s later would overflow again, but the key is blackholed until 06:11:05
    second, table = feed(content, [line(s) for s in range(20, 26)], table)
    assert second == []
    # after the blackhole, a new bucket overflows again with its own uuid
    third, table = feed(content, [line(s, minute=11) for s in range(10, 16)], table)
    assert len(third) == 1
    assert third[0]["start_at"] == "2026-11-22T06:11:10Z" and third[0]["events_count"] == 6
    assert third[0]["uuid"] != first[0]["uuid"]


def test_a_new_bucket_starts_after_expiry(content: Content) -> None:
    # 4 events, then silence longer than (5+1)*10s: the next 2 events start a new bucket
    _, table = feed(content, [line(s) for s in range(0, 4)])
    alerts, table = feed(content, [line(s, minute=11) for s in range(5, 7)], table)
    assert alerts == []
    bucket = orjson.loads(table[IP])["crowdstream/ssh-bf"]["bucket"]
    assert bucket["count"] == 2 and bucket["first_time"] == "2026-11-22T06:11:05Z"
    # within the lifetime the bucket keeps filling instead
    _, table = feed(content, [line(s) for s in range(0, 4)])
    _, table = feed(content, [line(s) for s in range(50, 52)], table)
    assert orjson.loads(table[IP])["crowdstream/ssh-bf"]["bucket"]["count"] == 6


def test_sources_are_kept_apart(content: Content) -> None:
    lines = [line(8 + i, ip=f"203.0.113.{10 + i % 2}") for i in range(10)]
    alerts, table = feed(content, lines)
    assert alerts == []
    assert sorted(table) == ["203.0.113.10", "203.0.113.11"]
