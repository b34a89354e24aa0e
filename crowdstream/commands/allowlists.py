"""``crowdstream allowlists``: manage the LAPI's allowlists on its database, as ``cscli
allowlists`` does.

* ``allowlists create NAME [-d DESCRIPTION]``, ``allowlists delete NAME``;
* ``allowlists add NAME VALUE… [-e DURATION] [-d COMMENT]``: IPs or ranges, expiring after
  DURATION (Go duration, ``d`` allowed) if given; the active decisions they cover end now
  (bouncers get them as deleted); ``allowlists remove NAME VALUE…``;
* ``allowlists list``, ``allowlists inspect NAME`` (the live items), ``allowlists check
  VALUE…``.

``-o human|json|raw`` (default ``cscli.output``; raw is CSV) for list and inspect: the JSON is
the LAPI's ``GetAllowlistResponse``.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crowdstream.commands.output import OUTPUTS, print_json, print_table
from crowdstream.commands.running import on_database
from crowdstream.config import Config

if TYPE_CHECKING:
    from lapi.db.session import Database

COMMAND = "allowlists"


def register(sub: Any) -> None:
    """Add the ``allowlists`` sub-command to ``sub``."""
    allowlists = sub.add_parser(COMMAND, help="manage allowlists, on the database")
    actions = allowlists.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create an empty allowlist")
    create.add_argument("name")
    create.add_argument("-d", "--description", default="")
    delete = actions.add_parser("delete", help="delete an allowlist and its values")
    delete.add_argument("name")
    add = actions.add_parser("add", help="add IPs or ranges (ends the decisions they cover)")
    add.add_argument("name")
    add.add_argument("values", nargs="+")
    add.add_argument("-e", "--expiration", default=None, help="duration, e.g. 12h or 7d")
    add.add_argument("-d", "--comment", default="")
    remove = actions.add_parser("remove", help="remove IPs or ranges")
    remove.add_argument("name")
    remove.add_argument("values", nargs="+")
    for name in ("list", "inspect"):
        action = actions.add_parser(name, help=f"{name} allowlists")
        action.add_argument("-o", "--output", choices=OUTPUTS, default=None)
    actions.choices["inspect"].add_argument("name")
    check = actions.add_parser("check", help="tell whether IPs or ranges are allowlisted")
    check.add_argument("values", nargs="+")


def run(args: argparse.Namespace, config: Config) -> int:
    """Run ``allowlists ACTION``; returns the exit status."""
    from lapi.errors import LapiError

    output = getattr(args, "output", None) or config.cscli.output
    # ValueError: a bad IP, range or duration
    return on_database(config, lambda database: _action(args, output, database),
                       (LapiError, ValueError))


def _action(args: argparse.Namespace, output: str, database: Database) -> None:
    from lapi import allowlists
    from lapi.clock import utc_now
    from lapi.gotime import parse_duration

    now = utc_now()
    if args.action == "create":
        with database.session() as session:
            allowlists.create_allowlist(session, args.name, now, description=args.description)
        print(f"allowlist '{args.name}' created successfully")
    elif args.action == "delete":
        with database.session() as session:
            allowlists.delete_allowlist(session, args.name)
        print(f"allowlist '{args.name}' deleted successfully")
    elif args.action == "add":
        expires = now + parse_duration(args.expiration) if args.expiration else None
        items = [allowlists.NewItem(v, args.comment, expires) for v in args.values]
        with database.session() as session:
            added, ended = allowlists.add_items(session, args.name, items, now)
        print(f"added {added} values to allowlist {args.name}")
        if ended:
            print(f"{ended} decisions deleted by allowlists")
    elif args.action == "remove":
        with database.session() as session:
            removed = allowlists.remove_items(session, args.name, args.values, now)
        print(f"removed {removed} values from allowlist {args.name}")
    elif args.action == "check":
        with database.read_session() as session:
            for value in args.values:
                reasons = allowlists.allowlisted_by(session, value, now)
                print(f"{value} is allowlisted by {', '.join(reasons)}" if reasons
                      else f"{value} is not allowlisted")
    elif args.action == "list":
        with database.read_session() as session:
            _print(allowlists.list_allowlists(session, now, with_content=True), output)
    else:
        with database.read_session() as session:
            _print([allowlists.get_allowlist(session, args.name, now, with_content=True)],
                   output, items=True)


def _print(lists: list[dict[str, Any]], output: str, *, items: bool = False) -> None:
    if output == "json":
        print_json(lists[0] if items else lists)
    elif items:
        print_table(("Value", "Comment", "Expiration", "Created at"),
                    [(i["value"], i.get("description", ""), i["expiration"], i["created_at"])
                     for i in lists[0]["items"]], output)
    else:
        print_table(("Name", "Description", "Created at", "Updated at", "Size"),
                    [(a["name"], a.get("description", ""), a["created_at"], a["updated_at"],
                      len(a["items"])) for a in lists], output)
