"""``crowdstream machines add|list|delete|validate`` on the database (SQLite here; the
functions they call run on every backend in tests/unit/lapi/test_lapi_machines.py)."""
from __future__ import annotations

import csv
import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import bcrypt
import pytest
import yaml
from sqlalchemy import select

from crowdstream.cli import main
from lapi.db.models import Machine
from lapi.db.session import open_database
from lapi.machines import add_machine

T0 = datetime(2026, 11, 22, 4, 7, 13, tzinfo=UTC)

CONFIG = """
common:
  log_level: warning
config_paths:
  config_dir: {dir}
  data_dir: {dir}/data
db_config:
  type: sqlite
  db_path: {dir}/data/cs.db
api:
  client:
    credentials_path: {dir}/local_api_credentials.yaml
  server:
    listen_uri: 127.0.0.1:8181
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(dir=tmp_path))
    return path


def _run(config: Path, capsys, *args: str) -> tuple[int, str, str]:
    status = main(["-c", str(config), "machines", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _rows(tmp_path: Path) -> list[Machine]:
    database = open_database(f"sqlite:///{tmp_path / 'data' / 'cs.db'}")
    try:
        with database.read_session() as session:
            return list(session.execute(select(Machine).order_by(Machine.machine_id)).scalars())
    finally:
        database.dispose()


def test_add_with_password_writes_the_default_credentials_file(config, tmp_path, capsys) -> None:
    status, out, err = _run(config, capsys, "add", "agent-01", "--password", "Secret-pass-123")
    assert status == 0
    credentials = tmp_path / "local_api_credentials.yaml"
    assert out == ""
    assert err == ("Machine 'agent-01' successfully added to the local API.\n"
                   f"API credentials written to '{credentials}'.\n")
    assert credentials.read_text() == ("url: http://127.0.0.1:8181\nlogin: agent-01\n"
                                       "password: Secret-pass-123\n")
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    [row] = _rows(tmp_path)
    assert (row.machine_id, row.is_validated, row.auth_type) == ("agent-01", True, "password")
    assert bcrypt.checkpw(b"Secret-pass-123", row.password.encode())
    # the default file is never overwritten
    status, _, err = _run(config, capsys, "add", "agent-02", "--auto")
    assert status == 1
    assert err == (f"crowdstream: credentials file '{credentials}' already exists: remove it "
                   "or give another file with -f ('-f -' for standard output)\n")
    assert [r.machine_id for r in _rows(tmp_path)] == ["agent-01"]


def test_add_auto_to_stdout_and_to_a_file(config, tmp_path, capsys) -> None:
    status, out, _ = _run(config, capsys, "add", "agent-01", "--auto", "-f", "-",
                          "-u", "https://lapi.example:8443")
    assert status == 0
    creds = yaml.safe_load(out)
    assert list(creds) == ["url", "login", "password"]
    assert creds["url"] == "https://lapi.example:8443"
    assert creds["login"] == "agent-01"
    assert len(creds["password"]) == 64 and creds["password"].isalnum()
    [row] = _rows(tmp_path)
    assert bcrypt.checkpw(creds["password"].encode(), row.password.encode())
    target = tmp_path / "creds" / "agent-02.yaml"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o644)
    assert _run(config, capsys, "add", "agent-02", "-p", "pw-2", "-f", str(target))[0] == 0
    assert yaml.safe_load(target.read_text())["password"] == "pw-2"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_add_refusals(config, tmp_path, capsys) -> None:
    assert _run(config, capsys, "add", "m1", "-p", "pw", "-f", "-")[0] == 0
    status, out, err = _run(config, capsys, "add", "m1", "-p", "pw", "-f", "-")
    assert (status, out, err) == (1, "", "crowdstream: user 'm1': user already exist\n")
    status, _, err = _run(config, capsys, "add", "m2", "-p", "x" * 73, "-f", "-")
    assert (status, err) == (1, "crowdstream: the password is too long (72 bytes at most)\n")
    with pytest.raises(SystemExit) as exited:  # a password or --auto is required
        main(["-c", str(config), "machines", "add", "m3"])
    assert exited.value.code == 2
    capsys.readouterr()
    assert [r.machine_id for r in _rows(tmp_path)] == ["m1"]


def test_list_validate_delete(config, tmp_path, capsys) -> None:
    (tmp_path / "data").mkdir()
    database = open_database(f"sqlite:///{tmp_path / 'data' / 'cs.db'}")
    with database.session() as session:
        add_machine(session, "b-pending", "pw", validated=False, ip_address="192.0.2.4", now=T0)
        add_machine(session, "a-agent", "pw", validated=True, now=T0)
    database.dispose()
    status, out, _ = _run(config, capsys, "list")
    assert status == 0
    assert out.splitlines() == [
        "Name       IP Address  Last Update           Status     Version  Auth Type  "
        "Last Heartbeat",
        "a-agent                2026-11-22T04:07:13Z  validated           password",
        "b-pending  192.0.2.4   2026-11-22T04:07:13Z  pending             password",
    ]
    status, out, _ = _run(config, capsys, "list", "-o", "raw")
    assert list(csv.reader(io.StringIO(out))) == [
        ["machine_id", "ip_address", "updated_at", "is_validated", "version", "auth_type",
         "last_heartbeat"],
        ["a-agent", "", "2026-11-22T04:07:13Z", "validated", "", "password", ""],
        ["b-pending", "192.0.2.4", "2026-11-22T04:07:13Z", "pending", "", "password", ""],
    ]
    assert _run(config, capsys, "validate", "b-pending") == \
        (0, "machine 'b-pending' validated successfully\n", "")
    status, out, _ = _run(config, capsys, "list", "-o", "json")
    listed = json.loads(out)
    assert [(m["machine_id"], m["is_validated"]) for m in listed] == \
        [("a-agent", True), ("b-pending", True)]
    assert listed[0]["created_at"] == "2026-11-22T04:07:13Z"
    assert "password" not in listed[0]
    assert _run(config, capsys, "delete", "a-agent", "b-pending") == \
        (0, "machine 'a-agent' deleted\nmachine 'b-pending' deleted\n", "")
    assert _run(config, capsys, "delete", "a-agent") == \
        (1, "", "crowdstream: machine 'a-agent' does not exist\n")
    assert _run(config, capsys, "validate", "nobody") == \
        (1, "", "crowdstream: machine 'nobody' does not exist\n")
    assert _run(config, capsys, "list", "-o", "json") == (0, "[]\n", "")
