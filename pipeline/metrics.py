"""Pipeline metrics, with CrowdSec's names where one exists."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

LINES_READ = Counter("cs_parser_hits_total", "Lines read by the parse stage", ["source", "type"])
LINES_PARSED = Counter("cs_parser_hits_ok_total", "Lines parsed", ["source", "type"])
LINES_UNPARSED = Counter("cs_parser_hits_ko_total", "Lines no parser accepted", ["source", "type"])
BAD_RECORDS = Counter(
    "crowdstream_bad_records_total", "Kafka messages that did not match their schema", ["topic"]
)
POURS = Counter("cs_bucket_poured_total", "Events poured into buckets", ["name"])
OVERFLOWS = Counter("cs_bucket_overflowed_total", "Bucket overflows", ["name"])
REDELIVERED_POURS = Counter(
    "crowdstream_redelivered_pours_total", "Pours skipped because their key had already applied them"
)
BUCKETS_COLLECTED = Counter(
    "crowdstream_bucket_keys_collected_total", "Idle bucket keys deleted from the bucket table"
)
BUCKET_KEYS = Gauge(
    "crowdstream_bucket_keys", "Bucket keys held by the bucket stage (of indexed partitions)",
    multiprocess_mode="livesum",
)
