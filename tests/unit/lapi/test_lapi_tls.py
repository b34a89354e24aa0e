"""HTTPS and client-certificate authentication, against the real server (uvicorn on a free
port) with certificates made by the openssl command for each test session."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from lapi.bouncers import add_bouncer
from lapi.db.models import Bouncer, Machine
from lapi.db.session import open_database
from lapi.machines import add_machine
from lapi.server import LapiStartupError, serve
from lapi.settings import TlsSettings
from lapi.tls import CertSubject, client_subject, format_name, parse_name

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")

READY = re.compile(r"^lapi ready on https://127\.0\.0\.1:(\d+)$")
CA_CONFIG = """[ca]
default_ca = test
[test]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 2
"""


class Pki:
    """A test CA in ``root`` issuing certificates, one of them revoked in ``crl.pem``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "ca.cnf").write_text(CA_CONFIG)
        (root / "index.txt").write_text("")
        (root / "crlnumber").write_text("01\n")
        self._openssl("req", "-x509", *self._key("ca"), "-out", "ca.crt",
                      "-subj", "/CN=crowdstream test CA", "-days", "2")
        self.serial = 1

    def _openssl(self, *args: str) -> None:
        subprocess.run(["openssl", *args], cwd=self.root, check=True, capture_output=True)

    @staticmethod
    def _key(name: str) -> list[str]:
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{name}.key"]

    def issue(self, name: str, subject: str, *, ca: str = "ca", server: bool = False) -> Path:
        """Certificate ``name.crt`` (and ``name.key``) for ``subject``, signed by ``ca``."""
        self._openssl("req", *self._key(name), "-out", f"{name}.csr", "-subj", subject)
        extensions = self.root / f"{name}.ext"
        extensions.write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n" if server
                              else "extendedKeyUsage = clientAuth\n")
        self.serial += 1
        self._openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt",
                      "-CAkey", f"{ca}.key", "-set_serial", str(self.serial), "-days", "1",
                      "-extfile", extensions.name, "-out", f"{name}.crt")
        return self.root / f"{name}.crt"

    def self_signed(self, name: str, subject: str) -> None:
        self._openssl("req", "-x509", *self._key(name), "-out", f"{name}.crt", "-subj", subject,
                      "-days", "1")

    def revoke(self, name: str) -> Path:
        self._openssl("ca", "-config", "ca.cnf", "-revoke", f"{name}.crt", "-keyfile", "ca.key",
                      "-cert", "ca.crt")
        self._openssl("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert",
                      "ca.crt", "-out", "crl.pem")
        return self.root / "crl.pem"

    def client(self, name: str | None = None) -> ssl.SSLContext:
        """A client context trusting the CA, presenting certificate ``name`` if given."""
        context = ssl.create_default_context(cafile=self.root / "ca.crt")
        if name is not None:
            context.load_cert_chain(self.root / f"{name}.crt", self.root / f"{name}.key")
        return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.issue("server", "/CN=localhost", server=True)
    pki.issue("agent", "/O=crowdstream/OU=agent-ou/CN=web-01")
    pki.issue("fw", "/OU=bouncer-ou/CN=fw-01")
    pki.issue("other", "/OU=sales/CN=web-02")
    pki.issue("revoked", "/OU=agent-ou/CN=stolen")
    pki.self_signed("rogue", "/OU=agent-ou/CN=rogue")
    pki.revoke("revoked")
    return pki


def _tls(pki: Pki, **changes) -> TlsSettings:
    return TlsSettings(cert_file=pki.root / "server.crt", key_file=pki.root / "server.key",
                       ca_cert_path=pki.root / "ca.crt", **changes)


@contextlib.asynccontextmanager
async def _serving(settings, caplog) -> AsyncIterator[str]:
    """The base URL of ``serve(settings)`` on a free port, stopped at the end."""
    caplog.set_level(logging.INFO, logger="crowdstream.lapi")
    caplog.clear()
    task = asyncio.create_task(serve(replace(settings, listen_port=0)))
    try:
        for _ in range(1000):
            found = [m for r in caplog.records if (m := READY.match(r.getMessage()))]
            if found:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("no ready line")
        yield f"https://127.0.0.1:{found[0].group(1)}"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _get(url: str, context: ssl.SSLContext, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(verify=context) as http:
        return await http.request(kwargs.pop("method", "GET"), url, **kwargs)


def _rows(settings, model) -> list:
    database = open_database(settings.db_url)
    try:
        with database.read_session() as session:
            return list(session.execute(select(model)).scalars())
    finally:
        database.dispose()


def test_agent_certificate_logs_in_as_a_tls_machine(settings, pki, caplog) -> None:
    settings.tls = _tls(pki)

    async def main() -> None:
        async with _serving(settings, caplog) as base:
            login = await _get(f"{base}/v1/watchers/login", pki.client("agent"), method="POST",
                               json={"scenarios": ["crowdsecurity/ssh-bf"]},
                               headers={"User-Agent": "crowdsec/v1.6.0"})
            assert login.status_code == 200, login.text
            assert login.json()["code"] == 200
            token = {"Authorization": f"Bearer {login.json()['token']}"}
            beat = await _get(f"{base}/v1/heartbeat", pki.client(), headers=token)
            assert (beat.status_code, beat.content) == (200, b"")
            # again: the same machine
            again = await _get(f"{base}/v1/watchers/login", pki.client("agent"), method="POST",
                               json={"machine_id": "ignored", "password": "ignored"},
                               headers={"User-Agent": "crowdsec/v1.6.1"})
            assert again.status_code == 200
            # the agent certificate is no bouncer
            refused = await _get(f"{base}/v1/decisions", pki.client("agent"))
            assert (refused.status_code, refused.json()) == (403, {"message": "access forbidden"})

    asyncio.run(main())
    [machine] = _rows(settings, Machine)
    assert (machine.machine_id, machine.auth_type, machine.is_validated, machine.ip_address,
            machine.scenarios, machine.version) == \
        ("web-01@127.0.0.1", "tls", True, "127.0.0.1", "crowdsecurity/ssh-bf", "v1.6.1")
    assert machine.password.startswith("$2b$10$")
    assert _rows(settings, Bouncer) == []


def test_bouncer_certificate_pulls_decisions(settings, pki, caplog) -> None:
    settings.tls = _tls(pki)

    async def main() -> None:
        async with _serving(settings, caplog) as base:
            for _ in range(2):
                stream = await _get(f"{base}/v1/decisions/stream?startup=true", pki.client("fw"),
                                    headers={"User-Agent": "crowdsec-firewall-bouncer/v0.0.28"})
                assert stream.status_code == 200, stream.text
                assert set(stream.json()) == {"new", "deleted"}
            # a bouncer certificate cannot log in as a machine
            login = await _get(f"{base}/v1/watchers/login", pki.client("fw"), method="POST",
                               json={"scenarios": []})
            assert login.status_code == 401
            assert login.json() == {
                "code": 401,
                "message": "client certificate OU ['bouncer-ou'] doesn't match expected OU "
                           "['agent-ou']"}
            # a certificate of neither role
            other = await _get(f"{base}/v1/decisions", pki.client("other"))
            assert other.status_code == 403

    asyncio.run(main())
    [bouncer] = _rows(settings, Bouncer)
    assert (bouncer.name, bouncer.auth_type, bouncer.revoked, bouncer.type, bouncer.version) == \
        ("fw-01@127.0.0.1", "tls", False, "crowdsec-firewall-bouncer", "v0.0.28")
    assert _rows(settings, Machine) == []


def test_passwords_and_keys_still_work_over_https(settings, pki, caplog) -> None:
    settings.tls = _tls(pki, agents_allowed_ou=("agents", "agent-ou"))
    database = open_database(settings.db_url)
    with database.session() as session:
        add_machine(session, "agent-01", "Secret-pass-123", validated=True)
        # a password machine may not be taken over by a certificate of the same name
        add_machine(session, "web-01@127.0.0.1", "Secret-pass-123", validated=True)
        key = add_bouncer(session, "b1")
        add_bouncer(session, "fw-01@127.0.0.1")
    database.dispose()

    async def main() -> None:
        async with _serving(settings, caplog) as base:
            login = await _get(f"{base}/v1/watchers/login", pki.client(), method="POST",
                               json={"machine_id": "agent-01", "password": "Secret-pass-123"})
            assert login.status_code == 200
            missing = await _get(f"{base}/v1/watchers/login", pki.client(), method="POST",
                                 json={"scenarios": []})
            assert missing.status_code == 422
            assert missing.json() == {"message": "body.machine_id: Field required; "
                                                 "body.password: Field required"}
            pulled = await _get(f"{base}/v1/decisions", pki.client(), headers={"X-Api-Key": key})
            assert pulled.status_code == 200
            taken = await _get(f"{base}/v1/watchers/login", pki.client("agent"), method="POST",
                               json={})
            assert taken.json() == {
                "code": 401,
                "message": "machine web-01@127.0.0.1 attempted to auth with TLS cert but it is "
                           "configured to use password"}
            # with a certificate, its identity counts, not the API key it also sends
            both = await _get(f"{base}/v1/decisions", pki.client("fw"), headers={"X-Api-Key": key})
            assert both.status_code == 403

    asyncio.run(main())


def test_unverified_and_revoked_certificates_fail_the_handshake(settings, pki, caplog) -> None:
    settings.tls = _tls(pki)

    async def main() -> None:
        async with _serving(settings, caplog) as base:  # no CRL: "revoked" is still good
            assert (await _get(f"{base}/health", pki.client("revoked"))).status_code == 200
        settings.tls = _tls(pki, crl_path=pki.root / "crl.pem")
        async with _serving(settings, caplog) as base:
            ok = await _get(f"{base}/v1/watchers/login", pki.client("agent"), method="POST",
                            json={})
            assert ok.status_code == 200
            for name in ("rogue", "revoked"):
                with pytest.raises(httpx.TransportError):
                    await _get(f"{base}/health", pki.client(name))
            # no certificate is fine unless required
            assert (await _get(f"{base}/health", pki.client())).status_code == 200

    asyncio.run(main())
    assert [m.machine_id for m in _rows(settings, Machine)] == ["web-01@127.0.0.1"]


def test_required_client_certificate(settings, pki, caplog) -> None:
    settings.tls = _tls(pki, client_verification="RequireAndVerifyClientCert")

    async def main() -> None:
        async with _serving(settings, caplog) as base:
            assert (await _get(f"{base}/health", pki.client("fw"))).status_code == 200
            with pytest.raises(httpx.TransportError):
                await _get(f"{base}/health", pki.client())

    asyncio.run(main())


def test_no_client_verification_ignores_certificates(settings, pki, caplog) -> None:
    settings.tls = _tls(pki, client_verification="NoClientCert")

    async def main() -> None:
        async with _serving(settings, caplog) as base:
            login = await _get(f"{base}/v1/watchers/login", pki.client("agent"), method="POST",
                               json={})
            assert login.status_code == 422  # no certificate reached the app: a password login

    asyncio.run(main())


def test_bad_certificate_files_are_a_startup_error(settings, pki, tmp_path) -> None:
    settings.tls = replace(_tls(pki), key_file=tmp_path / "missing.key")
    with pytest.raises(LapiStartupError, match="cannot set up TLS"):
        asyncio.run(serve(settings))


def test_settings_refuse_unknown_verification_and_empty_ou(pki) -> None:
    with pytest.raises(ValueError, match="unknown TLS client_verification 'Maybe'"):
        _tls(pki, client_verification="Maybe")
    with pytest.raises(ValueError, match="bouncers_allowed_ou contains an empty OU"):
        _tls(pki, bouncers_allowed_ou=("",))


# -- the RFC 4514 subject carried in the scope

def test_subject_names_round_trip() -> None:
    subject = ((("countryName", "FR"),), (("organizationalUnitName", "agent-ou"),),
               (("organizationalUnitName", "x"), ("commonName", "a, b+c")),
               (("commonName", ' #"<;>\\ é '),), (("emailAddress", "a=b@example.org"),))
    name = format_name(subject)
    assert name == ('emailAddress=a=b@example.org,CN=\\ #\\"\\<\\;\\>\\\\ é\\ ,'
                    "OU=x+CN=a\\, b\\+c,OU=agent-ou,C=FR")
    assert parse_name(name) == [("emailAddress", "a=b@example.org"), ("CN", ' #"<;>\\ é '),
                                ("OU", "x"), ("CN", "a, b+c"), ("OU", "agent-ou"), ("C", "FR")]
    assert parse_name("CN=caf\\C3\\A9") == [("CN", "café")]
    scope = {"extensions": {"tls": {"client_cert_name": name}}}
    # Go's CommonName is the subject's last CN (the first of the RFC 4514 string)
    assert client_subject(scope) == CertSubject(' #"<;>\\ é ', ("x", "agent-ou"))
    assert client_subject({"extensions": {"tls": {"client_cert_name": None}}}) is None
    assert client_subject({}) is None
    for bad in ("CN", "=x,", "CN=x\\", "CN=\\FF"):
        with pytest.raises(ValueError):
            parse_name(bad)
