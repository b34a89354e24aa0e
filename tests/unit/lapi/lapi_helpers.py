"""Helpers for the LAPI unit tests (imported by the test modules)."""
from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 11, 22, 4, 7, 13, tzinfo=UTC)


class FakeClock:
    """A controllable clock: ``clock()`` returns ``clock.now``."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


# The first alert the crowdsec 1.4.6 agent posted (OBSERVED-REQUESTS.md), with the uuid
# our pipeline adds.
AGENT_ALERT: dict[str, Any] = {
    "uuid": "7d1c2d55-0b1e-5f6e-9d0e-1a2b3c4d5e6f",
    "capacity": 5,
    "decisions": None,
    "events": [
        {
            "meta": [
                {"key": "datasource_path", "value": "/var/log/ssh-bruteforce.log"},
                {"key": "datasource_type", "value": "file"},
                {"key": "log_type", "value": "ssh_failed-auth"},
                {"key": "machine", "value": "web-01"},
                {"key": "service", "value": "ssh"},
                {"key": "source_ip", "value": "203.0.113.66"},
            ],
            "timestamp": "2026-11-22T04:07:11Z",
        }
    ],
    "events_count": 6,
    "labels": None,
    "leakspeed": "10s",
    "message": "Ip 203.0.113.66 performed 'crowdsecurity/ssh-bf' (6 events over 1s) at "
               "2026-11-22 04:07:12 +0000 UTC",
    "remediation": True,
    "scenario": "crowdsecurity/ssh-bf",
    "scenario_hash": "4441dcff07020f6690d998b7101e642359ba405c2abb83565bbbdcee36de280f",
    "scenario_version": "0.1",
    "simulated": False,
    "source": {"ip": "203.0.113.66", "scope": "Ip", "value": "203.0.113.66"},
    "start_at": "2026-11-22T04:07:11Z",
    "stop_at": "2026-11-22T04:07:12Z",
}


def agent_alert(ip: str = "203.0.113.66", uuid: str | None = None,
                **changes: Any) -> dict[str, Any]:
    """The agent alert for another source IP (and a uuid derived from it)."""
    alert = copy.deepcopy(AGENT_ALERT)
    alert["source"] = {"ip": ip, "scope": "Ip", "value": ip}
    alert["uuid"] = uuid or f"alert-{ip}"
    alert.update(changes)
    return alert


def manual_alert(value: str, *, scope: str = "Ip", duration: str = "1h", uuid: str | None = None,
                 origin: str = "cscli", scenario: str = "test", type_: str = "ban",
                 at: str = "2026-11-22T04:07:13Z", simulated: bool = False) -> dict[str, Any]:
    """An alert carrying its decision, like ``cscli decisions add``."""
    return {
        "uuid": uuid or f"manual-{scope}-{value}-{type_}-{duration}-{origin}",
        "capacity": 0,
        "decisions": [{"duration": duration, "origin": origin, "scenario": scenario,
                       "scope": scope, "type": type_, "value": value}],
        "events": [],
        "events_count": 1,
        "labels": None,
        "leakspeed": "0",
        "message": scenario,
        "scenario": scenario,
        "scenario_hash": "",
        "scenario_version": "",
        "simulated": simulated,
        "source": {"scope": scope, "value": value},
        "start_at": at,
        "stop_at": at,
    }


def machine_headers(client: Any, database: Any, machine_id: str = "agent-01",
                    password: str = "Secret-pass-123") -> dict[str, str]:
    """Create validated machine ``machine_id`` in ``database`` (a :class:`lapi.db.session.
    Database`), log it in through ``POST /v1/watchers/login`` with the TestClient ``client``
    and return its ``Authorization`` header."""
    from lapi.machines import add_machine

    with database.session() as session:
        add_machine(session, machine_id, password, validated=True)
    answer = client.post("/v1/watchers/login",
                         json={"machine_id": machine_id, "password": password, "scenarios": []})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def stream_pairs(client: Any, auth: dict[str, str], **params: str) -> dict[str, list[tuple[int, str]]]:
    """One bouncer stream pull: (id, value) of the ``new`` and ``deleted`` decisions."""
    response = client.get("/v1/decisions/stream", params=params, headers=auth)
    assert response.status_code == 200
    return {side: [(d["id"], d["value"]) for d in response.json()[side]]
            for side in ("new", "deleted")}
