"""A crowdstream config.yaml for tests: shipped content, data under a temporary directory."""
from __future__ import annotations

from pathlib import Path

BASE = """
config_paths:
  config_dir: ${{CROWDSTREAM_DEFAULTS}}
  data_dir: {dir}/data
  pattern_dir: ${{CROWDSTREAM_DEFAULTS}}/patterns
db_config:
  type: sqlite
  db_path: {dir}/data/crowdstream.db
"""


def write_config(directory: Path, sections: str) -> Path:
    """``config.yaml`` in ``directory``: the base above plus ``sections`` (YAML text)."""
    path = directory / "config.yaml"
    path.write_text(BASE.format(dir=directory) + sections)
    return path
