"""The Prometheus endpoint (``/metrics``) and ``/debug``, on ``prometheus.listen_addr:port``.

Under ``crowdstream run`` every component is a child process writing its metrics into a
shared ``PROMETHEUS_MULTIPROC_DIR``; this server aggregates them. A component started alone
serves its own registry instead (:func:`serve_own_metrics`)."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Protocol

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class StatusSource(Protocol):
    def status(self) -> list[dict[str, object]]: ...


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class MetricsServer:
    def __init__(self, host: str, port: int, multiproc_dir: str, source: StatusSource) -> None:
        self.host, self.port = host, port
        self.registry = CollectorRegistry()
        MultiProcessCollector(self.registry, path=multiproc_dir)
        self.source = source
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _app(self) -> Starlette:
        async def metrics(_: Request) -> Response:
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        async def debug(_: Request) -> Response:
            return JSONResponse({"components": self.source.status()})

        return Starlette(routes=[Route("/metrics", metrics), Route("/debug", debug)])

    async def start(self) -> None:
        config = uvicorn.Config(self._app(), host=self.host, port=self.port, log_level="warning",
                                lifespan="off")
        self._server = QuietServer(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"metrics server could not listen on {self.address}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server and self._task:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await self._task


def serve_own_metrics(host: str, port: int) -> None:
    """A standalone component's /metrics, from a background thread."""
    start_http_server(port, addr=host)
