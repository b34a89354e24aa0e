"""The long-poll stream (``?wait=``): held while the delta is empty, answered as soon as
this replica commits a change, another replica's change or an expiry is read, or the wait
ends; the cursor semantics are those of a plain pull."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from lapi_helpers import agent_alert, manual_alert

from lapi.app import create_app
from lapi.decisions import expire_decisions
from lapi.longpoll import parse_wait

STREAM = "/v1/decisions/stream"


def held(client, auth, **params):
    """Start a pull in another thread; returns its future (response, seconds taken)."""
    def pull():
        start = time.monotonic()
        response = client.get(STREAM, params=params, headers=auth)
        return response, time.monotonic() - start
    pool = ThreadPoolExecutor(1)
    future = pool.submit(pull)
    pool.shutdown(wait=False)
    return future


def values(response, side):
    assert response.status_code == 200, response.text
    return [d["value"] for d in response.json()[side]]


def test_a_commit_on_this_replica_answers_the_waiting_pull(client, lapi, auth) -> None:
    assert client.get(STREAM, params={"startup": "true"}, headers=auth).json() == {
        "new": [], "deleted": []}
    future = held(client, auth, wait="30s")
    time.sleep(0.3)
    assert not future.done()
    lapi.ingest([agent_alert("203.0.113.21")])
    response, seconds = future.result(timeout=20)
    assert values(response, "new") == ["203.0.113.21"]
    assert seconds < 25  # answered by the commit, not by the end of the wait
    # exactly once: the next pull has nothing
    assert client.get(STREAM, headers=auth).json() == {"new": [], "deleted": []}


def test_a_pending_delta_is_answered_at_once(client, lapi, auth) -> None:
    client.get(STREAM, params={"startup": "true"}, headers=auth)
    lapi.ingest([agent_alert("203.0.113.22")])
    response, _ = held(client, auth, wait="60").result(timeout=20)
    assert values(response, "new") == ["203.0.113.22"]


def test_deletion_wakes_the_pull(client, lapi, auth, clock) -> None:
    lapi.ingest([manual_alert("203.0.113.23")])
    client.get(STREAM, params={"startup": "true"}, headers=auth)
    future = held(client, auth, wait="30s")
    time.sleep(0.3)
    with lapi.database.session() as session:
        assert expire_decisions(session, clock(), ids=[1]) == 1
    response, _ = future.result(timeout=20)
    assert values(response, "deleted") == ["203.0.113.23"]
    assert values(response, "new") == []


def test_expiry_is_seen_by_polling(client, lapi, auth, clock) -> None:
    lapi.ingest([manual_alert("203.0.113.24", duration="1m")])
    client.get(STREAM, params={"startup": "true"}, headers=auth)
    future = held(client, auth, wait="30s")
    time.sleep(0.3)
    assert not future.done()
    clock.advance(minutes=2)  # no commit: the poll re-reads and finds the expiry
    response, _ = future.result(timeout=20)
    assert values(response, "deleted") == ["203.0.113.24"]


def test_filtered_out_changes_keep_waiting_until_the_end(client, lapi, auth) -> None:
    client.get(STREAM, params={"startup": "true", "scopes": "ip"}, headers=auth)
    future = held(client, auth, wait="1.5", scopes="ip")
    time.sleep(0.3)
    lapi.ingest([manual_alert("198.51.100.0/24", scope="Range")])
    response, seconds = future.result(timeout=20)
    assert response.json() == {"new": [], "deleted": []}
    assert seconds >= 1.5


def test_another_replica_commit_is_seen(client, lapi, auth, settings, clock) -> None:
    client.get(STREAM, params={"startup": "true"}, headers=auth)
    future = held(client, auth, wait="30s")
    with TestClient(create_app(settings, clock=clock)) as other:
        time.sleep(0.3)
        other.app.state.lapi.ingest([agent_alert("203.0.113.25")])
        response, _ = future.result(timeout=20)
    assert values(response, "new") == ["203.0.113.25"]


def test_startup_never_waits(client, lapi, auth) -> None:
    response, _ = held(client, auth, wait="60s", startup="true").result(timeout=20)
    assert response.json() == {"new": [], "deleted": []}


@pytest.mark.parametrize("bad", ["soon", "-1s", "61s", "120"])
def test_bad_wait_is_a_400(client, auth, bad) -> None:
    response = client.get(STREAM, params={"wait": bad}, headers=auth)
    assert response.status_code == 400
    assert response.json()["message"].startswith("invalid wait")


def test_parse_wait() -> None:
    assert [parse_wait(t) for t in ("0", "2.5", "30s", "1m", "500ms")] == [0, 2.5, 30, 60, 0.5]


def test_concurrent_waiters_each_get_the_ban(client, lapi) -> None:
    from lapi.bouncers import add_bouncer

    keys = []
    with lapi.database.session() as session:
        keys = [add_bouncer(session, f"fw-{n}") for n in range(3)]
    futures = []
    for key in keys:
        client.get(STREAM, params={"startup": "true"}, headers={"X-Api-Key": key})
        futures.append(held(client, {"X-Api-Key": key}, wait="30s"))
    time.sleep(0.3)
    threading.Thread(target=lapi.ingest, args=([agent_alert("203.0.113.26")],)).start()
    for future in futures:
        response, _ = future.result(timeout=20)
        assert values(response, "new") == ["203.0.113.26"]
