"""Client addresses behind proxies and trusted IPs (CrowdSec's ``use_forwarded_for_headers``,
``trusted_proxies`` and ``trusted_ips``)."""
from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from lapi.clientip import ANY_PROXY, client_address, is_trusted, parse_networks
from lapi.settings import LapiSettings
from lapi.web import HTTPError, JSONBody, client_ip, require_trusted_ip

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    # not a trusted proxy: its headers are ignored
    ("203.0.113.9", [("x-forwarded-for", "198.51.100.1")], "203.0.113.9"),
    # a trusted proxy: the rightmost untrusted entry
    ("10.0.0.2", [("x-forwarded-for", "198.51.100.1, 203.0.113.4, 10.1.1.1")], "203.0.113.4"),
    # every entry a proxy: the leftmost
    ("10.0.0.2", [("x-forwarded-for", "10.9.9.9, 10.1.1.1")], "10.9.9.9"),
    # repeated headers are one list
    ("10.0.0.2", [("x-forwarded-for", "198.51.100.1"), ("x-forwarded-for", "10.1.1.1")],
     "198.51.100.1"),
    # garbage in the list: X-Real-IP, then the peer
    ("10.0.0.2", [("x-forwarded-for", "nonsense, 10.1.1.1"), ("x-real-ip", "198.51.100.7")],
     "198.51.100.7"),
    ("10.0.0.2", [("x-forwarded-for", "1.2.3.999")], "10.0.0.2"),
    ("10.0.0.2", [], "10.0.0.2"),
    ("fd00::5", [("x-forwarded-for", "2001:db8::1")], "2001:db8::1"),
    ("::ffff:10.0.0.2", [("x-real-ip", "198.51.100.8")], "198.51.100.8"),
    # not an address at all (a unix socket, a test client): as is
    ("testclient", [("x-forwarded-for", "198.51.100.1")], "testclient"),
])
def test_client_address(peer, headers, expected) -> None:
    assert client_address(peer, headers, PROXIES) == expected


def test_forwarded_headers_ignored_when_off_and_any_proxy() -> None:
    headers = [("x-forwarded-for", "198.51.100.1")]
    assert client_address("10.0.0.2", headers, None) == "10.0.0.2"
    anyone = parse_networks(ANY_PROXY)
    assert client_address("203.0.113.9", headers, anyone) == "198.51.100.1"
    assert client_address("2001:db8::9", headers, anyone) == "198.51.100.1"


def test_trusted_ips() -> None:
    trusted = parse_networks(["192.0.2.10", "198.51.100.0/24"])
    assert [is_trusted(a, trusted) for a in (
        "127.0.0.1", "::1", "192.0.2.10", "192.0.2.11", "198.51.100.200", "127.0.0.2",
        "testclient", "")] == [True, True, True, False, True, False, False, False]
    assert is_trusted("10.0.0.1", ()) is False


def test_settings_parse_and_refuse_bad_networks(tmp_path) -> None:
    settings = LapiSettings(db_url="sqlite://", profiles_path=tmp_path,
                            trusted_ips=["192.0.2.1/24"], trusted_proxies=["10.0.0.1"])
    assert [str(n) for n in settings.trusted_ips] == ["192.0.2.0/24"]
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.1/32"]
    with pytest.raises(ValueError, match="not an IP address or range: 'lan'"):
        LapiSettings(db_url="sqlite://", profiles_path=tmp_path, trusted_ips=["lan"])


def _app(settings: LapiSettings) -> FastAPI:
    """A bare app carrying only the settings the dependencies read."""
    app = FastAPI()
    app.state.lapi = type("State", (), {"settings": settings})()
    app.add_exception_handler(
        HTTPError, lambda _, exc: JSONBody(exc.body(), status_code=exc.status))

    @app.get("/ip")
    def ip(address: str = Depends(client_ip)) -> dict[str, str]:
        return {"ip": address}

    @app.get("/trusted")
    def trusted(address: str = Depends(require_trusted_ip)) -> dict[str, str]:
        return {"ip": address}

    return app


def test_dependencies_behind_a_proxy(tmp_path) -> None:
    settings = LapiSettings(db_url="sqlite://", profiles_path=tmp_path,
                            trusted_ips=["198.51.100.0/24"], trusted_proxies=["10.0.0.0/8"])
    with TestClient(_app(settings), client=("10.0.0.2", 40000)) as client:
        assert client.get("/ip").json() == {"ip": "10.0.0.2"}
        headers = {"X-Forwarded-For": "198.51.100.3"}
        assert client.get("/ip", headers=headers).json() == {"ip": "198.51.100.3"}
        assert client.get("/trusted", headers=headers).json() == {"ip": "198.51.100.3"}
        refused = client.get("/trusted", headers={"X-Forwarded-For": "203.0.113.3"})
        assert refused.status_code == 403
        assert refused.json() == {"message": "access forbidden from this IP (203.0.113.3)"}
        # the proxy itself is not trusted (only loopback and trusted_ips are)
        assert client.get("/trusted").json() == \
            {"message": "access forbidden from this IP (10.0.0.2)"}
