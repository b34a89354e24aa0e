"""Running the LAPI: :func:`serve` (uvicorn, programmatically)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from lapi.app import create_app
from lapi.clock import Clock
from lapi.settings import LapiSettings, TlsSettings
from lapi.tls import server_context, tls_scope_protocol

log = logging.getLogger("crowdstream.lapi")


class LapiStartupError(RuntimeError):
    """The LAPI could not start (database, profiles, address in use…; logged above)."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: :func:`serve` installs ours, so that SIGTERM
    gives a clean shutdown and a normal return instead of a re-raised signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _url(settings: LapiSettings, port: int) -> str:
    scheme = "http" if settings.tls is None else "https"
    host = settings.listen_host
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _tls_options(tls: TlsSettings | None) -> dict[str, Any]:
    """uvicorn options for HTTPS: our SSL context (built now, so that a bad certificate is a
    startup error), and its HTTP protocol passing the client certificate to the app
    (:mod:`lapi.tls`)."""
    if tls is None:
        return {}
    try:
        context = server_context(tls)
    except (OSError, ssl.SSLError) as exc:
        raise LapiStartupError(f"cannot set up TLS: {exc}") from exc
    return {"ssl_context_factory": lambda _config, _default: context,
            "http": tls_scope_protocol(AutoHTTPProtocol)}


async def _announce(server: uvicorn.Server, settings: LapiSettings) -> None:
    while not server.started:
        await asyncio.sleep(0.02)
    port = settings.listen_port
    with contextlib.suppress(Exception):
        port = server.servers[0].sockets[0].getsockname()[1]
    # the supervisor waits for this exact line ("... ready ...")
    log.info("lapi ready on %s", _url(settings, port))


async def serve(settings: LapiSettings, *, clock: Clock | None = None) -> None:
    """Serve the LAPI until cancelled or SIGTERM/SIGINT, then shut down cleanly (in-flight
    requests finish, the consumer commits its last batch, the database is closed).
    Raises LapiStartupError when it cannot start."""
    tls_options = _tls_options(settings.tls)
    app = create_app(settings, clock=clock)
    config = uvicorn.Config(
        app, host=settings.listen_host, port=settings.listen_port, lifespan="on",
        log_config=None, access_log=False, server_header=False, proxy_headers=False,
        timeout_graceful_shutdown=10, **tls_options,
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []

    def _exit() -> None:
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, _exit)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signal support: cancellation still works
    async def run() -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits this way when it cannot bind
            await server.serve()

    task = asyncio.create_task(run(), name="lapi-uvicorn")
    announcer = asyncio.create_task(_announce(server, settings), name="lapi-announce")
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        raise
    finally:
        announcer.cancel()
        for sig in handled:
            loop.remove_signal_handler(sig)
    if not server.started:
        raise LapiStartupError(
            f"the LAPI could not start on {_url(settings, settings.listen_port)}")
