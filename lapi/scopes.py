"""Decision and source scopes."""
from __future__ import annotations

IP = "Ip"
RANGE = "Range"
_CANONICAL = {"ip": IP, "range": RANGE, "as": "AS", "country": "Country"}


def normalize_scope(scope: str) -> str:
    """CrowdSec's NormalizeScope: ``ip`` → ``Ip``, ``range`` → ``Range``, ``as`` → ``AS``,
    ``country`` → ``Country`` (any case); any other scope as given."""
    return _CANONICAL.get(scope.lower(), scope)
