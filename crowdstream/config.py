"""The crowdstream configuration: a CrowdSec-compatible ``config.yaml`` plus our own
``kafka:`` and ``pipeline:`` sections.

Loading follows CrowdSec: ``${VAR}`` references are expanded from the environment, then a
``config.yaml.local`` next to the file is deep-merged over it (maps merge, other values
replace). Every key is validated; an error is one :class:`ConfigError` line naming the file,
the key and what is wrong. Relative paths are resolved against the working directory.

Two variables are always available to expansion (the environment may override them):
``CROWDSTREAM_DEFAULTS`` — the shipped defaults directory inside the package, and
``CROWDSTREAM_DATA`` — where runtime data goes (``./var`` by default).
"""
from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from engine.durations import parse_duration

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
DEFAULT_CONFIG = DEFAULTS_DIR / "config.yaml"

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """A configuration problem, already phrased as one line: ``FILE: KEY: reason``."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Common(_Section):
    daemonize: bool = False
    pid_dir: str | None = None
    log_media: Literal["stdout", "file"] = "stdout"
    log_dir: str | None = None
    log_level: Literal["trace", "debug", "info", "warning", "error", "fatal", "panic"] = "info"
    log_max_size: int | None = None
    log_max_age: int | None = None
    log_max_files: int | None = None
    compress_logs: bool | None = None
    working_dir: str | None = None
    force_color_logs: bool | None = None


class ConfigPaths(_Section):
    config_dir: Path
    data_dir: Path
    simulation_path: Path | None = None
    hub_dir: Path | None = None
    index_path: Path | None = None
    notification_dir: Path | None = None
    plugin_dir: Path | None = None
    pattern_dir: Path | None = None

    @property
    def patterns(self) -> Path:
        return self.pattern_dir or self.config_dir / "patterns"


class CrowdsecService(_Section):
    enable: bool = True
    acquisition_path: Path | None = None
    acquisition_dir: Path | None = None
    console_context_path: Path | None = None
    context_path: Path | None = None
    parser_routines: int = 1
    buckets_routines: int = 1
    output_routines: int = 1


class Cscli(_Section):
    output: Literal["human", "json", "raw"] = "human"
    color: str | None = None
    hub_branch: str | None = None
    prometheus_uri: str | None = None


def _go_duration(*, days: bool = True, positive: bool = False) -> Callable[[str | None], str | None]:
    """A field check: a Go duration (with CrowdSec's ``d`` unit when ``days``), never
    negative, and more than zero when ``positive``."""

    def check(value: str | None) -> str | None:
        if value is not None:
            try:
                ns = parse_duration(value, days=days)
            except ValueError as exc:
                raise ValueError(f"not a duration: {exc}") from None
            if positive and ns <= 0:
                raise ValueError("must be positive")
            if ns < 0:
                raise ValueError("must not be negative")
        return value

    return check


class AutoDelete(_Section):
    """How long a client may stay silent, per auth type, before the flush deletes it."""

    cert: str | None = None
    api_key: str | None = None
    login_password: str | None = None

    _durations = field_validator("cert", "api_key", "login_password")(
        _go_duration(positive=True))


class Flush(_Section):
    """CrowdSec's ``db_config.flush`` (:mod:`lapi.flush`)."""

    max_items: int | None = Field(None, gt=0)
    max_age: str | None = None
    metrics_max_age: str | None = None
    bouncers_autodelete: AutoDelete | None = None
    agents_autodelete: AutoDelete | None = None

    _durations = field_validator("max_age", "metrics_max_age")(_go_duration(positive=True))

    @model_validator(mode="after")
    def _auth_types(self) -> Flush:
        # as CrowdSec: bouncers cannot log in with a password, agents have no API key
        if self.bouncers_autodelete and self.bouncers_autodelete.login_password:
            raise ValueError("bouncers_autodelete.login_password: bouncers have no password")
        if self.agents_autodelete and self.agents_autodelete.api_key:
            raise ValueError("agents_autodelete.api_key: agents have no API key")
        return self


class DbConfig(_Section):
    type: Literal["sqlite", "postgresql", "postgres", "pgx", "mysql"] = "sqlite"
    db_path: Path | None = None
    user: str | None = None
    password: str | None = None
    db_name: str | None = None
    host: str | None = None
    port: int | None = None
    sslmode: str | None = None
    log_level: str | None = None
    max_open_conns: int | None = None
    use_wal: bool | None = None
    decision_bulk_size: int | None = None
    flush: Flush | None = None

    @model_validator(mode="after")
    def _complete(self) -> DbConfig:
        if self.type == "sqlite":
            if self.db_path is None:
                raise ValueError("db_path is required when type is sqlite")
        else:
            for key in ("host", "user", "db_name"):
                if not getattr(self, key):
                    raise ValueError(f"{key} is required when type is {self.type}")
        return self

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of this database: drivers ``psycopg`` (v3) and ``pymysql``."""
        if self.type == "sqlite":
            return f"sqlite:///{self.db_path}"
        driver = "mysql+pymysql" if self.type == "mysql" else "postgresql+psycopg"
        port = self.port or (3306 if self.type == "mysql" else 5432)
        auth = quote(self.user or "", safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        if self.type == "mysql":
            query = "?charset=utf8mb4"  # all of Unicode, as the LAPI's tables
        else:
            query = f"?sslmode={quote(self.sslmode, safe='')}" if self.sslmode else ""
        return f"{driver}://{auth}@{self.host}:{port}/{self.db_name}{query}"


class ApiClient(_Section):
    insecure_skip_verify: bool = False
    credentials_path: Path | None = None
    unregister_on_exit: bool | None = None


class Tls(_Section):
    cert_file: Path | None = None
    key_file: Path | None = None
    client_verification: Literal["NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                                 "VerifyClientCertIfGiven",
                                 "RequireAndVerifyClientCert"] | None = None
    ca_cert_path: Path | None = None
    crl_path: Path | None = None
    cache_expiration: str | None = None
    agents_allowed_ou: list[str] | None = None
    bouncers_allowed_ou: list[str] | None = None


class AutoRegistration(_Section):
    """CrowdSec's ``api.server.auto_registration``: a machine registering with this token
    from one of these ranges is validated at once."""

    enabled: bool = False
    token: SecretStr | None = None  # masked by ``config show``
    allowed_ranges: list[str] | None = None

    @field_validator("allowed_ranges")
    @classmethod
    def _ranges(cls, value: list[str] | None) -> list[str] | None:
        for item in value or ():
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad one
        return value

    @model_validator(mode="after")
    def _complete(self) -> AutoRegistration:
        if self.enabled:
            token = self.token.get_secret_value() if self.token else ""
            if not token:
                raise ValueError("token is required when enabled")
            if len(token) < 32:
                raise ValueError("token is too short (32 characters at least)")
            if self.allowed_ranges is None:
                raise ValueError("allowed_ranges is required when enabled")
        return self


class ApiServer(_Section):
    enable: bool = True
    log_level: str | None = None
    listen_uri: str = "127.0.0.1:8080"
    profiles_path: Path | None = None
    console_path: Path | None = None
    use_forwarded_for_headers: bool = False
    trusted_ips: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    trusted_proxies: list[str] | None = None
    tls: Tls | None = None
    online_client: dict[str, Any] | None = None
    auto_registration: AutoRegistration | None = None
    disable_remote_lapi_registration: bool | None = None
    capi_whitelists_path: Path | None = None
    #: consume the pipeline's alerts topic (false: a LAPI fed by HTTP agents only, no Kafka)
    alerts_consumer: bool = True
    #: HS256 secret of the machines' tokens, shared by every LAPI replica (64 characters at
    #: least, as CrowdSec's CS_LAPI_SECRET); unset: $CROWDSTREAM_LAPI_JWT_SECRET, else random
    jwt_secret: SecretStr | None = Field(None, min_length=64)  # masked by ``config show``
    jwt_ttl_seconds: int = Field(3600, gt=60, le=2_678_400)
    #: a decision the profiles give is not stored when an active one of the same type on the
    #: same value already lasts until at least this long before its end (CrowdSec #827: no
    #: pile of duplicates under a flood); null: every alert gets its decisions
    decision_dedup_window: str | None = "10m"

    _dedup_window = field_validator("decision_dedup_window")(_go_duration())

    @field_validator("listen_uri")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_host_port(value)
        return value

    @field_validator("jwt_secret", mode="before")
    @classmethod
    def _unset_if_empty(cls, value: Any) -> Any:
        return value or None  # "" is what an unset ${VAR} expands to

    @field_validator("trusted_ips", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        for item in value or ():
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad one
        return value


class Api(_Section):
    client: ApiClient = ApiClient()
    server: ApiServer = ApiServer()


class Prometheus(_Section):
    enabled: bool = True
    level: Literal["full", "aggregated"] = "full"
    listen_addr: str = "127.0.0.1"
    listen_port: int = Field(6060, ge=0, le=65535)


class KafkaClient(_Section):
    """Client settings passed to every Kafka client (aiokafka names)."""

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: str | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    client_id: str = "crowdstream"


class Kafka(_Section):
    embedded: bool = True
    embedded_listen: str = "127.0.0.1:19092"
    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field("crowdstream", pattern=r"^[A-Za-z0-9._-]+$")
    partitions: int = Field(8, ge=1, le=1024)
    replication_factor: int = Field(1, ge=1, le=16)
    client: KafkaClient = KafkaClient()

    @field_validator("embedded_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_host_port(value)
        return value

    @property
    def servers(self) -> str:
        """The bootstrap servers clients use (the embedded broker's address when embedded)."""
        return self.embedded_listen if self.embedded else self.bootstrap_servers


class Pipeline(_Section):
    store: str = Field("memory://", pattern=r"^(memory://|rocksdb://.*)$")
    workers: int = Field(1, ge=1, le=64)
    data_dir: Path | None = None
    linger_ms: int = Field(20, ge=0, le=10_000)
    web_port: int = Field(6066, ge=0, le=65535)
    #: seconds between the time records the leader sends to every pours partition
    tick_interval: float = Field(1.0, gt=0, le=3600)
    #: how far the bucket watermark trails the later of event time and wall-clock time (a Go
    #: duration); null: event time only (replays — buckets then never expire by wall clock)
    watermark_lag: str | None = "1m"

    _lag = field_validator("watermark_lag")(_go_duration(days=False))

    @property
    def watermark_lag_seconds(self) -> float | None:
        return None if self.watermark_lag is None else parse_duration(self.watermark_lag) / 1e9


class Config(_Section):
    """The whole effective configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    common: Common = Common()
    config_paths: ConfigPaths
    crowdsec_service: CrowdsecService = CrowdsecService()
    cscli: Cscli = Cscli()
    db_config: DbConfig
    plugin_config: dict[str, Any] | None = None
    api: Api = Api()
    prometheus: Prometheus = Prometheus()
    kafka: Kafka = Kafka()
    pipeline: Pipeline = Pipeline()

    source: Path = Field(DEFAULT_CONFIG, exclude=True)

    @property
    def pipeline_data_dir(self) -> Path:
        return self.pipeline.data_dir or self.config_paths.data_dir / "pipeline"


def split_host_port(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` / ``"[::1]:8080"`` → (host, port); ValueError with a reason."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected host:port, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def expansion_env() -> dict[str, str]:
    """Variables visible to ``${VAR}`` expansion."""
    env = {
        "CROWDSTREAM_DEFAULTS": str(DEFAULTS_DIR),
        "CROWDSTREAM_DATA": str(Path("var").resolve()),
    }
    env.update(os.environ)
    return env


def expand(text: str, env: dict[str, str]) -> str:
    """Expand ``${VAR}``; an unset variable expands to the empty string, as in CrowdSec."""
    return _VAR.sub(lambda m: env.get(m.group(1), ""), text)


def read_yaml(path: Path, env: dict[str, str] | None = None) -> Any:
    """Read one YAML document with ``${VAR}`` expansion; ConfigError on any problem."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return yaml.safe_load(expand(text, env if env is not None else expansion_env()))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Maps merge recursively; any other value in ``override`` replaces the base value."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return key, "unknown key"
    if error["type"] == "literal_error":
        return key, f"{error['input']!r} is not one of {error['ctx']['expected']}"
    if error["type"] == "missing":
        return key, "required key is missing"
    return key, f"{error['msg'].removeprefix('Value error, ')} (got {error['input']!r})"


def load_config(path: Path | None = None) -> Config:
    """Load, merge, expand and validate the config; raises ConfigError (one line)."""
    path = Path(path) if path else DEFAULT_CONFIG
    env = expansion_env()
    data = read_yaml(path, env)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of sections")
    local = path.with_name(path.name + ".local")
    if local.exists():
        extra = read_yaml(local, env)
        if extra is not None and not isinstance(extra, dict):
            raise ConfigError(f"{local}: (top level): expected a mapping of sections")
        data = deep_merge(data, extra or {})
    try:
        return Config.model_validate({**data, "source": path})
    except ValidationError as exc:
        key, reason = _describe(exc.errors()[0])
        raise ConfigError(f"{path}: {key}: {reason}") from None


def dump_config(config: Config) -> str:
    """The effective config as YAML (``crowdstream config show``)."""
    data = config.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False)
