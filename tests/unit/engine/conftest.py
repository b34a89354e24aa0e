"""Fixtures of the engine tests: the shipped content, the shared hub, YAML writing."""
from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.content import Content

ROOT = Path(__file__).resolve().parents[3]
CONTENT = ROOT / "crowdstream" / "defaults"


@pytest.fixture(scope="session")
def content() -> Content:
    return Content.load([CONTENT / "parsers"], [CONTENT / "scenarios"], CONTENT / "patterns")


@pytest.fixture()
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write("parsers/s01-parse/x.yaml", yaml_text) -> the file (dedented)."""
    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path
    return _write


@pytest.fixture(scope="session")
def content_dir() -> Path:
    return CONTENT
