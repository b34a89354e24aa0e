"""``crowdstream decisions list|add|delete|import``: decisions through the LAPI's HTTP API, as
``cscli decisions`` does (the same requests: decisions are listed through their alerts, added
and imported as alerts carrying them), so they work against a remote LAPI. The machine
credentials come from ``api.client.credentials_path``."""
from __future__ import annotations

import argparse
import csv
import io
import json
import socket
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crowdstream.commands.apiclient import LapiClient
from crowdstream.commands.output import OUTPUTS, print_json, print_table
from crowdstream.commands.running import through_api
from crowdstream.config import Config

COMMAND = "decisions"
#: decisions per imported alert (one request each)
IMPORT_BATCH = 1000
LIST_HEADERS = ("ID", "Source", "Scope:Value", "Reason", "Action", "Country", "AS", "Events",
                "Expiration", "Alert ID")
RAW_HEADERS = ("id", "source", "ip", "reason", "action", "country", "as", "events_count",
               "expiration", "simulated", "alert_id")


class CommandError(Exception):
    """Bad arguments or input (exit status 1); ``str(exc)`` is the reason."""


def _filters(parser: argparse.ArgumentParser, *, listing: bool) -> None:
    parser.add_argument("-i", "--ip", help="decisions on this IP (and ranges holding it)")
    parser.add_argument("-r", "--range", help="decisions on this range")
    parser.add_argument("--scope", help="scope (Ip, Range, Country…)")
    parser.add_argument("-v", "--value", help="exact value")
    parser.add_argument("-t", "--type", help="decision type (ban, captcha…)")
    parser.add_argument("-s", "--scenario", help="scenario")
    parser.add_argument("--origin", help="origin (crowdsec, cscli, lists…)")
    parser.add_argument("--contained", action="store_true",
                        help="with --ip/--range: decisions inside it rather than holding it")
    if listing:
        parser.add_argument("--since", help="created at most this long ago (e.g. 4h)")
        parser.add_argument("--until", help="created at least this long ago")
        parser.add_argument("-l", "--limit", type=int, default=100, help="alerts (0: all)")
        parser.add_argument("-a", "--all", action="store_true",
                            help="also the Central API's and blocklists' decisions")


def register(sub: Any) -> None:
    """Add the ``decisions`` sub-command to ``sub``."""
    decisions = sub.add_parser(COMMAND, help="manage decisions, through the LAPI's API")
    actions = decisions.add_subparsers(dest="action", required=True, metavar="ACTION")
    _filters(actions.add_parser("list", help="list active decisions"), listing=True)
    add = actions.add_parser("add", help="add a decision")
    add.add_argument("-i", "--ip", help="an IP")
    add.add_argument("-r", "--range", help="a range (CIDR)")
    add.add_argument("--scope", default="Ip", help="scope of --value (default Ip)")
    add.add_argument("-v", "--value", help="a value in --scope")
    add.add_argument("-d", "--duration", default="4h", help="how long (default 4h)")
    add.add_argument("-t", "--type", default="ban", help="decision type (default ban)")
    add.add_argument("-R", "--reason", help="the reason shown (default: manual, by whom)")
    delete = actions.add_parser("delete", help="delete decisions")
    _filters(delete, listing=False)
    delete.add_argument("--id", help="the decision with this id")
    delete.add_argument("--all", action="store_true", help="every decision")
    imports = actions.add_parser("import", help="add decisions from a file")
    imports.add_argument("-i", "--input", required=True, help="the file ('-': standard input)")
    imports.add_argument("--format", choices=("csv", "json", "values"),
                         help="default: from the file extension, else values")
    imports.add_argument("-d", "--duration", default="4h", help="default duration")
    imports.add_argument("-t", "--type", default="ban", help="default decision type")
    imports.add_argument("--scope", default="Ip", help="default scope")
    imports.add_argument("-R", "--reason", default="manual", help="default reason")
    for action in actions.choices.values():
        action.add_argument("-o", "--output", choices=OUTPUTS, default=None)


def run(args: argparse.Namespace, config: Config) -> int:
    """Run ``decisions ACTION``; returns the exit status."""
    output = args.output or config.cscli.output
    if args.action == "import":
        try:
            decisions = _read_import(args)  # bad input fails before any network call
        except CommandError as exc:
            print(f"crowdstream: {exc}", file=sys.stderr)
            return 1
        return through_api(config, lambda client: _import(client, decisions))
    actions = {"list": _list, "add": _add, "delete": _delete}
    return through_api(config, lambda client: actions[args.action](client, args, output),
                       (CommandError,))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list(client: LapiClient, args: argparse.Namespace, output: str) -> None:
    params: dict[str, str] = {"has_active_decision": "true",
                              "include_capi": "true" if args.all else "false",
                              "limit": str(args.limit)}
    for key, value in (("ip", args.ip), ("range", args.range), ("scope", args.scope),
                       ("value", args.value), ("decision_type", args.type),
                       ("scenario", args.scenario), ("origin", args.origin),
                       ("since", args.since), ("until", args.until)):
        if value:
            params[key] = value
    if args.contained:
        params["contains"] = "false"
    alerts = client.request("GET", "v1/alerts", params=params) or []
    if output == "json":
        print_json(alerts)
        return
    rows = []
    for alert in alerts:
        source = alert.get("source") or {}
        for d in alert.get("decisions") or []:
            if str(d.get("duration", "")).startswith("-"):
                continue  # ended: the alert is listed for another of its decisions
            as_text = " ".join(filter(None, (source.get("as_number"), source.get("as_name"))))
            row = [d.get("id"), d.get("origin"), f"{d.get('scope')}:{d.get('value')}",
                   d.get("scenario"), d.get("type"), source.get("cn", ""), as_text,
                   alert.get("events_count"), d.get("duration")]
            extra = [alert.get("id")] if output == "human" else \
                [bool(d.get("simulated")), alert.get("id")]
            rows.append(row + extra)
    if not rows and output == "human":
        print("No active decisions")
        return
    print_table(LIST_HEADERS, rows, output, raw_headers=RAW_HEADERS)


def _target(args: argparse.Namespace) -> tuple[str, str]:
    if args.ip:
        return "Ip", args.ip
    if args.range:
        return "Range", args.range
    if args.value:
        return args.scope, args.value
    raise CommandError("give --ip, --range or --scope and --value")


def _add(client: LapiClient, args: argparse.Namespace, output: str) -> None:
    scope, value = _target(args)
    reason = args.reason or f"manual '{args.type}' from '{socket.gethostname()}'"
    now = _now()
    source: dict[str, str] = {"scope": scope, "value": value}
    if scope == "Ip":
        source["ip"] = value
    alert = {"capacity": 0, "created_at": now, "events": [], "events_count": 1, "labels": None,
             "leakspeed": "0", "message": reason, "scenario": reason, "scenario_hash": "",
             "scenario_version": "", "simulated": False, "source": source,
             "start_at": now, "stop_at": now,
             "decisions": [{"duration": args.duration, "origin": "cscli", "scenario": reason,
                            "scope": scope, "type": args.type, "value": value}]}
    client.request("POST", "v1/alerts", body=[alert])
    print("Decision successfully added")


def _delete(client: LapiClient, args: argparse.Namespace, output: str) -> None:
    if args.id:
        answer = client.request("DELETE", f"v1/decisions/{args.id}")
    else:
        params: dict[str, str] = {}
        for key, value in (("ip", args.ip), ("range", args.range), ("type", args.type),
                           ("scopes", args.scope), ("value", args.value),
                           ("scenario", args.scenario), ("origin", args.origin)):
            if value:
                params[key] = value
        if args.contained:
            params["contains"] = "false"
        if not params and not args.all:
            raise CommandError("give at least one filter, --id or --all")
        answer = client.request("DELETE", "v1/decisions", params=params)
    count = answer.get("nbDeleted", "0") if isinstance(answer, dict) else "0"
    print(f"{count} decision(s) deleted")


def _read_import(args: argparse.Namespace) -> list[dict[str, str]]:
    """The decisions of the import file, defaults filled in."""
    try:
        text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text("utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {args.input}: {exc.strerror or exc}") from None
    fmt = args.format or {".csv": "csv", ".json": "json"}.get(Path(args.input).suffix, "values")
    rows: Iterable[dict[str, Any]]
    if fmt == "json":
        try:
            rows = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{args.input}: invalid JSON: {exc}") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise CommandError(f"{args.input}: expected a JSON list of objects")
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [{"value": line.strip()} for line in text.splitlines() if line.strip()]
    decisions = []
    for number, row in enumerate(rows, start=1):
        value = str(row.get("value") or "").strip()
        if not value:
            raise CommandError(f"{args.input}: entry {number}: no value")
        decisions.append({
            "duration": str(row.get("duration") or args.duration),
            "origin": "cscli-import",
            "scenario": str(row.get("reason") or args.reason),
            "scope": str(row.get("scope") or args.scope),
            "simulated": False,
            "type": str(row.get("type") or args.type),
            "value": value,
        })
    if not decisions:
        raise CommandError(f"{args.input}: no decisions")
    return decisions


def _import(client: LapiClient, decisions: list[dict[str, str]]) -> None:
    for start in range(0, len(decisions), IMPORT_BATCH):
        batch = decisions[start:start + IMPORT_BATCH]
        now = _now()
        alert = {"capacity": 0, "created_at": now, "decisions": batch, "events": [],
                 "events_count": len(batch), "labels": None, "leakspeed": "", "message": "",
                 "scenario": f"add: {len(batch)} IPs", "scenario_hash": "",
                 "scenario_version": "", "simulated": False,
                 "source": {"scope": "cscli/manual-import", "value": ""},
                 "start_at": now, "stop_at": now}
        client.request("POST", "v1/alerts", body=[alert])
    print(f"Imported {len(decisions)} decisions")
