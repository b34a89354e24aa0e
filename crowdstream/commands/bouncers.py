"""``crowdstream bouncers add|list|delete``: the LAPI's bouncers (API keys) on its database,
as ``cscli bouncers`` does. A key is shown once, when it is created; only its hash is
stored. ``-o human|json|raw`` (default ``cscli.output``)."""
from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from crowdstream.commands.output import OUTPUTS, print_json, print_table
from crowdstream.commands.running import on_database
from crowdstream.config import Config

if TYPE_CHECKING:
    from lapi.db.session import Database

COMMAND = "bouncers"
LIST_COLUMNS = ("name", "ip_address", "valid", "last_pull", "type", "version", "auth_type")
HUMAN_HEADERS = ("Name", "IP Address", "Valid", "Last API pull", "Type", "Version",
                 "Auth Type")


def register(sub: Any) -> None:
    """Add the ``bouncers`` sub-command to ``sub``."""
    bouncers = sub.add_parser(COMMAND, help="manage bouncers (API keys), on the database")
    actions = bouncers.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a bouncer and print its API key")
    add.add_argument("name")
    add.add_argument("-k", "--key", default=None, help="use this key instead of a random one")
    actions.add_parser("list", help="list bouncers")
    delete = actions.add_parser("delete", help="delete bouncers")
    delete.add_argument("names", nargs="+")
    for action in actions.choices.values():
        action.add_argument("-o", "--output", choices=OUTPUTS, default=None)


def run(args: argparse.Namespace, config: Config) -> int:
    """Run ``bouncers ACTION``; returns the exit status."""
    from lapi.errors import BouncerError

    output = args.output or config.cscli.output
    return on_database(config, lambda database: _action(args, output, database),
                       (BouncerError,))


def _action(args: argparse.Namespace, output: str, database: Database) -> None:
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
                print_json(rows)
            else:
                valid = {True: "valid", False: "revoked"}
                print_table(HUMAN_HEADERS, [[valid.get(r[c], r[c]) if c == "valid" else r[c]
                                             for c in LIST_COLUMNS] for r in rows],
                            output, raw_headers=LIST_COLUMNS)
        else:
            for name in args.names:
                bouncers.delete_bouncer(session, name)
                print(f"bouncer '{name}' deleted")
