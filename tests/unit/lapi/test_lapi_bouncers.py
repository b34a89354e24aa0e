"""Bouncer management and X-Api-Key authentication."""
import hashlib

import pytest
from sqlalchemy import text

from lapi.bouncers import add_bouncer, delete_bouncer, hash_key, list_bouncers
from lapi.errors import BouncerError

FORBIDDEN = {"message": "access forbidden"}


def test_generated_key_is_returned_once_and_stored_hashed(database) -> None:
    with database.session() as session:
        key = add_bouncer(session, "fw")
    assert len(key) == 32 and key.isalnum()
    with database.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM bouncers"))]
    assert len(rows) == 1
    assert hashlib.sha512(key.encode()).hexdigest() in rows[0]
    assert all(key not in str(column) for column in rows[0])


def test_given_key_and_duplicate_name(database) -> None:
    with database.session() as session:
        assert add_bouncer(session, "fw", "my-own-key-123") == "my-own-key-123"
    with pytest.raises(BouncerError, match="bouncer 'fw' already exists"), \
            database.session() as session:
        add_bouncer(session, "fw")
    with pytest.raises(BouncerError, match="printable ASCII"), database.session() as session:
        add_bouncer(session, "other", "has space")
    with pytest.raises(BouncerError, match="already used"), database.session() as session:
        add_bouncer(session, "other", "my-own-key-123")


def test_list_and_delete(database) -> None:
    with database.session() as session:
        add_bouncer(session, "b")
        add_bouncer(session, "a")
    with database.read_session() as session:
        assert [b["name"] for b in list_bouncers(session)] == ["a", "b"]
        assert list_bouncers(session)[0]["valid"] is True
    with database.session() as session:
        delete_bouncer(session, "a")
    with pytest.raises(BouncerError, match="bouncer 'a' does not exist"), \
            database.session() as session:
        delete_bouncer(session, "a")
    with database.read_session() as session:
        assert [b["name"] for b in list_bouncers(session)] == ["b"]


@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions/stream"])
def test_key_auth(client, key, path) -> None:
    assert client.get(path, headers={"X-Api-Key": key}).status_code == 200
    for headers in ({}, {"X-Api-Key": ""}, {"X-Api-Key": key + "x"}, {"X-Api-Key": key.lower()}):
        response = client.get(path, headers=headers)
        assert response.status_code == 403
        assert response.json() == FORBIDDEN


def test_deleted_bouncer_loses_access_and_its_cursor(client, lapi, key) -> None:
    assert client.get("/v1/decisions/stream", headers={"X-Api-Key": key}).status_code == 200
    with lapi.database.session() as session:
        delete_bouncer(session, "b1")
    assert client.get("/v1/decisions", headers={"X-Api-Key": key}).status_code == 403
    with lapi.database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bouncer_stream_cursors")).scalar() == 0


def test_pull_records_bouncer_details(client, lapi, key) -> None:
    client.get("/v1/decisions/stream", headers={"X-Api-Key": key,
                                                "User-Agent": "crowdsec-firewall-bouncer/v0.0.28"})
    with lapi.database.read_session() as session:
        (row,) = list_bouncers(session)
    assert (row["type"], row["version"]) == ("crowdsec-firewall-bouncer", "v0.0.28")
    assert row["last_pull"] == lapi.clock()
    assert row["ip_address"] == "testclient"


def test_hash_is_sha512_hex() -> None:
    assert hash_key("k") == hashlib.sha512(b"k").hexdigest()
