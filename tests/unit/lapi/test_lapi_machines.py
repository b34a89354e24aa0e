"""Machine management on the database and password checks."""
from __future__ import annotations

import bcrypt
import pytest
from lapi_helpers import T0

from lapi import machines
from lapi.machines import (
    LoginCheck,
    MachineError,
    MachineExists,
    MachineIdentity,
    add_machine,
    authenticate,
    delete_machine,
    find_machine,
    generate_password,
    list_machines,
    validate_machine,
)

PASSWORD = "Secret-pass-123"


def test_add_list_validate_delete(database) -> None:
    with database.session() as session:
        add_machine(session, "b-agent", PASSWORD, validated=True, ip_address="192.0.2.7", now=T0)
        add_machine(session, "a-pending", PASSWORD, validated=False, now=T0)
    with database.read_session() as session:
        rows = list_machines(session)
    assert rows == [
        {"machine_id": "a-pending", "ip_address": "", "is_validated": False,
         "auth_type": "password", "version": "", "scenarios": "", "last_push": None,
         "last_heartbeat": None, "created_at": T0, "updated_at": T0},
        {"machine_id": "b-agent", "ip_address": "192.0.2.7", "is_validated": True,
         "auth_type": "password", "version": "", "scenarios": "", "last_push": None,
         "last_heartbeat": None, "created_at": T0, "updated_at": T0},
    ]
    with database.session() as session:
        validate_machine(session, "a-pending")
        delete_machine(session, "b-agent")
    with database.read_session() as session:
        assert [(m["machine_id"], m["is_validated"]) for m in list_machines(session)] == \
            [("a-pending", True)]
    for action in (delete_machine, validate_machine):
        with pytest.raises(MachineError, match="machine 'b-agent' does not exist"), \
                database.session() as session:
            action(session, "b-agent")


def test_duplicate_and_unusable_values(database) -> None:
    with database.session() as session:
        add_machine(session, "m1", PASSWORD, validated=True)
    with pytest.raises(MachineExists, match="user 'm1': user already exist"), \
            database.session() as session:
        add_machine(session, "m1", "other", validated=True)
    for machine_id, password, reason in (
            ("", PASSWORD, "machine id cannot be empty"), ("  ", PASSWORD, "cannot be empty"),
            ("m" * 256, PASSWORD, "too long"), ("m2", "", "password cannot be empty"),
            ("m\x00", PASSWORD, "cannot contain a NUL character"),
            ("m2", "é" * 37, r"too long \(72 bytes at most\)")):
        with pytest.raises(MachineError, match=reason), database.session() as session:
            add_machine(session, machine_id, password, validated=True)
    # 72 bytes is bcrypt's limit and is accepted in full
    with database.session() as session:
        add_machine(session, "m72", "é" * 36, validated=True)
    with database.read_session() as session:
        assert authenticate(session, "m72", "é" * 36).identity is not None
        assert authenticate(session, "m72", "é" * 35 + "e").identity is None


def test_machine_ids_are_case_and_space_exact(database) -> None:
    with database.session() as session:
        add_machine(session, "agent", "pw-lower", validated=True)
        add_machine(session, "Agent", "pw-upper", validated=True)
        add_machine(session, "agent ", "pw-space", validated=True)
    with database.read_session() as session:
        assert [m["machine_id"] for m in list_machines(session)] == ["Agent", "agent", "agent "]
        assert authenticate(session, "Agent", "pw-upper").identity.machine_id == "Agent"
        assert authenticate(session, "agent", "pw-upper").identity is None
        assert authenticate(session, "agent ", "pw-space").identity.machine_id == "agent "


def test_authenticate_outcomes(database) -> None:
    with database.session() as session:
        add_machine(session, "ok", PASSWORD, validated=True, ip_address="192.0.2.1")
        add_machine(session, "pending", PASSWORD, validated=False)
        add_machine(session, "cert", PASSWORD, validated=True, auth_type="tls")
    with database.read_session() as session:
        ok = authenticate(session, "ok", PASSWORD)
        assert ok == LoginCheck(MachineIdentity(ok.identity.id, "ok", "192.0.2.1"), True)
        assert authenticate(session, "pending", PASSWORD).validated is False
        assert authenticate(session, "pending", PASSWORD).identity.machine_id == "pending"
        assert authenticate(session, "pending", "wrong") == LoginCheck(None)
        # a TLS machine cannot log in with a password
        assert authenticate(session, "cert", PASSWORD) == LoginCheck(None)
        assert find_machine(session, "ok") == ok.identity
        assert find_machine(session, "pending") is None
        assert find_machine(session, "nobody") is None


def test_one_bcrypt_check_whatever_the_outcome(database, monkeypatch) -> None:
    with database.session() as session:
        add_machine(session, "ok", PASSWORD, validated=True)
    checks: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        checks.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    with database.read_session() as session:
        for machine_id, password in (("ok", PASSWORD), ("ok", "bad"), ("nobody", PASSWORD),
                                     ("ok", ""), ("ok", "x" * 200), ("m" * 999, PASSWORD),
                                     ("ok\x00", PASSWORD), ("", PASSWORD)):
            checks.clear()
            authenticate(session, machine_id, password)
            assert len(checks) == 1, (machine_id, password)
            assert checks[0].startswith(b"$2b$10$")
    # an unknown machine is checked against the dummy hash
    assert checks[0] == machines._dummy_hash()


def test_generated_passwords() -> None:
    passwords = {generate_password() for _ in range(20)}
    assert len(passwords) == 20
    assert all(len(p) == 64 and p.isalnum() and p.isascii() for p in passwords)
