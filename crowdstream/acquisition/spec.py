"""Datasource specs in CrowdSec's acquisition format (``acquis.yaml`` and ``acquis.d/*.yaml``,
several YAML documents per file)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crowdstream.config import ConfigError, expand, expansion_env

_FILE_KEYS = {"source", "filenames", "filename", "labels", "mode", "exclude_regexps",
              "poll_without_inotify", "force_inotify", "max_buffer_size", "log_level",
              "use_time_machine", "transform", "name", "unique_id"}


@dataclass(frozen=True, slots=True)
class FileSourceSpec:
    """``source: file``: tail (or read once with ``mode: cat``) every file the globs match."""

    globs: tuple[str, ...]
    labels: dict[str, str]
    mode: str = "tail"
    name: str = ""
    exclude_regexps: tuple[str, ...] = field(default_factory=tuple)


def _file_spec(doc: dict[str, Any], where: str) -> FileSourceSpec:
    unknown = sorted(set(doc) - _FILE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: {unknown[0]}: unknown key for source file")
    globs: list[str] = []
    if "filename" in doc:
        if not isinstance(doc["filename"], str):
            raise ConfigError(f"{where}: filename: expected a path")
        globs.append(doc["filename"])
    names = doc.get("filenames") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}: filenames: expected a list of paths")
    globs.extend(names)
    if not globs:
        raise ConfigError(f"{where}: filenames: no filename or filenames given")
    labels = doc.get("labels")
    if not isinstance(labels, dict) or "type" not in labels:
        raise ConfigError(f"{where}: labels.type: required (the log type parsers filter on)")
    mode = doc.get("mode", "tail")
    if mode not in ("tail", "cat"):
        raise ConfigError(f"{where}: mode: {mode!r} is not one of 'tail', 'cat'")
    return FileSourceSpec(tuple(globs), {str(k): str(v) for k, v in labels.items()}, mode,
                          str(doc.get("name", "")), tuple(doc.get("exclude_regexps") or ()))


def load_acquisition(path: Path | None, directory: Path | None) -> list[FileSourceSpec]:
    """Every datasource of ``path`` and of the ``*.yaml`` files in ``directory``."""
    files: list[Path] = []
    if path is not None:
        if not path.exists():
            raise ConfigError(f"{path}: cannot read: no such file")
        files.append(path)
    if directory is not None and directory.is_dir():
        files.extend(sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")))
    env = expansion_env()
    specs: list[FileSourceSpec] = []
    for file in files:
        try:
            docs = list(yaml.safe_load_all(expand(file.read_text(), env)))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: invalid YAML: {str(exc).splitlines()[0]}") from None
        for index, doc in enumerate(docs, start=1):
            if doc is None:
                continue
            where = f"{file} (document {index})"
            if not isinstance(doc, dict):
                raise ConfigError(f"{where}: (top level): expected a mapping")
            source = doc.get("source", "file")
            if source != "file":
                raise ConfigError(f"{where}: source: {source!r} is not supported yet (file only)")
            specs.append(_file_spec(doc, where))
    return specs
