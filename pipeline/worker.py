"""Run one pipeline worker process (a Faust worker) until SIGINT/SIGTERM."""
from __future__ import annotations

import logging

import faust

log = logging.getLogger("crowdstream.pipeline")


class _Worker(faust.Worker):
    """A Faust worker that logs one ``ready`` line once its tables are recovered."""

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        log.info("pipeline worker ready (app %s)", self.app.conf.id)


def run_worker(app: faust.App, loglevel: str = "info") -> None:
    """Blocks until the worker stops; Faust installs its own signal handlers."""
    worker = _Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
