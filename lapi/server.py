"""Running the LAPI: :func:`serve` (uvicorn, programmatically)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from lapi.app import create_app
from lapi.clock import Clock
from lapi.settings import LapiSettings

log = logging.getLogger("crowdstream.lapi")


class LapiStartupError(RuntimeError):
    """The LAPI could not start (database, profiles, address in use…; logged above)."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: :func:`serve` installs ours, so that SIGTERM
    gives a clean shutdown and a normal return instead of a re-raised signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _announce(server: uvicorn.Server, settings: LapiSettings) -> None:
    while not server.started:
        await asyncio.sleep(0.02)
    port = settings.listen_port
    with contextlib.suppress(Exception):
        port = server.servers[0].sockets[0].getsockname()[1]
    # the supervisor waits for this exact line ("... ready ...")
    log.info("lapi ready on %s", _url(settings.listen_host, port))


async def serve(settings: LapiSettings, *, clock: Clock | None = None) -> None:
    """Serve the LAPI until cancelled or SIGTERM/SIGINT, then shut down cleanly (in-flight
    requests finish, the consumer commits its last batch, the database is closed).
    Raises LapiStartupError when it cannot start."""
    app = create_app(settings, clock=clock)
    config = uvicorn.Config(
        app, host=settings.listen_host, port=settings.listen_port, lifespan="on",
        log_config=None, access_log=False, server_header=False, proxy_headers=False,
        timeout_graceful_shutdown=10,
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
            f"the LAPI could not start on {_url(settings.listen_host, settings.listen_port)}")
