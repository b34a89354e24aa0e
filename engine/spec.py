"""Strict, typed reading of CrowdSec YAML content (what Go's strict ``yaml.v2`` decoding does).

CrowdSec decodes content into Go structs: a string field takes a scalar's text as written
(``value: yes`` is ``"yes"``, ``value: 0.10`` is ``"0.10"``), int and bool fields need an int
or bool scalar, ``map[string]any`` fields (scenario labels) get YAML-typed values, and an
unknown or repeated key is an error. :class:`Fields` gives that access to one mapping and
raises :class:`ContentError` naming the file, the key path and the problem.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


class ContentError(ValueError):
    """Invalid content, phrased as one line: ``FILE: KEY: reason``."""


def load_documents(path: Path) -> list[Fields]:
    """The top-level mappings of a (multi-document) YAML file; empty documents are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
    docs = []
    for index, node in enumerate(nodes):
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            continue
        if not isinstance(node, MappingNode):
            raise ContentError(f"{path}: document {index + 1}: expected a mapping")
        docs.append(Fields(node, path, f"document {index + 1}" if len(nodes) > 1 else ""))
    return docs


def _plain(node: Node) -> Any:
    """A node as YAML-typed Python data (YAML 1.1 scalars, like yaml.v2 into ``any``)."""
    constructor = yaml.constructor.SafeConstructor()
    return constructor.construct_object(node, deep=True)


class Fields:
    """Typed, strict access to one YAML mapping of a content file."""

    def __init__(self, node: MappingNode, path: Path, where: str = "") -> None:
        self.node = node
        self.path = path
        self.where = where
        self._items: dict[str, Node] = {}
        self._lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.error("", "mapping keys must be strings")
            key = key_node.value
            if key in self._items:
                self._lines[key] = key_node.start_mark.line + 1
                raise self.error(key, "key is repeated")
            self._items[key] = value_node
            self._lines[key] = key_node.start_mark.line + 1

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where and key else (self.where or key)

    def error(self, key: str, reason: str) -> ContentError:
        """``FILE:LINE: KEY: reason``, the line of ``key`` (or of this mapping)."""
        where = self._key(key)
        at = self.at(key)
        return ContentError(f"{at}: {where}: {reason}" if where else f"{at}: {reason}")

    def at(self, key: str = "") -> str:
        """``FILE:LINE`` of ``key`` (or of this mapping), for messages."""
        return f"{self.path}:{self._lines.get(key, self.line)}"

    def keys(self) -> Iterator[str]:
        return iter(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def check(self, allowed: Collection[str], unsupported: Mapping[str, str] | None = None) -> None:
        """Unknown keys are errors; ``unsupported`` keys are known but not implemented yet."""
        for key in self._items:
            if unsupported and key in unsupported:
                raise self.error(key, unsupported[key])
            if key not in allowed:
                raise self.error(key, "unknown key")

    def present(self, key: str) -> bool:
        """The key is there with a non-null value."""
        node = self._items.get(key)
        return node is not None and not (isinstance(node, ScalarNode) and node.tag == _NULL)

    def str(self, key: str, default: str = "") -> str:
        node = self._items.get(key)
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return default
        if not isinstance(node, ScalarNode):
            raise self.error(key, "expected a string")
        return node.value

    def bool(self, key: str, default: bool = False) -> bool:
        node = self._items.get(key)
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return default
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            raise self.error(key, f"expected true or false, got {_show(node)}")
        return bool(_plain(node))

    def int(self, key: str, default: int = 0) -> int:
        node = self._items.get(key)
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return default
        if not isinstance(node, ScalarNode) or node.tag != _INT:
            raise self.error(key, f"expected an integer, got {_show(node)}")
        return int(_plain(node))

    def number(self, key: str, default: float = 0.0) -> float:
        node = self._items.get(key)
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return default
        if not isinstance(node, ScalarNode) or node.tag not in (_INT, _FLOAT):
            raise self.error(key, f"expected a number, got {_show(node)}")
        return float(_plain(node))

    def any(self, key: str, default: Any = None) -> Any:
        node = self._items.get(key)
        return default if node is None else _plain(node)

    def map(self, key: str) -> Fields | None:
        node = self._items.get(key)
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return None
        if not isinstance(node, MappingNode):
            raise self.error(key, "expected a mapping")
        return Fields(node, self.path, self._key(key))

    def maps(self, key: str) -> list[Fields]:
        """A list of mappings (``statics``, ``nodes``)."""
        node = self._items.get(key)
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return []
        if not isinstance(node, SequenceNode):
            raise self.error(key, "expected a list")
        out = []
        for i, item in enumerate(node.value):
            if not isinstance(item, MappingNode):
                raise self.error(f"{key}[{i}]", "expected a mapping")
            out.append(Fields(item, self.path, self._key(f"{key}[{i}]")))
        return out

    def strings(self, key: str) -> list[str]:
        node = self._items.get(key)
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return []
        if not isinstance(node, SequenceNode) or not all(isinstance(v, ScalarNode) for v in node.value):
            raise self.error(key, "expected a list of strings")
        return [v.value for v in node.value]

    def pairs(self, key: str) -> list[tuple[str, str]]:
        """An ordered string → string mapping (``pattern_syntax``)."""
        sub = self.map(key)
        if sub is None:
            return []
        return [(k, sub.str(k)) for k in sub.keys()]


def _show(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return repr(node.value)
    return "a list" if isinstance(node, SequenceNode) else "a mapping"
