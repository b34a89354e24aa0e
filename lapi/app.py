"""The LAPI FastAPI application: :func:`create_app`.

The lifespan opens the database (creating the schema), loads the profiles, starts the
alerts-topic consumer when Kafka is configured, a task that keeps ``cs_active_decisions``
current and the retention job (:mod:`lapi.flush`); on shutdown it stops them.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from lapi import metrics
from lapi.clock import Clock, utc_now
from lapi.consumer import AlertsConsumer
from lapi.db.session import Database, open_database
from lapi.decisions import count_active
from lapi.errors import InvalidAlert, InvalidFilter
from lapi.flush import flush
from lapi.ingest import ingest_alerts
from lapi.longpoll import ChangeSignal
from lapi.openapi import build_openapi
from lapi.profiles import Profiles, load_profiles
from lapi.routes import alerts as alerts_routes
from lapi.routes import allowlists as allowlists_routes
from lapi.routes import decisions as decisions_routes
from lapi.routes import health as health_routes
from lapi.routes import usage_metrics as usage_metrics_routes
from lapi.routes import watchers as watchers_routes
from lapi.settings import FlushPolicy, LapiSettings
from lapi.tokens import Tokens, tokens_from_settings
from lapi.web import HTTPError, JSONBody

log = logging.getLogger("crowdstream.lapi")

Labels = tuple[str, str, str]


@dataclass(slots=True)
class LapiState:
    """What the handlers and the consumer share (``app.state.lapi``)."""

    settings: LapiSettings
    database: Database
    profiles: Profiles
    clock: Clock
    tokens: Tokens
    #: wakes long-polling stream requests when this process changes decisions
    changes: ChangeSignal

    def ingest(self, alerts: Sequence[Mapping[str, Any]], *, source: str = "kafka") -> list[int]:
        """Ingest alerts in one transaction, skipping (and logging) invalid ones."""

        def skipped(exc: InvalidAlert) -> None:
            log.warning("skipped an invalid alert from %s: %s", source, exc)

        with self.database.session() as session:
            return ingest_alerts(session, alerts, self.profiles, self.clock(),
                                 on_invalid=skipped, source=source,
                                 dedup_window=self.settings.decision_dedup_window)

    def refresh_active_decisions(self, known: set[Labels]) -> set[Labels]:
        """Recompute ``cs_active_decisions``; label sets that vanished are set to 0."""
        with self.database.read_session() as session:
            counts = count_active(session, self.clock())
        seen = set()
        for scenario, origin, kind, count in counts:
            metrics.ACTIVE_DECISIONS.labels(scenario, origin, kind).set(count)
            seen.add((scenario, origin, kind))
        for labels in known - seen:
            metrics.ACTIVE_DECISIONS.labels(*labels).set(0)
        return seen | known


class MetricsMiddleware:
    """``cs_lapi_route_requests_total`` and ``cs_lapi_request_duration_seconds`` per route
    template (``invalid-endpoint`` when no route matched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "invalid-endpoint"
            method = scope.get("method", "")
            metrics.ROUTE_REQUESTS.labels(route, method).inc()
            metrics.REQUEST_DURATION.labels(route, method).observe(time.perf_counter() - start)


def _validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "invalid JSON body"
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return 422, "; ".join(parts) or "invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPError)
    async def _http_error(_: Request, exc: HTTPError) -> JSONBody:
        return JSONBody(exc.body(), status_code=exc.status)

    @app.exception_handler(InvalidFilter)
    async def _invalid_filter(_: Request, exc: InvalidFilter) -> JSONBody:
        return JSONBody({"message": str(exc)}, status_code=400)

    @app.exception_handler(InvalidAlert)
    async def _invalid_alert(_: Request, exc: InvalidAlert) -> JSONBody:
        return JSONBody({"message": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONBody:
        status, message = _validation_message(exc)
        return JSONBody({"message": message}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _starlette(_: Request, exc: StarletteHTTPException) -> JSONBody:
        return JSONBody({"message": str(exc.detail)}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONBody:
        # still logged with its traceback by the server
        return JSONBody({"message": "internal error"}, status_code=500)

    @app.exception_handler(OperationalError)
    async def _database(_: Request, exc: OperationalError) -> JSONBody:
        log.error("database error: %s", exc.orig if exc.orig is not None else exc)
        return JSONBody({"message": "database unavailable, retry later"}, status_code=503)


async def _flush_forever(lapi: LapiState, policy: FlushPolicy) -> None:
    """The retention job, every ``policy.interval`` seconds (the first run at start)."""
    while True:
        try:
            await asyncio.to_thread(flush, lapi.database, policy, lapi.clock())
        except Exception as exc:  # noqa: BLE001 - a failed run is retried at the next one
            log.warning("database flush failed: %s", exc)
        await asyncio.sleep(policy.interval)


#: seconds between refreshes of the database's planner statistics (SQLite)
STATISTICS_EVERY = 600.0


async def _refresh_statistics_forever(database: Database) -> None:
    while True:
        try:
            await asyncio.to_thread(database.refresh_statistics)
        except Exception as exc:  # noqa: BLE001 - retried at the next round
            log.warning("cannot refresh the database statistics: %s", exc)
        await asyncio.sleep(STATISTICS_EVERY)


async def _refresh_metrics_forever(lapi: LapiState, every: float) -> None:
    known: set[tuple[str, str, str]] = set()
    while True:
        try:
            known = await asyncio.to_thread(lapi.refresh_active_decisions, known)
        except Exception as exc:  # noqa: BLE001 - keep refreshing
            log.warning("cannot refresh cs_active_decisions: %s", exc)
        await asyncio.sleep(every)


def _version() -> str:
    try:
        return importlib.metadata.version("crowdstream")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def create_app(settings: LapiSettings, *, clock: Clock | None = None,
               profiles: Profiles | None = None) -> FastAPI:
    """The LAPI application. ``clock`` (default: the system UTC clock) is every "now" the
    LAPI uses; ``profiles`` overrides loading ``settings.profiles_path``."""
    clock = clock or utc_now
    tokens = tokens_from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = await asyncio.to_thread(
            open_database, settings.db_url, busy_timeout_ms=settings.db_busy_timeout_ms)
        consumer: AlertsConsumer | None = None
        background: list[asyncio.Task[None]] = []
        try:
            loaded = profiles if profiles is not None else await asyncio.to_thread(
                load_profiles, settings.profiles_path)
            changes = ChangeSignal(asyncio.get_running_loop())
            database.add_change_listener(changes.notify)
            lapi = LapiState(settings, database, loaded, clock, tokens, changes)
            app.state.lapi = lapi
            # no paths in INFO lines before the readiness line: the supervisor waits for
            # the word "ready", which a path could contain
            log.info("database (%s) open, %d profile(s) loaded", database.dialect, len(loaded))
            log.debug("profiles from %s", loaded.source)
            if settings.alerts_topic and settings.kafka_bootstrap:
                consumer = AlertsConsumer(
                    topic=settings.alerts_topic, bootstrap=settings.kafka_bootstrap,
                    group=settings.kafka_group, client_options=settings.kafka_client_options,
                    ingest=lapi.ingest, max_records=settings.kafka_max_records,
                )
                await consumer.start()
            if settings.metrics_refresh_seconds > 0:
                background.append(asyncio.create_task(
                    _refresh_metrics_forever(lapi, settings.metrics_refresh_seconds),
                    name="lapi-active-decisions"))
            background.append(asyncio.create_task(
                _refresh_statistics_forever(database), name="lapi-statistics"))
            if settings.flush is not None:
                background.append(asyncio.create_task(
                    _flush_forever(lapi, settings.flush), name="lapi-flush"))
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if consumer is not None:
                await consumer.stop()
            await asyncio.to_thread(database.dispose)

    app = FastAPI(title="crowdstream LAPI", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", default_response_class=JSONBody)

    routers = [health_routes.router, decisions_routes.router, alerts_routes.router,
               watchers_routes.router, allowlists_routes.router, usage_metrics_routes.router]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, routers, _version())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _install_error_handlers(app)
    app.add_middleware(MetricsMiddleware)
    for router in routers:
        app.include_router(router)
    return app
