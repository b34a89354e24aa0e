"""The OpenAPI document the LAPI serves at ``/openapi.json``.

FastAPI derives paths, path parameters and bodies from the routes. The query parameters are
parsed by hand (CrowdSec's filter semantics: unknown ones refused on deletes, first value wins,
Go booleans), so they are described here, per path; the security of each operation comes from
the authentication dependency of its route (bouncer API key or TLS certificate, machine JWT).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from lapi.web import require_bouncer, require_machine

#: (name, JSON type, description)
Param = tuple[str, str, str]

_DECISION_FILTER: list[Param] = [
    ("scope", "string", "scope of the decisions (Ip, Range, Country…)"),
    ("value", "string", "exact value"),
    ("type", "string", "decision type (ban, captcha…)"),
    ("ip", "string", "decisions applying to this IP"),
    ("range", "string", "decisions applying to this range"),
    ("contains", "boolean", "with ip/range: decisions containing it (true) or inside it"),
    ("origins", "string", "comma-separated origins (crowdsec, cscli, lists…)"),
    ("scenarios_containing", "string", "comma-separated words the scenario must contain"),
    ("scenarios_not_containing", "string", "comma-separated words the scenario must not contain"),
]
_STREAM: list[Param] = [
    ("startup", "boolean", "every active decision (a bouncer's first pull)"),
    ("scopes", "string", "comma-separated scopes (default ip,range)"),
    ("origins", "string", "comma-separated origins"),
    ("scenarios_containing", "string", "comma-separated words the scenario must contain"),
    ("scenarios_not_containing", "string", "comma-separated words the scenario must not contain"),
    ("wait", "string", "crowdstream extension: hold the request up to this duration (e.g. 30s, "
                       "at most 60s) while there is nothing new (long poll)"),
]
_DECISION_DELETE: list[Param] = [
    ("scopes", "string", "scope"), ("value", "string", "exact value"),
    ("type", "string", "decision type"), ("ip", "string", "decisions applying to this IP"),
    ("range", "string", "decisions applying to this range"),
    ("contains", "boolean", "with ip/range: containing it (true) or inside it"),
    ("origin", "string", "origin"), ("scenario", "string", "exact scenario"),
    ("uuid", "string", "decision uuid"),
]
_ALERT_FILTER: list[Param] = [
    ("scope", "string", "source scope"), ("value", "string", "source value"),
    ("scenario", "string", "scenario"), ("ip", "string", "alerts with decisions on this IP"),
    ("range", "string", "alerts with decisions on this range"),
    ("contains", "boolean", "with ip/range: containing it (true) or inside it"),
    ("since", "string", "started at most this long ago (Go duration, e.g. 4h)"),
    ("until", "string", "started at least this long ago"),
    ("created_before", "string", "created at least this long ago"),
    ("simulated", "boolean", "false: exclude simulated alerts"),
    ("has_active_decision", "boolean", "with (true) or without an active decision"),
    ("decision_type", "string", "with a decision of this type"),
    ("origin", "string", "with a decision of this origin"),
    ("include_capi", "boolean", "false: exclude the Central API's and blocklists' alerts"),
    ("kind", "string", "alert kind"), ("limit", "integer", "at most this many (0: all)"),
    ("sort", "string", "ASC or DESC (by id)"),
    ("with_decisions", "boolean", "false: without their decisions"),
]
_WITH_CONTENT: list[Param] = [("with_content", "boolean", "include the items")]

QUERY_PARAMETERS: dict[tuple[str, str], list[Param]] = {
    ("/v1/decisions", "get"): _DECISION_FILTER,
    ("/v1/decisions", "head"): _DECISION_FILTER,
    ("/v1/decisions", "delete"): _DECISION_DELETE,
    ("/v1/decisions/stream", "get"): _STREAM,
    ("/v1/alerts", "get"): _ALERT_FILTER,
    ("/v1/alerts", "head"): _ALERT_FILTER,
    ("/v1/alerts", "delete"): _ALERT_FILTER,
    ("/v1/allowlists", "get"): _WITH_CONTENT,
    ("/v1/allowlists/{allowlist_name}", "get"): _WITH_CONTENT,
}
SECURITY_SCHEMES = {
    "APIKeyAuthorizer": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                         "description": "a bouncer's API key (or its TLS client certificate)"},
    "JWTAuthorizer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                      "description": "a machine's token from POST /v1/watchers/login"},
}
#: POST /v1/usage-metrics takes either credential
_EITHER = [{"APIKeyAuthorizer": []}, {"JWTAuthorizer": []}]


def _security(route: APIRoute) -> list[dict[str, list[str]]] | None:
    calls = {dep.call for dep in route.dependant.dependencies}
    if require_bouncer in calls:
        return [{"APIKeyAuthorizer": []}]
    if require_machine in calls:
        return [{"JWTAuthorizer": []}]
    return _EITHER if route.path == "/v1/usage-metrics" else None


def build_openapi(app: FastAPI, routers: Sequence[APIRouter], version: str) -> dict[str, Any]:
    """The document for ``app``, whose routes are those of ``routers``."""
    with warnings.catch_warnings():
        # a GET+HEAD route gives FastAPI one id for two operations; renamed below
        warnings.filterwarnings("ignore", message="Duplicate Operation ID")
        spec = get_openapi(
            title="crowdstream Local API", version=version, routes=app.routes,
            description="CrowdSec LAPI v1 wire protocol (bouncers, agents, cscli), with "
                        "crowdstream's long-poll extension of the decisions stream.")
    spec.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for route in (route for router in routers for route in router.routes):
        if not isinstance(route, APIRoute):
            continue
        security = _security(route)
        for method in route.methods:
            operation = spec["paths"][route.path_format][method.lower()]
            operation["operationId"] = f"{route.name}_{method.lower()}"
            if security:
                operation["security"] = security
            params = QUERY_PARAMETERS.get((route.path_format, method.lower()), ())
            operation.setdefault("parameters", []).extend(
                {"name": name, "in": "query", "required": False, "description": text,
                 "schema": {"type": kind}} for name, kind, text in params)
    return spec
