"""``crowdstream lapi status|register``: a machine's access to a LAPI, through its HTTP API
(as ``cscli lapi``). ``status`` logs in with the credentials file; ``register`` creates a
pending machine (validated at once with an auto-registration token) and writes its
credentials file."""
from __future__ import annotations

import argparse
import secrets
import socket
import sys
from pathlib import Path
from typing import Any

import yaml

from crowdstream.commands.apiclient import ApiError, LapiClient, logged_in
from crowdstream.commands.machines import default_url, write_private
from crowdstream.config import Config

ACTIONS = ("status", "register")


def register(lapi_parser: argparse.ArgumentParser) -> None:
    """Add ``status`` and ``register`` to the ``lapi`` command (which, without them, runs the
    LAPI)."""
    actions = lapi_parser.add_subparsers(dest="action", required=False, metavar="ACTION")
    actions.add_parser("status", help="check that the credentials file logs in")
    reg = actions.add_parser("register", help="register this machine to a LAPI")
    reg.add_argument("--machine", help="machine name (default: host name + random suffix)")
    reg.add_argument("-u", "--url", help="LAPI URL (default: from api.server.listen_uri)")
    reg.add_argument("--token", help="auto-registration token of the LAPI")
    reg.add_argument("-f", "--file", help="credentials file to write ('-': standard "
                                          "output; default: api.client.credentials_path)")


def run(args: argparse.Namespace, config: Config) -> int:
    """Run ``lapi status|register``; returns the exit status."""
    try:
        if args.action == "status":
            path = config.api.client.credentials_path
            with logged_in(config) as client:
                print(f"Logged in to the Local API at {client.url} with {path}")
            print("You can successfully interact with the Local API (LAPI)")
        else:
            _register(args, config)
    except ApiError as exc:
        print(f"crowdstream: {exc}", file=sys.stderr)
        return 1
    return 0


def _register(args: argparse.Namespace, config: Config) -> None:
    name = args.machine or f"{socket.gethostname()}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(32)
    url = args.url or default_url(config)
    target = None if args.file == "-" else (
        Path(args.file) if args.file else config.api.client.credentials_path)
    if target is None and args.file != "-":
        raise ApiError("no api.client.credentials_path: give a file with -f ('-f -' for "
                       "standard output)")
    body: dict[str, Any] = {"machine_id": name, "password": password}
    if args.token:
        body["registration_token"] = args.token
    with LapiClient(url, verify=not config.api.client.insecure_skip_verify) as client:
        client.request("POST", "v1/watchers", body=body, expect=(201, 202))
    document = yaml.safe_dump({"url": url, "login": name, "password": password},
                              sort_keys=False)
    print(f"Successfully registered '{name}' to the Local API (LAPI)", file=sys.stderr)
    if target is None:
        sys.stdout.write(document)
    else:
        write_private(target, document)
        print(f"Local API credentials written to '{target}'", file=sys.stderr)
    if not args.token:
        print(f"Run 'crowdstream machines validate {name}' on the LAPI to let it log in",
              file=sys.stderr)
