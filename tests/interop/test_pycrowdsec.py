"""pycrowdsec 0.0.5 (PyPI) against our LAPI: its stream clients and its query client see a
ban and its removal."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pycrowdsec.client import QueryClient, StreamClient, StreamDecisionClient

from tests.support.crowdsec_clients import Lapi, ban_alert, wait_for

IP, RANGE, IN_RANGE = "192.0.2.61", "198.51.100.0/24", "198.51.100.7"


@pytest.fixture(scope="module")
def watcher(lapi: Lapi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with lapi.watcher("pycrowdsec-driver", tmp_path_factory.mktemp("pycrowdsec")) as client:
        yield client


def _push(watcher: httpx.Client, *alerts: dict) -> None:
    answer = watcher.post("v1/alerts", json=list(alerts))
    assert answer.status_code == 201, answer.text


def _delete(watcher: httpx.Client, **params: str) -> None:
    answer = watcher.delete("v1/decisions", params=params)
    assert (answer.status_code, answer.json()) == (200, {"nbDeleted": "1"})


def test_stream_client_caches_bans_and_forgets_deleted_ones(lapi: Lapi,
                                                             watcher: httpx.Client) -> None:
    client = StreamClient(lapi.add_bouncer("pycrowdsec-stream"), lapi_url=lapi.url, interval=1)
    client.run()
    try:
        _stream_client_run(client, watcher)
    finally:
        _stop(client)


def _stop(client: StreamClient) -> None:
    """Silence the client's polling thread (pycrowdsec has no stop): its cycles become no-ops,
    so it cannot log errors into the tests that come after, once the LAPI is gone."""
    client.cycle = lambda _first_time: None  # a daemon thread: gone with the test process


def _stream_client_run(client: StreamClient, watcher: httpx.Client) -> None:
    assert client.get_current_decisions() == {}
    _push(watcher, ban_alert(IP), ban_alert(RANGE, scope="Range"))

    wait_for(lambda: client.get_action_for(IN_RANGE), "the stream client to see the bans")
    assert client.get_current_decisions() == {f"{IP}/32": "ban", RANGE: "ban"}
    assert client.get_action_for(IP) == "ban"
    assert client.get_action_for("192.0.2.62") is None

    _delete(watcher, ip=IP)
    _delete(watcher, range=RANGE)
    wait_for(lambda: client.get_current_decisions() == {}, "the stream client to drop the bans")
    assert client.is_running() and client.death_reason is None


def test_stream_decision_client_gets_each_decision_once(lapi: Lapi,
                                                        watcher: httpx.Client) -> None:
    ip = "192.0.2.71"
    client = StreamDecisionClient(lapi.add_bouncer("pycrowdsec-decisions"), lapi_url=lapi.url,
                                  scopes=("ip",), include_scenarios_containing=("pull",))
    client.cycle("true")
    assert list(client.get_new_decision()) == []
    _push(watcher, ban_alert(ip, scenario="interop pull"), ban_alert("192.0.2.72"))

    client.cycle("false")
    new = list(client.get_new_decision())
    assert [(d["value"], d["scope"], d["type"], d["scenario"]) for d in new] == [
        (ip, "Ip", "ban", "interop pull")]
    client.cycle("false")
    assert list(client.get_new_decision()) == []
    assert list(client.get_deleted_decision()) == []

    _delete(watcher, ip=ip)
    client.cycle("false")
    deleted = list(client.get_deleted_decision())
    assert [(d["id"], d["value"]) for d in deleted] == [(new[0]["id"], ip)]
    assert list(client.get_new_decision()) == []


def test_query_client_sees_the_ban_until_it_is_deleted(lapi: Lapi, watcher: httpx.Client) -> None:
    ip = "192.0.2.81"
    client = QueryClient(lapi.add_bouncer("pycrowdsec-query"), lapi_url=lapi.url)
    assert client.get_decisions_for(ip) is None
    _push(watcher, ban_alert(ip, duration="4h"))

    decisions = client.get_decisions_for(ip)
    assert [(d["value"], d["scope"], d["type"], d["origin"]) for d in decisions] == [
        (ip, "Ip", "ban", "cscli")]
    assert decisions[0]["duration"].startswith("3h59m")
    assert client.get_action_for(ip) == "ban"
    _delete(watcher, ip=ip)
    assert client.get_decisions_for(ip) is None
