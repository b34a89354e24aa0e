"""Config loading: CrowdSec keys, ${ENV} expansion, .local override, one-line errors, exit 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crowdstream.config import ConfigError, load_config

MINIMAL = """
config_paths:
  config_dir: {dir}
  data_dir: {dir}/data
db_config:
  type: sqlite
  db_path: {dir}/data/cs.db
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crowdstream", *args],
                          capture_output=True, text=True, timeout=60)


def test_shipped_defaults_load() -> None:
    config = load_config()
    assert config.db_config.type == "sqlite"
    assert config.api.server.listen_uri == "127.0.0.1:8080"
    assert config.prometheus.listen_port == 6060
    assert config.kafka.embedded is True
    assert config.kafka.servers == "127.0.0.1:19092"
    assert (config.config_paths.config_dir / "profiles.yaml").exists()


def test_env_expansion_and_local_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CS_TEST_PORT", "9191")
    path = write(tmp_path / "config.yaml", MINIMAL.format(dir=tmp_path) +
                 "api:\n  server:\n    listen_uri: 127.0.0.1:${CS_TEST_PORT}\n"
                 "kafka:\n  partitions: 4\n  topic_prefix: a\n")
    write(tmp_path / "config.yaml.local", "kafka:\n  partitions: 12\n")
    config = load_config(path)
    assert config.api.server.listen_uri == "127.0.0.1:9191"
    assert config.kafka.partitions == 12
    assert config.kafka.topic_prefix == "a"  # merged, not replaced


def test_database_urls(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", MINIMAL.format(dir=tmp_path).replace(
        "  type: sqlite\n  db_path: {}/data/cs.db\n".format(tmp_path),
        "  type: postgresql\n  host: db\n  user: cs\n  password: 'p@ss'\n  db_name: crowdsec\n"))
    assert load_config(path).db_config.url == "postgresql+psycopg://cs:p%40ss@db:5432/crowdsec"
    path.write_text(path.read_text().replace("type: postgresql", "type: pgx")
                    .replace("db_name: crowdsec", "db_name: crowdsec\n  sslmode: require"))
    assert load_config(path).db_config.url == \
        "postgresql+psycopg://cs:p%40ss@db:5432/crowdsec?sslmode=require"
    path.write_text(path.read_text().replace("type: pgx", "type: mysql")
                    .replace("host: db", "host: db\n  port: 3307"))
    assert load_config(path).db_config.url == \
        "mysql+pymysql://cs:p%40ss@db:3307/crowdsec?charset=utf8mb4"
    sqlite = write(tmp_path / "s.yaml", MINIMAL.format(dir=tmp_path))
    assert load_config(sqlite).db_config.url == f"sqlite:///{tmp_path}/data/cs.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("db_config: [unclosed\n", "invalid YAML (line 2, column 1)"),
        (MINIMAL.replace("type: sqlite", "type: oracle"),
         "db_config.type: 'oracle' is not one of 'sqlite', 'postgresql', 'postgres', 'pgx' or 'mysql'"),
        (MINIMAL + "kafka:\n  partitons: 3\n", "kafka.partitons: unknown key"),
        (MINIMAL + "api:\n  server:\n    listen_uri: nowhere\n",
         "api.server.listen_uri: expected host:port, got 'nowhere'"),
        (MINIMAL.replace("  db_path: {dir}/data/cs.db\n", ""),
         "db_config: db_path is required when type is sqlite"),
        (MINIMAL + "pipeline:\n  watermark_lag: soon\n",
         "pipeline.watermark_lag: not a duration"),
        (MINIMAL + "pipeline:\n  watermark_lag: -5s\n",
         "pipeline.watermark_lag: must not be negative"),
        (MINIMAL + "api:\n  server:\n    auto_registration:\n      enabled: true\n"
                   "      token: short\n      allowed_ranges: [10.0.0.0/8]\n",
         "api.server.auto_registration: token is too short (32 characters at least)"),
        (MINIMAL + "api:\n  server:\n    auto_registration:\n      enabled: true\n"
                   "      token: " + "t" * 32 + "\n",
         "api.server.auto_registration: allowed_ranges is required when enabled"),
        (MINIMAL + "api:\n  server:\n    auto_registration:\n      allowed_ranges: [lan]\n",
         "api.server.auto_registration.allowed_ranges: 'lan' does not appear to be an IPv4 or"),
        (MINIMAL + "  flush:\n    max_items: 0\n",
         "db_config.flush.max_items: Input should be greater than 0"),
        (MINIMAL + "  flush:\n    max_age: 7x\n",
         "db_config.flush.max_age: not a duration: unknown unit 'x'"),
        (MINIMAL + "  flush:\n    bouncers_autodelete:\n      api_key: 0s\n",
         "db_config.flush.bouncers_autodelete.api_key: must be positive"),
        (MINIMAL + "  flush:\n    agents_autodelete:\n      api_key: 1h\n",
         "db_config.flush: agents_autodelete.api_key: agents have no API key"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "config.yaml", text.format(dir=tmp_path))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {message}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("common:\n  log_level: loud\n", "common.log_level: 'loud' is not one of"),
        (MINIMAL.replace("type: sqlite", "type: db2"), "db_config.type: 'db2' is not one of"),
        ("config_paths: [\n", "invalid YAML"),
    ],
)
def test_cli_config_error_is_one_line_and_exit_2(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "config.yaml", text.format(dir=tmp_path))
    result = run_cli("-c", str(path), "config", "show")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"crowdstream: config error: {path}: ")
    assert expected in lines[0]


def test_cli_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run_cli("-c", str(missing), "run")
    assert result.returncode == 2
    assert result.stderr.strip() == f"crowdstream: config error: {missing}: cannot read: No such file or directory"


def test_config_show_prints_effective_config(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yaml", MINIMAL.format(dir=tmp_path) + "kafka:\n  partitions: 3\n")
    result = run_cli("-c", str(path), "config", "show")
    assert result.returncode == 0, result.stderr
    assert "partitions: 3\n" in result.stdout
    assert f"db_path: {tmp_path}/data/cs.db\n" in result.stdout


def test_run_refuses_broken_content_before_starting_anything(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "parsers" / "s01-parse").mkdir(parents=True)
    (content / "scenarios").mkdir()
    (content / "patterns").mkdir()
    (content / "profiles.yaml").write_text("name: p\nfilters: ['true']\ndecisions: [{type: ban, duration: 4h}]\n")
    bad = content / "scenarios" / "bad.yaml"
    bad.write_text("type: leaky\nname: x/y\nfilter: 'true'\ncapacity: 1\nleakspeed: 1s\ncapacty: 3\n")
    path = write(tmp_path / "config.yaml", MINIMAL.format(dir=content))
    result = run_cli("-c", str(path), "run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"crowdstream: config error: {bad}")
    assert "capacty" in lines[0]


@pytest.mark.parametrize(("lag", "seconds"), [("", 60.0), ("  watermark_lag: 90s\n", 90.0),
                                              ("  watermark_lag: null\n", None)])
def test_watermark_lag(tmp_path: Path, lag: str, seconds: float | None) -> None:
    path = write(tmp_path / "config.yaml", (MINIMAL + "pipeline:\n  tick_interval: 0.5\n" + lag).format(dir=tmp_path))
    config = load_config(path)
    assert config.pipeline.watermark_lag_seconds == seconds
    assert config.pipeline.tick_interval == 0.5


def test_flush_section_becomes_the_lapi_retention_policy(tmp_path: Path) -> None:
    from datetime import timedelta

    from crowdstream.components import lapi_settings

    profiles = write(tmp_path / "profiles.yaml", "name: x\nfilters: ['true']\n")
    flush = """  flush:
    max_items: 100
    max_age: 2d
    metrics_max_age: 12h
    bouncers_autodelete:
      cert: 1h
      api_key: 30m
    agents_autodelete:
      login_password: 7d
"""
    server = f"api:\n  server:\n    profiles_path: {profiles}\n"
    path = write(tmp_path / "c.yaml", MINIMAL.format(dir=tmp_path) + flush + server)
    policy = lapi_settings(load_config(path)).flush
    assert policy is not None
    assert (policy.max_items, policy.max_age, policy.metrics_max_age) == (
        100, timedelta(days=2), timedelta(hours=12))
    assert policy.bouncers_autodelete == {"tls": timedelta(hours=1),
                                          "api-key": timedelta(minutes=30)}
    assert policy.agents_autodelete == {"password": timedelta(days=7)}
    plain = write(tmp_path / "p.yaml", MINIMAL.format(dir=tmp_path) + server)
    assert lapi_settings(load_config(plain)).flush is None


@pytest.mark.parametrize(("window", "expected"), [(None, 600), ("90s", 90), ("null", None)])
def test_decision_dedup_window(tmp_path: Path, window: str | None, expected: int | None) -> None:
    from crowdstream.components import lapi_settings

    profiles = write(tmp_path / "profiles.yaml", "name: x\nfilters: ['true']\n")
    server = f"api:\n  server:\n    profiles_path: {profiles}\n"
    if window:
        server += f"    decision_dedup_window: {window}\n"
    path = write(tmp_path / "c.yaml", MINIMAL.format(dir=tmp_path) + server)
    got = lapi_settings(load_config(path)).decision_dedup_window
    assert (None if got is None else got.total_seconds()) == expected


def test_auto_registration_settings(tmp_path: Path) -> None:
    from crowdstream.components import lapi_settings

    profiles = write(tmp_path / "profiles.yaml", "name: x\nfilters: ['true']\n")
    server = (f"api:\n  server:\n    profiles_path: {profiles}\n    auto_registration:\n"
              f"      enabled: true\n      token: {'k' * 40}\n"
              f"      allowed_ranges: [10.0.0.0/8, '2001:db8::/32']\n")
    path = write(tmp_path / "c.yaml", MINIMAL.format(dir=tmp_path) + server)
    auto = lapi_settings(load_config(path)).auto_registration
    assert auto is not None and auto.token == "k" * 40
    assert [str(n) for n in auto.allowed_ranges] == ["10.0.0.0/8", "2001:db8::/32"]
    assert "k" * 40 not in run_cli("-c", str(path), "config", "show").stdout


def test_simulation_file_marks_scenarios(tmp_path: Path) -> None:
    from crowdstream.components import load_content

    defaults = Path(__file__).resolve().parents[3] / "crowdstream" / "defaults"
    sim = write(tmp_path / "simulation.yaml", "simulation: true\n")
    text = (f"config_paths:\n  config_dir: {defaults}\n  data_dir: {tmp_path}\n"
            f"  simulation_path: {sim}\n"
            f"db_config:\n  type: sqlite\n  db_path: {tmp_path}/cs.db\n")
    config = load_config(write(tmp_path / "c.yaml", text))
    assert [s.simulated for s in load_content(config).scenarios.values()] == [True]
    sim.write_text("simulation: maybe\n")
    with pytest.raises(ConfigError, match=r"simulation\.yaml:1: simulation: expected true or false"):
        load_content(config)
