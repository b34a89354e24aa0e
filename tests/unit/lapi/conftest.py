"""Fixtures of the LAPI unit tests: a real database, a fake clock, the app.

``db_url`` (and so every test using the database) runs on each backend: a SQLite file, and a
fresh PostgreSQL and MariaDB database dropped after the test (:mod:`tests.support.databases`;
skipped when the server is not there, failed instead with CROWDSTREAM_REQUIRE_DATABASES=1).
Select one with ``-k sqlite`` / ``-k postgresql`` / ``-k mariadb``."""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from lapi_helpers import FakeClock

with warnings.catch_warnings():
    # starlette 1.x would rather drive its TestClient with httpx2; httpx works the same
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from lapi.app import LapiState, create_app
from lapi.bouncers import add_bouncer
from lapi.db.session import Database, open_database
from lapi.profiles import Profiles, load_profiles
from lapi.settings import LapiSettings
from tests.support import databases

BACKENDS = ("sqlite", "postgresql", "mariadb")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def database_servers() -> Iterator[dict[str, databases.Server]]:
    servers: dict[str, databases.Server] = {}
    yield servers
    for server in servers.values():
        server.close()


def _server(servers: dict[str, databases.Server], backend: str) -> databases.Server:
    server = servers.get(backend)
    if server is None:
        server = servers[backend] = databases.SERVERS[backend]()
    try:
        server.prepare()
    except databases.Unavailable as exc:
        if databases.required():
            pytest.fail(f"{backend} unavailable ({databases.REQUIRE_ENV}=1): {exc}", pytrace=False)
        pytest.skip(f"{backend} unavailable: {exc}")
    return server


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path,
           database_servers: dict[str, databases.Server]) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'lapi.db'}"
        return
    server = _server(database_servers, backend)
    name, url = server.create()
    yield url
    server.drop(name)


#: the shipped stock profile (CrowdSec's: remediation on an Ip source → ban 4h, then stop)
STOCK_PROFILES = Path(__file__).resolve().parents[3] / "crowdstream" / "defaults" / "profiles.yaml"


@pytest.fixture
def profiles_path() -> Path:
    return STOCK_PROFILES


@pytest.fixture
def profiles(profiles_path: Path) -> Profiles:
    return load_profiles(profiles_path)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def settings(db_url: str, profiles_path: Path) -> LapiSettings:
    return LapiSettings(db_url=db_url, profiles_path=profiles_path, metrics_refresh_seconds=0)


@pytest.fixture
def client(settings: LapiSettings, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


@pytest.fixture
def lapi(client: TestClient) -> LapiState:
    return client.app.state.lapi


@pytest.fixture
def key(lapi: LapiState) -> str:
    """The API key of a bouncer named ``b1``."""
    with lapi.database.session() as session:
        return add_bouncer(session, "b1")


@pytest.fixture
def auth(key: str) -> dict[str, str]:
    return {"X-Api-Key": key}
