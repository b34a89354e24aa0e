"""serve(): uvicorn on a real socket, the readiness line, clean shutdown."""
import asyncio
import logging
import os
import re
import signal

import httpx
import pytest

from lapi.server import LapiStartupError, serve
from lapi.settings import LapiSettings

READY = re.compile(r"^lapi ready on http://127\.0\.0\.1:(\d+)$")


async def _ready_port(caplog) -> int:
    for _ in range(500):
        for record in caplog.records:
            match = READY.match(record.getMessage())
            if match:
                return int(match.group(1))
        await asyncio.sleep(0.01)
    raise AssertionError("no ready line")


def test_serve_logs_ready_serves_and_stops_on_cancel(settings, caplog) -> None:
    caplog.set_level(logging.INFO, logger="crowdstream.lapi")
    settings.listen_port = 0

    async def main():
        task = asyncio.create_task(serve(settings))
        port = await _ready_port(caplog)
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{port}/health")
        assert response.json() == {"status": "ok"}
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return port

    port = asyncio.run(main())
    assert port > 0
    # the supervisor's test for readiness
    ready = [r.getMessage() for r in caplog.records if re.search(r"\bready\b", r.getMessage())]
    assert ready == [f"lapi ready on http://127.0.0.1:{port}"]


def test_sigterm_gives_a_clean_return(settings, caplog) -> None:
    caplog.set_level(logging.INFO, logger="crowdstream.lapi")
    settings.listen_port = 0

    async def main():
        task = asyncio.create_task(serve(settings))
        await _ready_port(caplog)
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(task, 10)  # returns normally

    before = signal.getsignal(signal.SIGTERM)
    asyncio.run(main())
    assert signal.getsignal(signal.SIGTERM) == before  # our handler is removed again


def test_startup_failure_raises(db_url, tmp_path) -> None:
    bad = tmp_path / "profiles.yaml"
    bad.write_text("name: x\nfilters:\n  - Alert.Remediation ==\n")
    settings = LapiSettings(db_url=db_url, profiles_path=bad, listen_port=0,
                            metrics_refresh_seconds=0)
    with pytest.raises(LapiStartupError):
        asyncio.run(serve(settings))
