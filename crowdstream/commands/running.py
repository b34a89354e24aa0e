"""How the management commands run: on the LAPI's database (machines, bouncers, allowlists,
as cscli does) or through its HTTP API logged in as a machine (decisions, alerts). Either way
a refused action is one ``crowdstream: reason`` line on standard error and exit status 1."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from crowdstream.commands.apiclient import ApiError, LapiClient, logged_in
from crowdstream.config import Config

if TYPE_CHECKING:
    from lapi.db.session import Database


def _refused(exc: Exception) -> int:
    print(f"crowdstream: {exc}", file=sys.stderr)
    return 1


def on_database(config: Config, action: Callable[[Database], int | None],
                refusals: tuple[type[Exception], ...]) -> int:
    """Run ``action`` on the config's database (created if missing); an exception of
    ``refusals`` is a refused action."""
    from lapi.db.session import open_database

    if config.db_config.type == "sqlite":
        Path(config.db_config.db_path).parent.mkdir(parents=True, exist_ok=True)
    database = open_database(config.db_config.url)
    try:
        return action(database) or 0
    except refusals as exc:
        return _refused(exc)
    finally:
        database.dispose()


def through_api(config: Config, action: Callable[[LapiClient], None],
                refusals: tuple[type[Exception], ...] = ()) -> int:
    """Run ``action`` with a client logged in with the config's credentials file; an API
    failure or an exception of ``refusals`` is a refused action."""
    try:
        with logged_in(config) as client:
            action(client)
    except (ApiError, *refusals) as exc:
        return _refused(exc)
    return 0
