"""``crowdstream machines``: manage the LAPI's machines (watchers) on its database, as
``cscli machines`` does.

* ``machines add NAME (--password P | --auto) [-f FILE] [-u URL]``: a validated machine; its
  credentials are written in CrowdSec's ``local_api_credentials.yaml`` format (``url``,
  ``login``, ``password``; mode 0600) to FILE (``-`` for standard output), by default to
  ``api.client.credentials_path`` unless that file exists.
* ``machines list``, ``machines delete NAME…``, ``machines validate NAME``.

``-o human|json|raw`` (default ``cscli.output``); raw is CSV.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from crowdstream.commands.output import OUTPUTS, print_json, print_table
from crowdstream.commands.running import on_database
from crowdstream.config import Config

if TYPE_CHECKING:
    from lapi.db.session import Database

COMMAND = "machines"
LIST_COLUMNS = ("machine_id", "ip_address", "updated_at", "is_validated", "version",
                "auth_type", "last_heartbeat")
HUMAN_HEADERS = ("Name", "IP Address", "Last Update", "Status", "Version", "Auth Type",
                 "Last Heartbeat")


class CommandError(Exception):
    """A refused command (exit status 1); ``str(exc)`` is the reason."""


def register(sub: Any) -> None:
    """Add the ``machines`` sub-command to ``sub``."""
    machines = sub.add_parser(COMMAND, help="manage machines (watchers), on the database")
    actions = machines.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a validated machine, write its credentials")
    add.add_argument("name")
    password = add.add_mutually_exclusive_group(required=True)
    password.add_argument("-p", "--password", default=None, help="the machine's password")
    password.add_argument("-a", "--auto", action="store_true", help="generate a password")
    add.add_argument("-f", "--file", default=None,
                     help="credentials file, '-' for standard output "
                          "(default: api.client.credentials_path, if it does not exist)")
    add.add_argument("-u", "--url", default=None,
                     help="LAPI URL in the credentials (default: from api.server.listen_uri)")
    actions.add_parser("list", help="list machines")
    delete = actions.add_parser("delete", help="delete machines")
    delete.add_argument("names", nargs="+")
    validate = actions.add_parser("validate", help="let a registered machine log in")
    validate.add_argument("name")
    for action in actions.choices.values():
        action.add_argument("-o", "--output", choices=OUTPUTS, default=None)


def run(args: argparse.Namespace, config: Config) -> int:
    """Run ``machines ACTION``; returns the exit status."""
    from lapi.errors import LapiError

    output = args.output or config.cscli.output
    return on_database(config, lambda database: _action(args, config, output, database),
                       (LapiError, CommandError))


def _action(args: argparse.Namespace, config: Config, output: str, database: Database) -> int:
    from lapi import machines

    if args.action == "add":
        _add(args, config, database)
    elif args.action == "list":
        with database.read_session() as session:
            _print_list(machines.list_machines(session), output)
    elif args.action == "delete":
        with database.session() as session:
            for name in args.names:
                machines.delete_machine(session, name)
        for name in args.names:
            print(f"machine '{name}' deleted")
    else:
        with database.session() as session:
            machines.validate_machine(session, args.name)
        print(f"machine '{args.name}' validated successfully")
    return 0


def _add(args: argparse.Namespace, config: Config, database: Database) -> None:
    from lapi import machines

    target = _credentials_target(args.file, config)
    password = machines.generate_password() if args.auto else args.password
    with database.session() as session:
        machines.add_machine(session, args.name, password, validated=True)
    print(f"Machine '{args.name}' successfully added to the local API.", file=sys.stderr)
    document = yaml.safe_dump({"url": args.url or default_url(config), "login": args.name,
                               "password": password}, sort_keys=False)
    if target is None:
        sys.stdout.write(document)
        return
    write_private(target, document)
    print(f"API credentials written to '{target}'.", file=sys.stderr)


def _credentials_target(given: str | None, config: Config) -> Path | None:
    """Where the credentials go (None: standard output); checked before anything is created."""
    if given == "-":
        return None
    if given:
        return Path(given)
    default = config.api.client.credentials_path
    if default is None:
        raise CommandError("no api.client.credentials_path: give a file with -f "
                           "('-f -' for standard output)")
    if default.exists():
        raise CommandError(f"credentials file '{default}' already exists: remove it or give "
                           "another file with -f ('-f -' for standard output)")
    return default


def default_url(config: Config) -> str:
    tls = config.api.server.tls
    scheme = "https" if tls is not None and tls.cert_file is not None else "http"
    return f"{scheme}://{config.api.server.listen_uri}"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (it holds a password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _print_list(rows: list[dict[str, Any]], output: str) -> None:
    if output == "json":
        print_json(rows)
        return
    status = {True: "validated", False: "pending"}
    table = [[status.get(row[c], row[c]) if c == "is_validated" else row[c]
              for c in LIST_COLUMNS] for row in rows]
    print_table(HUMAN_HEADERS, table, output, raw_headers=LIST_COLUMNS)
