"""``crowdstream alerts list|inspect|delete``: alerts through the LAPI's HTTP API, as
``cscli alerts`` does (deleting needs a loopback or ``trusted_ips`` address, as in CrowdSec)."""
from __future__ import annotations

import argparse
from typing import Any

from crowdstream.commands.apiclient import LapiClient
from crowdstream.commands.output import OUTPUTS, print_json, print_table
from crowdstream.commands.running import through_api
from crowdstream.config import Config

COMMAND = "alerts"
LIST_HEADERS = ("ID", "Value", "Reason", "Country", "AS", "Decisions", "Created at")
RAW_HEADERS = ("id", "scope", "value", "reason", "country", "as", "decisions", "created_at")


class CommandError(Exception):
    """Bad arguments (exit status 1); ``str(exc)`` is the reason."""


def register(sub: Any) -> None:
    """Add the ``alerts`` sub-command to ``sub``."""
    alerts = sub.add_parser(COMMAND, help="inspect and delete alerts, through the LAPI's API")
    actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list alerts")
    delete = actions.add_parser("delete", help="delete alerts (and end their decisions)")
    for parser in (listing, delete):
        parser.add_argument("-i", "--ip", help="alerts with decisions on this IP")
        parser.add_argument("-r", "--range", help="alerts with decisions on this range")
        parser.add_argument("--scope", help="source scope")
        parser.add_argument("-v", "--value", help="source value")
        parser.add_argument("-s", "--scenario", help="scenario")
        parser.add_argument("--origin", help="with a decision of this origin")
        parser.add_argument("--contained", action="store_true",
                            help="with --ip/--range: inside it rather than holding it")
    listing.add_argument("--since", help="started at most this long ago (e.g. 4h)")
    listing.add_argument("--until", help="started at least this long ago")
    listing.add_argument("-t", "--type", help="with a decision of this type")
    listing.add_argument("-l", "--limit", type=int, default=50, help="at most (0: all)")
    listing.add_argument("-a", "--all", action="store_true",
                         help="also the Central API's and blocklists' alerts")
    delete.add_argument("--id", help="the alert with this id")
    delete.add_argument("--all", action="store_true", help="every alert")
    inspect = actions.add_parser("inspect", help="show alerts")
    inspect.add_argument("ids", nargs="+")
    inspect.add_argument("-d", "--details", action="store_true", help="with the events")
    for action in actions.choices.values():
        action.add_argument("-o", "--output", choices=OUTPUTS, default=None)


def run(args: argparse.Namespace, config: Config) -> int:
    """Run ``alerts ACTION``; returns the exit status."""
    output = args.output or config.cscli.output
    actions = {"list": _list, "inspect": _inspect, "delete": _delete}
    return through_api(config, lambda client: actions[args.action](client, args, output),
                       (CommandError,))


def _params(args: argparse.Namespace, *names: tuple[str, str]) -> dict[str, str]:
    params = {key: getattr(args, attr) for key, attr in (
        ("ip", "ip"), ("range", "range"), ("scope", "scope"), ("value", "value"),
        ("scenario", "scenario"), ("origin", "origin"), *names) if getattr(args, attr)}
    if args.contained:
        params["contains"] = "false"
    return params


def _list(client: LapiClient, args: argparse.Namespace, output: str) -> None:
    params = _params(args, ("since", "since"), ("until", "until"), ("decision_type", "type"))
    params.update(limit=str(args.limit), include_capi="true" if args.all else "false")
    alerts = client.request("GET", "v1/alerts", params=params) or []
    if output == "json":
        print_json(alerts)
        return
    if not alerts and output == "human":
        print("No active alerts")
        return
    rows = []
    for alert in alerts:
        source = alert.get("source") or {}
        kinds: dict[str, int] = {}
        for d in alert.get("decisions") or []:
            kinds[d.get("type", "")] = kinds.get(d.get("type", ""), 0) + 1
        decisions = " ".join(f"{kind}:{count}" for kind, count in kinds.items())
        as_text = " ".join(filter(None, (source.get("as_number"), source.get("as_name"))))
        value = f"{source.get('scope')}:{source.get('value')}"
        row = [alert.get("id"), value, alert.get("scenario"), source.get("cn", ""), as_text,
               decisions, alert.get("created_at")]
        if output == "raw":
            row[1:2] = [source.get("scope"), source.get("value")]
        rows.append(row)
    print_table(LIST_HEADERS, rows, output, raw_headers=RAW_HEADERS)


def _inspect(client: LapiClient, args: argparse.Namespace, output: str) -> None:
    for alert_id in args.ids:
        alert = client.request("GET", f"v1/alerts/{alert_id}")
        if output != "human":
            print_json(alert)
            continue
        source = alert.get("source") or {}
        for label, value in (
                ("ID", alert.get("id")), ("Date", alert.get("created_at")),
                ("Machine", alert.get("machine_id")), ("Simulation", alert.get("simulated")),
                ("Reason", alert.get("scenario")), ("Events Count", alert.get("events_count")),
                ("Scope:Value", f"{source.get('scope')}:{source.get('value')}"),
                ("Country", source.get("cn", "")), ("AS", source.get("as_name", "")),
                ("Begin", alert.get("start_at")), ("End", alert.get("stop_at"))):
            print(f" - {label:<13}: {'' if value is None else value}")
        decisions = alert.get("decisions") or []
        if decisions:
            print("\n - Decisions:")
            print_table(("ID", "Scope:Value", "Action", "Expiration", "Created at"),
                        [(d.get("id"), f"{d.get('scope')}:{d.get('value')}", d.get("type"),
                          d.get("duration"), alert.get("created_at")) for d in decisions],
                        "human")
        if args.details:
            print("\n - Events:")
            for event in alert.get("events") or []:
                meta = {m.get("key"): m.get("value") for m in event.get("meta") or []}
                print(f"   {event.get('timestamp')}  " +
                      " ".join(f"{k}={v}" for k, v in sorted(meta.items())))
        print()


def _delete(client: LapiClient, args: argparse.Namespace, output: str) -> None:
    if args.id:
        answer = client.request("DELETE", f"v1/alerts/{args.id}")
    else:
        params = _params(args)
        if not params and not args.all:
            raise CommandError("give at least one filter, --id or --all")
        answer = client.request("DELETE", "v1/alerts", params=params)
    count = answer.get("nbDeleted", "0") if isinstance(answer, dict) else "0"
    print(f"{count} alert(s) deleted")
