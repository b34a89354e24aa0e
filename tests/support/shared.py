"""Where ../shared (the CrowdSec hub, fixtures, bench tools) is: beside the repository, as on
every developer machine and in CI; ``CROWDSTREAM_SHARED`` overrides it."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CROWDSTREAM_SHARED", ROOT.parent / "shared"))
HUB = SHARED / "crowdsec-hub"
FIXTURES = SHARED / "crowdsec-fixtures"
