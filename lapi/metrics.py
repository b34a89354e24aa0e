"""LAPI metrics (default registry), with CrowdSec's names where one exists.

Gauges set ``multiprocess_mode`` so that the shell can aggregate them in prometheus
multiprocess mode; ``cs_active_decisions`` is a database-wide value every LAPI process
computes alike, hence ``livemostrecent``.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# --- CrowdSec names ---
ROUTE_REQUESTS = Counter(
    "cs_lapi_route_requests_total", "Number of calls to each route per method.",
    ["route", "method"],
)
BOUNCER_REQUESTS = Counter(
    "cs_lapi_bouncer_requests_total",
    "Number of calls to each route per method grouped by bouncers.",
    ["bouncer", "route", "method"],
)
DECISIONS_KO = Counter(
    "cs_lapi_decisions_ko_total", "Number of calls to /decisions that returned nil result.",
    ["bouncer"],
)
DECISIONS_OK = Counter(
    "cs_lapi_decisions_ok_total", "Number of calls to /decisions that returned non-nil result.",
    ["bouncer"],
)
REQUEST_DURATION = Histogram(
    "cs_lapi_request_duration_seconds", "Response time of LAPI",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1),
)
ACTIVE_DECISIONS = Gauge(
    "cs_active_decisions", "Number of active decisions.", ["reason", "origin", "action"],
    multiprocess_mode="livemostrecent",
)

# --- crowdstream's own ---
BAD_RECORDS = Counter(
    "crowdstream_lapi_bad_records_total",
    "Messages of the alerts topic that did not match their schema (skipped)", ["topic"],
)
ALERTS_INGESTED = Counter(
    "crowdstream_lapi_alerts_ingested_total", "Alerts stored", ["source"],
)
ALERTS_DUPLICATE = Counter(
    "crowdstream_lapi_alerts_duplicate_total",
    "Alerts received again (same uuid) and not stored twice", ["source"],
)
ALERTS_INVALID = Counter(
    "crowdstream_lapi_alerts_invalid_total", "Alerts rejected by validation", ["source"],
)
DECISIONS_CREATED = Counter(
    "crowdstream_lapi_decisions_created_total", "Decisions stored", ["source"],
)
DECISIONS_DEDUPLICATED = Counter(
    "crowdstream_lapi_decisions_deduplicated_total",
    "Decisions not stored: an active one on the same value already lasts as long (#827)",
    ["source"],
)
INGEST_FAILURES = Counter(
    "crowdstream_lapi_ingest_failures_total",
    "Consumer poll batches whose database transaction failed (retried)",
)
