"""How each crowdstream process is built from the config: the one place that maps
config.yaml onto the settings of ``pipeline``, ``lapi`` and the shipper."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaProducer

from crowdstream.acquisition.shipper import Shipper
from crowdstream.acquisition.spec import FileSourceSpec, load_acquisition
from crowdstream.config import AutoDelete, Config, ConfigError, split_host_port
from crowdstream.kafka_client import client_options
from crowdstream.rdns import CachedResolver
from engine.durations import parse_duration
from topics.admin import ensure_topics
from topics.names import TopicNames
from topics.specs import topic_specs

if TYPE_CHECKING:
    from engine.content import Content
    from lapi.settings import AutoRegistrationSettings, FlushPolicy, LapiSettings, TlsSettings

log = logging.getLogger("crowdstream")

JWT_SECRET_ENV = "CROWDSTREAM_LAPI_JWT_SECRET"


def topic_names(config: Config) -> TopicNames:
    return TopicNames(config.kafka.topic_prefix)


async def create_topics(config: Config) -> None:
    """Create the pipeline's topics if missing (every process may do it: it is idempotent)."""
    specs = topic_specs(topic_names(config), config.kafka.partitions, config.kafka.replication_factor)
    created = await ensure_topics(config.kafka.servers, specs, client_options(config.kafka.client))
    if created:
        log.info("created topics %s", ", ".join(created))


def load_content(config: Config) -> Content:
    """The parsers, scenarios and patterns under ``config_paths`` (CrowdSec's layout)."""
    from engine.content import Content
    from engine.runtime import Runtime, RuntimeOptions
    from engine.simulation import load_simulation
    from engine.spec import ContentError

    config_dir = config.config_paths.config_dir
    for key, path in (("config_dir", config_dir / "parsers"), ("config_dir", config_dir / "scenarios"),
                      ("pattern_dir", config.config_paths.patterns)):
        if not path.is_dir():
            raise ConfigError(f"{config.source}: config_paths.{key}: {path} is not a directory")
    options = RuntimeOptions(data_dir=config.config_paths.data_dir, resolver=CachedResolver(),
                             now=time.time, hostname=socket.gethostname())
    simulation_path = config.config_paths.simulation_path or config_dir / "simulation.yaml"
    try:
        postoverflows = config_dir / "postoverflows"
        simulation = load_simulation(simulation_path) if simulation_path.exists() else None
        return Content.load([config_dir / "parsers"], [config_dir / "scenarios"],
                            config.config_paths.patterns, runtime=Runtime(options),
                            postoverflow_dirs=[postoverflows] if postoverflows.is_dir() else [],
                            simulation=simulation)
    except ContentError as exc:
        raise ConfigError(str(exc)) from None


def check(config: Config) -> None:
    """Everything each process will load, loaded once up front: ConfigError on any problem."""
    load_content(config)
    lapi_settings(config)
    acquisition(config)


def acquisition(config: Config) -> list[FileSourceSpec]:
    service = config.crowdsec_service
    specs = load_acquisition(service.acquisition_path, service.acquisition_dir)
    if not specs:
        raise ConfigError(f"{config.source}: crowdsec_service.acquisition_path: no datasource configured")
    return specs


def run_worker(config: Config, worker_id: int = 0) -> None:
    """Blocks running one pipeline worker."""
    from pipeline.app import build_app
    from pipeline.settings import PipelineSettings
    from pipeline.worker import run_worker as run_faust_worker

    content = load_content(config)
    asyncio.run(create_topics(config))
    data_dir = config.pipeline_data_dir / f"worker-{worker_id}"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = PipelineSettings(
        bootstrap_servers=config.kafka.servers,
        topics=topic_names(config),
        partitions=config.kafka.partitions,
        replication_factor=config.kafka.replication_factor,
        store=config.pipeline.store,
        data_dir=data_dir,
        linger_ms=config.pipeline.linger_ms,
        web_port=None,
        client_options=client_options(config.kafka.client),
        tick_interval=config.pipeline.tick_interval,
        watermark_lag=config.pipeline.watermark_lag_seconds,
    )
    run_faust_worker(build_app(settings, content), loglevel=config.common.log_level)


def lapi_settings(config: Config) -> LapiSettings:
    from lapi.settings import LapiSettings

    host, port = split_host_port(config.api.server.listen_uri)
    profiles = config.api.server.profiles_path or config.config_paths.config_dir / "profiles.yaml"
    if not profiles.exists():
        raise ConfigError(f"{config.source}: api.server.profiles_path: {profiles} does not exist")
    if config.db_config.type == "sqlite":
        Path(config.db_config.db_path).parent.mkdir(parents=True, exist_ok=True)
    return LapiSettings(
        db_url=config.db_config.url,
        listen_host=host,
        listen_port=port,
        profiles_path=profiles,
        alerts_topic=topic_names(config).alerts if config.api.server.alerts_consumer else None,
        kafka_bootstrap=config.kafka.servers,
        # one group per deployment: deployments with other topic prefixes on the same
        # cluster never rebalance each other's LAPIs
        kafka_group=f"{config.kafka.topic_prefix}-lapi",
        kafka_client_options=client_options(config.kafka.client),
        flush=_flush_policy(config),
        decision_dedup_window=_duration(config.api.server.decision_dedup_window),
        **_lapi_auth_settings(config),
    )


def _duration(text: str | None) -> timedelta | None:
    """A validated config duration (CrowdSec's ``d`` unit allowed) as a timedelta."""
    if text is None:
        return None
    return timedelta(microseconds=parse_duration(text, days=True) // 1000)


def _flush_policy(config: Config) -> FlushPolicy | None:
    """``db_config.flush`` as the LAPI's retention policy (validated by the config)."""
    from lapi.settings import FlushPolicy

    flush = config.db_config.flush
    if flush is None:
        return None

    def autodelete(section: AutoDelete | None) -> dict[str, timedelta]:
        if section is None:
            return {}
        by_type = {"tls": section.cert, "api-key": section.api_key,
                   "password": section.login_password}
        return {kind: _duration(text) for kind, text in by_type.items() if text}

    options: dict[str, Any] = {
        "max_items": flush.max_items,
        "max_age": _duration(flush.max_age),
        "bouncers_autodelete": autodelete(flush.bouncers_autodelete),
        "agents_autodelete": autodelete(flush.agents_autodelete)}
    if flush.metrics_max_age:
        options["metrics_max_age"] = _duration(flush.metrics_max_age)
    return FlushPolicy(**options)


def _lapi_auth_settings(config: Config) -> dict[str, Any]:
    """The LAPI settings of machine tokens and client addresses (CrowdSec semantics:
    ``trusted_proxies`` implies forwarded-for headers, which without it trust any proxy)."""
    from lapi.clientip import ANY_PROXY

    server = config.api.server
    configured = server.jwt_secret.get_secret_value() if server.jwt_secret else None
    secret = configured or os.environ.get(JWT_SECRET_ENV) or None
    if secret is not None and len(secret) < 64:
        raise ConfigError(f"{JWT_SECRET_ENV}: too short (64 characters at least)")
    proxies = server.trusted_proxies
    if proxies is None and server.use_forwarded_for_headers:
        proxies = list(ANY_PROXY)
    return {"jwt_secret": secret, "jwt_ttl_seconds": server.jwt_ttl_seconds,
            "trusted_ips": server.trusted_ips, "trusted_proxies": proxies,
            "disable_remote_registration": bool(server.disable_remote_lapi_registration),
            "auto_registration": _auto_registration(config),
            "tls": _lapi_tls(config)}


def _auto_registration(config: Config) -> AutoRegistrationSettings | None:
    from lapi.settings import AutoRegistrationSettings

    auto = config.api.server.auto_registration
    if auto is None or not auto.enabled or auto.token is None:
        return None
    return AutoRegistrationSettings(token=auto.token.get_secret_value(),
                                    allowed_ranges=tuple(auto.allowed_ranges or ()))


def _lapi_tls(config: Config) -> TlsSettings | None:
    """HTTPS when ``api.server.tls`` has a certificate (as CrowdSec; plain HTTP otherwise)."""
    from lapi.settings import TlsSettings

    tls = config.api.server.tls
    if tls is None or tls.cert_file is None:
        return None
    if tls.key_file is None:
        raise ConfigError(f"{config.source}: api.server.tls.key_file: required with cert_file")
    options: dict[str, Any] = {
        "cert_file": tls.cert_file, "key_file": tls.key_file, "ca_cert_path": tls.ca_cert_path,
        "crl_path": tls.crl_path,
        "client_verification": tls.client_verification or "VerifyClientCertIfGiven"}
    for key in ("agents_allowed_ou", "bouncers_allowed_ou"):
        if getattr(tls, key) is not None:
            options[key] = tuple(getattr(tls, key))
    try:
        return TlsSettings(**options)
    except ValueError as exc:
        raise ConfigError(f"{config.source}: api.server.tls: {exc}") from None


def run_lapi(config: Config) -> None:
    from lapi.server import serve

    settings = lapi_settings(config)

    async def main() -> None:
        if settings.alerts_topic is not None:
            await create_topics(config)
        await serve(settings)

    asyncio.run(main())


def run_ship(config: Config) -> None:
    asyncio.run(_ship(config, acquisition(config)))


async def _ship(config: Config, specs: list[FileSourceSpec]) -> None:
    await create_topics(config)
    producer = AIOKafkaProducer(bootstrap_servers=config.kafka.servers, linger_ms=5,
                                **client_options(config.kafka.client))
    await producer.start()
    log.info("shipper ready: %d datasource(s) to topic %s", len(specs), topic_names(config).raw)
    try:
        await Shipper(producer, topic_names(config).raw).run(specs)
    finally:
        await producer.stop()
