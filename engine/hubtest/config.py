"""A hub test folder's ``config.yaml`` (cscli ``HubTestItemConfig``; unknown keys ignored)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TestConfigError(ValueError):
    """A ``config.yaml`` that cannot be read (one line)."""

    __test__ = False  # not a pytest class


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise TestConfigError(f"{key}: expected a list")
    return tuple("" if v is None else str(v) for v in value)


def _go_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class HubTestConfig:
    parsers: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    postoverflows: tuple[str, ...] = ()
    log_file: str = ""
    log_type: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    ignore_parsers: bool = False
    override_statics: tuple[dict[str, Any], ...] = ()

    @property
    def scenario_refs(self) -> tuple[str, ...]:
        return tuple(s for s in self.scenarios if s)

    @property
    def parser_refs(self) -> tuple[str, ...]:
        return tuple(p for p in self.parsers if p)

    @property
    def postoverflow_refs(self) -> tuple[str, ...]:
        return tuple(p for p in self.postoverflows if p)

    @classmethod
    def load(cls, path: Path) -> HubTestConfig:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TestConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise TestConfigError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise TestConfigError(f"{path}: expected a mapping")
        try:
            labels = data.get("labels") or {}
            if not isinstance(labels, dict):
                raise TestConfigError("labels: expected a mapping")
            statics = data.get("override_statics") or []
            if not isinstance(statics, list) or not all(isinstance(s, dict) for s in statics):
                raise TestConfigError("override_statics: expected a list of mappings")
            ignore = data.get("ignore_parsers", False)
            if not isinstance(ignore, bool):
                raise TestConfigError("ignore_parsers: expected a bool")
            return cls(
                parsers=_strings(data, "parsers"),
                scenarios=_strings(data, "scenarios"),
                postoverflows=_strings(data, "postoverflows"),
                log_file=_go_str(data.get("log_file")),
                log_type=_go_str(data.get("log_type")),
                labels={str(k): _go_str(v) for k, v in labels.items()},
                ignore_parsers=ignore,
                override_statics=tuple(statics),
            )
        except TestConfigError as exc:
            raise TestConfigError(f"{path}: {exc}") from None
