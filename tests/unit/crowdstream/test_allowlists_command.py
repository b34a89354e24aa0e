"""``crowdstream allowlists create|add|remove|list|inspect|check|delete`` on the database
(SQLite here; the functions they call run on every backend in
tests/unit/lapi/test_lapi_allowlists.py)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from crowdstream.cli import main
from lapi.db.models import Decision
from lapi.db.session import open_database
from lapi.ingest import ingest_alerts
from lapi.profiles import Profiles

CONFIG = """
common:
  log_level: warning
config_paths:
  config_dir: {dir}
  data_dir: {dir}/data
db_config:
  type: sqlite
  db_path: {dir}/data/cs.db
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(dir=tmp_path))
    return path


def _run(config: Path, capsys, *args: str) -> tuple[int, str, str]:
    status = main(["-c", str(config), "allowlists", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _ban(tmp_path: Path, value: str) -> None:
    """A cscli-style alert banning ``value`` for an hour from now."""
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    alert = {"scenario": "test", "source": {"scope": "Ip", "value": value}, "start_at": at,
             "stop_at": at, "decisions": [{"type": "ban", "scope": "Ip", "value": value,
                                           "duration": "1h", "origin": "cscli"}]}
    database = open_database(f"sqlite:///{tmp_path / 'data' / 'cs.db'}")
    try:
        with database.session() as session:
            ingest_alerts(session, [alert], Profiles([]), datetime.now(UTC))
    finally:
        database.dispose()


def _ended(tmp_path: Path) -> list[str]:
    database = open_database(f"sqlite:///{tmp_path / 'data' / 'cs.db'}")
    try:
        with database.read_session() as session:
            return list(session.execute(select(Decision.value)
                                        .where(Decision.deleted_seq.is_not(None))).scalars())
    finally:
        database.dispose()


def test_manage_allowlists(config: Path, tmp_path: Path, capsys) -> None:
    assert _run(config, capsys, "create", "corp", "-d", "office") == (
        0, "allowlist 'corp' created successfully\n", "")
    assert _run(config, capsys, "create", "corp")[::2] == (
        1, "crowdstream: allowlist 'corp' already exists\n")
    _ban(tmp_path, "192.0.2.7")
    _ban(tmp_path, "198.51.100.1")
    assert _run(config, capsys, "add", "corp", "192.0.2.0/24", "2001:db8::1", "-d", "hq",
                "-e", "7d") == (0, "added 2 values to allowlist corp\n"
                                   "1 decisions deleted by allowlists\n", "")
    assert _ended(tmp_path) == ["192.0.2.7"]
    assert _run(config, capsys, "add", "corp", "nope")[::2] == (
        1, "crowdstream: invalid ip or range 'nope': 'nope' does not appear to be an IPv4 or "
           "IPv6 address\n")
    assert _run(config, capsys, "add", "corp", "10.0.0.1", "-e", "soon")[0] == 1
    assert _run(config, capsys, "check", "192.0.2.9", "203.0.113.1") == (
        0, "192.0.2.9 is allowlisted by 192.0.2.0/24 from corp (hq)\n"
           "203.0.113.1 is not allowlisted\n", "")

    status, out, _ = _run(config, capsys, "inspect", "corp", "-o", "json")
    inspected = json.loads(out)
    assert (status, inspected["name"], inspected["description"]) == (0, "corp", "office")
    assert [(i["value"], i["description"]) for i in inspected["items"]] == [
        ("192.0.2.0/24", "hq"), ("2001:db8::1", "hq")]
    expiration = datetime.strptime(inspected["items"][0]["expiration"],
                                   "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert timedelta(days=6, hours=23) < expiration - datetime.now(UTC) <= timedelta(days=7)
    status, out, _ = _run(config, capsys, "list")
    lines = out.splitlines()
    assert (status, lines[0].split(), lines[1].split()[:2], lines[1].split()[-1]) == (
        0, ["Name", "Description", "Created", "at", "Updated", "at", "Size"], ["corp", "office"],
        "2")

    assert _run(config, capsys, "remove", "corp", "2001:db8::1", "10.9.9.9") == (
        0, "removed 1 values from allowlist corp\n", "")
    assert _run(config, capsys, "delete", "corp") == (
        0, "allowlist 'corp' deleted successfully\n", "")
    assert _run(config, capsys, "inspect", "corp")[::2] == (
        1, "crowdstream: allowlist 'corp' not found\n")
