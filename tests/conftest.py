"""Suite-wide guard: in CI the shared hub and fixtures must be there — tests that need them
skip on a developer machine without ../shared, but CI must not pass by skipping them."""
from __future__ import annotations

import os

import pytest

from tests.support.shared import HUB, SHARED


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CROWDSTREAM_REQUIRE_SHARED") == "1" and not (HUB / "hub").is_dir():
        pytest.exit(f"{SHARED} is missing (CROWDSTREAM_REQUIRE_SHARED=1)", returncode=2)
