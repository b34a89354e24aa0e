"""The ``crowdstream`` command."""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from crowdstream.commands import (alerts, allowlists, bouncers, decisions, hubtools,
                                  lapi_access, machines)
from crowdstream.config import Config, ConfigError, dump_config, load_config
from crowdstream.logs import setup_logging


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
    lapi = sub.add_parser("lapi", help="the Local API (HTTP) and its alerts consumer; "
                                       "status|register: a machine's access to a LAPI")
    lapi_access.register(lapi)
    sub.add_parser("ship", help="acquisition: tail the configured logs into the raw topic")
    for name in ("worker", "lapi", "ship"):
        sub.choices[name].add_argument("--no-metrics", action="store_true",
                                       help="do not serve /metrics (the supervisor does)")

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    config_sub.add_parser("show", help="print the effective configuration")

    bouncers.register(sub)
    machines.register(sub)
    allowlists.register(sub)
    decisions.register(sub)
    alerts.register(sub)
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

    if args.command == "lapi" and args.action is not None:
        return lapi_access.run(args, config)
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
    elif args.command == bouncers.COMMAND:
        return bouncers.run(args, config)
    elif args.command == decisions.COMMAND:
        return decisions.run(args, config)
    elif args.command == alerts.COMMAND:
        return alerts.run(args, config)
    elif args.command == machines.COMMAND:
        return machines.run(args, config)
    elif args.command == allowlists.COMMAND:
        return allowlists.run(args, config)
    return 0
