"""config.yaml → LAPI settings for machine tokens and client addresses (``api.server``)."""
from __future__ import annotations

from pathlib import Path

import pytest

from crowdstream.components import JWT_SECRET_ENV, lapi_settings
from crowdstream.config import DEFAULTS_DIR, ConfigError, dump_config, load_config

CONFIG = """
config_paths:
  config_dir: {dir}
  data_dir: {dir}/data
db_config:
  type: sqlite
  db_path: {dir}/data/cs.db
api:
  server:
    profiles_path: {profiles}
{extra}"""
SECRET = "k" * 64


def _settings(tmp_path: Path, extra: str = ""):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(dir=tmp_path, profiles=DEFAULTS_DIR / "profiles.yaml",
                                  extra=extra))
    return lapi_settings(load_config(path))


def test_defaults(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(JWT_SECRET_ENV, raising=False)
    settings = _settings(tmp_path)
    assert (settings.jwt_secret, settings.jwt_ttl_seconds, settings.trusted_proxies) == \
        (None, 3600, None)
    assert [str(n) for n in settings.trusted_ips] == ["127.0.0.1/32", "::1/128"]
    shipped = load_config()
    assert shipped.api.server.jwt_secret is None  # ${CROWDSTREAM_LAPI_JWT_SECRET} unset
    assert shipped.api.server.use_forwarded_for_headers is False


def test_secret_from_config_then_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(JWT_SECRET_ENV, "e" * 64)
    assert _settings(tmp_path).jwt_secret == "e" * 64
    assert _settings(tmp_path, f"    jwt_secret: {SECRET}\n").jwt_secret == SECRET
    shipped = load_config()  # the shipped file expands it, and never shows it
    assert shipped.api.server.jwt_secret.get_secret_value() == "e" * 64
    assert "jwt_secret: '**********'" in dump_config(shipped)
    monkeypatch.setenv(JWT_SECRET_ENV, "short")
    with pytest.raises(ConfigError, match=f"^{JWT_SECRET_ENV}: too short"):
        _settings(tmp_path)


@pytest.mark.parametrize(("extra", "key"), [
    ("    jwt_secret: tooshort\n", "api.server.jwt_secret"),
    ("    jwt_ttl_seconds: 60\n", "api.server.jwt_ttl_seconds"),
    ("    trusted_ips: [lan]\n", "api.server.trusted_ips"),
    ("    trusted_proxies: [10.0.0.0/33]\n", "api.server.trusted_proxies"),
])
def test_bad_values_name_the_key(tmp_path, extra, key) -> None:
    with pytest.raises(ConfigError, match=key):
        _settings(tmp_path, extra)


def test_forwarded_headers_as_crowdsec(tmp_path) -> None:
    on = _settings(tmp_path, "    use_forwarded_for_headers: true\n")
    assert [str(n) for n in on.trusted_proxies] == ["0.0.0.0/0", "::/0"]
    proxies = _settings(tmp_path, "    trusted_proxies: [10.0.0.0/8]\n    trusted_ips: "
                                  "[192.0.2.0/24]\n    jwt_ttl_seconds: 600\n")
    assert [str(n) for n in proxies.trusted_proxies] == ["10.0.0.0/8"]
    assert [str(n) for n in proxies.trusted_ips] == ["192.0.2.0/24"]
    assert proxies.jwt_ttl_seconds == 600


def test_tls_section(tmp_path) -> None:
    assert _settings(tmp_path, "    tls:\n      ca_cert_path: /ca.pem\n").tls is None  # no cert
    settings = _settings(tmp_path, "    disable_remote_lapi_registration: true\n"
                                   "    tls:\n      cert_file: /s.crt\n      key_file: /s.key\n"
                                   "      agents_allowed_ou: [agents, ops]\n")
    assert settings.disable_remote_registration is True
    tls = settings.tls
    assert (tls.cert_file, tls.key_file, tls.client_verification, tls.ca_cert_path,
            tls.crl_path, tls.agents_allowed_ou, tls.bouncers_allowed_ou) == \
        (Path("/s.crt"), Path("/s.key"), "VerifyClientCertIfGiven", None, None,
         ("agents", "ops"), ("bouncer-ou",))
    assert _settings(tmp_path).disable_remote_registration is False


@pytest.mark.parametrize(("tls", "message"), [
    ("      cert_file: /s.crt\n", "api.server.tls.key_file: required with cert_file"),
    ("      cert_file: /s.crt\n      key_file: /k\n      client_verification: Maybe\n",
     "api.server.tls.client_verification"),
    ("      cert_file: /s.crt\n      key_file: /k\n      bouncers_allowed_ou: ['']\n",
     "api.server.tls: bouncers_allowed_ou contains an empty OU"),
])
def test_bad_tls_sections(tmp_path, tls, message) -> None:
    with pytest.raises(ConfigError, match=message):
        _settings(tmp_path, "    tls:\n" + tls)


def test_alerts_consumer_can_be_turned_off(tmp_path) -> None:
    assert _settings(tmp_path).alerts_topic == "crowdstream.alerts"
    assert _settings(tmp_path, "    alerts_consumer: false\n").alerts_topic is None
