"""A local CrowdSec hub: the index (``hub/.index.json``) and how item references resolve.

A hub directory in the layout of ``shared/crowdsec-hub`` holds ``hub/`` (content and
``.index.json``), ``patterns/`` and ``data/``. :class:`Hub` reads the index once and answers:

* ``items(type)`` / ``item(type, name)``: what the index lists (name, path, stage, version,
  and whether the file is present on disk);
* ``resolve(type, ref, …)``: the file and stage a hubtest reference means (an index name,
  else a path with Go ``filepath.Join`` semantics tried under the hub root then under the
  test folder; ``./.tests/<t>/…`` names a sibling test folder).
"""
from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ITEM_TYPES = ("parsers", "postoverflows", "scenarios", "collections", "contexts",
              "appsec-configs", "appsec-rules")
#: item types whose files live below a stage directory
STAGED_TYPES = frozenset({"parsers", "postoverflows"})
#: accepted singular spellings on the command line
TYPE_ALIASES = {t.rstrip("s"): t for t in ITEM_TYPES} | {t: t for t in ITEM_TYPES}


class HubError(ValueError):
    """A hub that cannot be read, or a reference that does not resolve (one line)."""


@dataclass(frozen=True, slots=True)
class HubItem:
    """One entry of the hub index."""

    type: str
    name: str
    path: str  # relative to the hub root (``hub/``)
    stage: str
    version: str
    file: Path  # absolute file
    description: str = ""
    author: str = ""

    @property
    def exists(self) -> bool:
        return self.file.is_file()

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "path": self.path, "stage": self.stage,
                "version": self.version, "file": str(self.file), "exists": self.exists,
                "author": self.author, "description": self.description}


@dataclass(frozen=True, slots=True)
class Resolved:
    """A resolved hubtest reference: the file, its stage ("" for scenarios), and how."""

    ref: str
    file: Path
    stage: str
    by: str  # "index" or "path"


def go_join(*parts: str) -> str:
    """Go ``filepath.Join`` (on unix): join non-empty parts, then ``Clean``."""
    joined = "/".join(p for p in parts if p)
    if not joined:
        return ""
    return posixpath.normpath(joined).replace("//", "/")


def stage_of_path(path: str) -> str:
    """The stage of a custom parser/postoverflow path: the component two levels above the
    file (``parsers/<stage>/<author>/<file>``); "" when the path is too short."""
    parts = [p for p in path.split("/") if p]
    return parts[-3] if len(parts) >= 3 else ""


class Hub:
    """A hub directory: ``root`` (content + index), ``patterns`` and ``data``."""

    def __init__(self, hub_dir: Path | str) -> None:
        self.dir = Path(hub_dir).resolve()
        self.root = self.dir / "hub"
        self.patterns = self.dir / "patterns"
        self.data = self.dir / "data"
        index = self.root / ".index.json"
        if not self.root.is_dir():
            raise HubError(f"{self.dir}: not a hub directory (no hub/ folder)")
        try:
            raw = json.loads(index.read_text(encoding="utf-8")) if index.is_file() else {}
        except (OSError, ValueError) as exc:
            raise HubError(f"{index}: cannot read the hub index: {exc}") from None
        if not isinstance(raw, dict):
            raise HubError(f"{index}: the hub index is not a JSON object")
        self._index: dict[str, dict[str, HubItem]] = {}
        for item_type, entries in raw.items():
            if not isinstance(entries, dict):
                continue
            table: dict[str, HubItem] = {}
            for name, entry in entries.items():
                if not isinstance(entry, dict):
                    continue
                path = str(entry.get("path") or "")
                table[name] = HubItem(
                    type=item_type, name=name, path=path, stage=str(entry.get("stage") or ""),
                    version=str(entry.get("version") or ""), file=self.root / path,
                    description=str(entry.get("description") or ""),
                    author=str(entry.get("author") or ""))
            self._index[item_type] = table

    # --- the index ----------------------------------------------------------------------
    def types(self) -> list[str]:
        return sorted(self._index)

    def items(self, item_type: str | None = None) -> Iterator[HubItem]:
        """Index entries (of one type, or all), sorted by type then name."""
        types = [item_type] if item_type else self.types()
        for t in types:
            for name in sorted(self._index.get(t, {})):
                yield self._index[t][name]

    def item(self, item_type: str, name: str) -> HubItem | None:
        return self._index.get(item_type, {}).get(name)

    # --- hubtest references ---------------------------------------------------------------
    def resolve(self, item_type: str, ref: str, test_dir: Path | str | None = None,
                tests_dir: Path | str | None = None) -> Resolved:
        """The file (and stage) ``ref`` means for a test in ``test_dir``, as cscli hubtest
        resolves it; raises :class:`HubError` when nothing matches."""
        item = self.item(item_type, ref)
        if item is not None:
            if not item.exists:
                raise HubError(f"{item_type} {ref!r}: index path {item.path} does not exist")
            return Resolved(ref, item.file, item.stage if item_type in STAGED_TYPES else "", "index")
        rel = go_join(ref)
        rel = rel.lstrip("/") if rel.startswith("/") else rel
        candidates: list[Path] = []
        if rel.startswith(".tests/") and tests_dir is not None:
            candidates.append(Path(tests_dir) / rel[len(".tests/"):])
        candidates.append(self.root / rel)
        if test_dir is not None:
            candidates.append(Path(test_dir) / rel)
        for candidate in candidates:
            if rel and candidate.is_file():
                stage = stage_of_path(rel) if item_type in STAGED_TYPES else ""
                if item_type in STAGED_TYPES and not stage:
                    raise HubError(f"{item_type} {ref!r}: cannot tell the stage of this path")
                return Resolved(ref, candidate.resolve(), stage, "path")
        raise HubError(f"{item_type} {ref!r}: not in the hub index and no such file "
                       f"({', '.join(str(c) for c in candidates)})")
