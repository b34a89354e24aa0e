"""Fixtures of the LAPI unit tests: a real SQLite file, a fake clock, the app."""
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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lapi.db'}"


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
