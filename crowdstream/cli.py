"""The ``crowdstream`` command."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from crowdstream.commands import allowlists, hubtools, machines
from crowdstream.config import Config, ConfigError, dump_config, load_config
from crowdstream.logs import setup_logging

if TYPE_CHECKING:
    from lapi.db.session import Database


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crowdstream",
        description="A CrowdSec-compatible security engine on Kafka.",
    )
    parser.add_argument("-c", "--config", type=Path, default=None,
                        help="config.yaml (default: $CROWDSTREAM_CONFIG, else the shipped defaults)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="all in one: embedded broker, worker(s), LAPI, acquisition, metrics")
    worker = sub.add_parser("worker", help="one pipeline worker (Faust): parse and buckets")
    worker.add_argument("--id", type=int, default=0, help="worker number (its state directory)")
    sub.add_parser("lapi", help="the Local API (HTTP) and its alerts consumer")
    sub.add_parser("ship", help="acquisition: tail the configured logs into the raw topic")
    for name in ("worker", "lapi", "ship"):
        sub.choices[name].add_argument("--no-metrics", action="store_true",
                                       help="do not serve /metrics (the supervisor does)")

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    config_sub.add_parser("show", help="print the effective configuration")

    bouncers = sub.add_parser("bouncers", help="manage bouncers (API keys), on the database")
    bouncers_sub = bouncers.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = bouncers_sub.add_parser("add", help="create a bouncer and print its API key")
    add.add_argument("name")
    add.add_argument("-k", "--key", default=None, help="use this key instead of a random one")
    bouncers_sub.add_parser("list", help="list bouncers")
    delete = bouncers_sub.add_parser("delete", help="delete bouncers")
    delete.add_argument("names", nargs="+")
    for action in bouncers_sub.choices.values():
        action.add_argument("-o", "--output", choices=("human", "json", "raw"), default=None)

    machines.register(sub)
    allowlists.register(sub)
    hubtools.register(sub)  # hub, hubtest, explain: content tooling, no config.yaml needed
    return parser


def _config_path(args: argparse.Namespace) -> Path | None:
    if args.config:
        return args.config
    env = os.environ.get("CROWDSTREAM_CONFIG")
    return Path(env) if env else None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in hubtools.COMMANDS:
        try:
            return hubtools.run(args)
        except KeyboardInterrupt:
            return 130
    try:
        path = _config_path(args)
        config = load_config(path)
        setup_logging(config.common.log_level)
        return _dispatch(args, config, path)
    except ConfigError as exc:
        print(f"crowdstream: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, config: Config, path: Path | None) -> int:
    from crowdstream import components

    if args.command in ("worker", "lapi", "ship") and not args.no_metrics and config.prometheus.enabled:
        from crowdstream.metrics_server import serve_own_metrics

        serve_own_metrics(config.prometheus.listen_addr, config.prometheus.listen_port)
    if args.command == "run":
        from crowdstream.supervisor import Supervisor

        return asyncio.run(Supervisor(config, path).run())
    if args.command == "worker":
        components.run_worker(config, args.id)
    elif args.command == "lapi":
        components.run_lapi(config)
    elif args.command == "ship":
        components.run_ship(config)
    elif args.command == "config":
        sys.stdout.write(dump_config(config))
    elif args.command == "bouncers":
        return _bouncers(args, config)
    elif args.command == machines.COMMAND:
        return machines.run(args, config)
    elif args.command == allowlists.COMMAND:
        return allowlists.run(args, config)
    return 0


def _bouncers(args: argparse.Namespace, config: Config) -> int:
    from lapi.db.session import open_database
    from lapi.errors import BouncerError

    output = args.output or config.cscli.output
    if config.db_config.type == "sqlite":
        Path(config.db_config.db_path).parent.mkdir(parents=True, exist_ok=True)
    database = open_database(config.db_config.url)
    try:
        return _bouncer_action(args, output, database)
    except BouncerError as exc:
        print(f"crowdstream: {exc}", file=sys.stderr)
        return 1
    finally:
        database.dispose()


def _bouncer_action(args: argparse.Namespace, output: str, database: Database) -> int:
    from lapi import bouncers

    with database.session() as session:
        if args.action == "add":
            key = bouncers.add_bouncer(session, args.name, args.key)
            if output == "raw":
                print(key)
            elif output == "json":
                print(json.dumps(key))
            else:
                print(f"API key for '{args.name}':\n\n   {key}\n\n"
                      "Please keep this key since you will not be able to retrieve it!")
        elif args.action == "list":
            rows = bouncers.list_bouncers(session)
            if output == "json":
                print(json.dumps(rows, default=str))
            else:
                for row in rows:
                    print("  ".join(str(v) for v in row.values()))
        else:
            for name in args.names:
                bouncers.delete_bouncer(session, name)
                print(f"bouncer '{name}' deleted")
    return 0
