"""Fixtures of the interop tests: the real CrowdSec clients and one LAPI process per module
(:mod:`tests.support.crowdsec_clients`)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.crowdsec_clients import Clients, Lapi, clients, running_lapi


@pytest.fixture(scope="session")
def crowdsec() -> Clients:
    return clients()


@pytest.fixture(scope="module")
def lapi(crowdsec: Clients, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lapi]:
    with running_lapi(tmp_path_factory.mktemp("lapi"), crowdsec.etc / "profiles.yaml") as running:
        yield running
