"""``XMLGetNodeValue`` / ``XMLGetAttributeValue``: CrowdSec evaluates ``beevik/etree`` paths,
an XPath subset, and returns the first element found.

Supported, as etree: selectors ``.`` ``..`` ``*`` ``tag`` ``prefix:tag``, a leading ``/``
(document root) and ``//`` (descendants, breadth first); filters ``[n]`` (1-based, negative
from the end), ``[@attr]``, ``[@attr='v']``, ``[tag]``, ``[tag='v']``, ``[text()]``,
``[text()='v']``, ``[local-name()='v']``, ``[name()='v']``, ``[namespace-prefix()='v']`` and
``[namespace-uri()='v']``. Tags match on the local name, ignoring a default namespace, as in
etree. An element's text is the character data right after its start tag (comments skipped,
stopping at the first child element).

Documents are parsed with expat; a document with a DTD is rejected (Go's ``encoding/xml``
does not expand DTD entities either), so entity expansion attacks cannot happen.
"""
from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from engine.expr.functions import Function
from engine.helpers._args import string


class XMLPathError(ValueError):
    """An invalid etree path."""


@dataclass(eq=False, slots=True)
class Element:
    space: str
    tag: str
    attrs: list[tuple[str, str, str]]  # (space, key, value)
    parent: Element | None = None
    # children: Element, str (character data), None (a comment) or _PROC_INST
    children: list[Any] = field(default_factory=list)

    def text(self) -> str:
        out = []
        for child in self.children:
            if type(child) is str:
                out.append(child)
            elif child is None:
                continue
            else:
                break
        return "".join(out)

    def elements(self) -> Iterator[Element]:
        for child in self.children:
            if type(child) is Element:
                yield child

    def full_tag(self) -> str:
        return f"{self.space}:{self.tag}" if self.space else self.tag

    def namespace_uri(self) -> str:
        wanted = ("xmlns", self.space) if self.space else ("", "xmlns")
        node: Element | None = self
        while node is not None:
            for space, key, value in node.attrs:
                if (space, key) == wanted:
                    return value
            node = node.parent
        return ""


def _split(name: str) -> tuple[str, str]:
    space, sep, local = name.partition(":")
    return (space, local) if sep else ("", name)


_PROC_INST = object()  # a processing instruction: ends an element's text, as in etree


class _EntityDeclared(Exception):
    pass


_XML_DECL = re.compile(r"\s*<\?xml\b.*?\?>", re.S)
_WRAPPER = "crowdstream-document"


def parse_document(text: str) -> Element:
    """The document node (tag ``""``) holding the parsed tree; raises ValueError.

    Like Go's ``encoding/xml`` tokenizer (and unlike a validating parser) this accepts text
    and several elements at the top level — Windows event lines often start with ``"- "``. The
    XML declaration is dropped (the text is already decoded)."""
    decl = _XML_DECL.match(text)
    if decl:
        text = text[decl.end():]
    doc = Element("", "", [])
    stack = [doc]
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.ordered_attributes = True
    depth = [0]

    def start(name: str, attrs: list[str]) -> None:
        depth[0] += 1
        if depth[0] == 1:
            return  # the wrapper stands for the document node
        pairs = [(*_split(attrs[i]), attrs[i + 1]) for i in range(0, len(attrs), 2)]
        space, tag = _split(name)
        elem = Element(space, tag, pairs, stack[-1])
        stack[-1].children.append(elem)
        stack.append(elem)

    def end(name: str) -> None:
        depth[0] -= 1
        if depth[0] > 0:
            stack.pop()

    def chars(data: str) -> None:
        stack[-1].children.append(data)

    def comment(data: str) -> None:
        stack[-1].children.append(None)

    def proc_inst(*args: Any) -> None:
        stack[-1].children.append(_PROC_INST)

    def refuse(*args: Any) -> None:
        raise _EntityDeclared

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.CommentHandler = comment
    parser.ProcessingInstructionHandler = proc_inst
    parser.EntityDeclHandler = refuse
    parser.StartDoctypeDeclHandler = refuse
    try:
        parser.Parse(f"<{_WRAPPER}>{text}</{_WRAPPER}>", True)
    except (expat.ExpatError, _EntityDeclared) as exc:
        raise ValueError(f"invalid XML: {exc}") from None
    return doc


# --- paths --------------------------------------------------------------------------------

Step = Callable[[Element], list[Element]]
Filter = Callable[[list[Element]], list[Element]]


def _split_path(path: str) -> list[str]:
    pieces, start, quote = [], 0, ""
    for i, c in enumerate(path):
        if not quote:
            if c in "'\"":
                quote = c
            elif c == "/":
                pieces.append(path[start:i])
                start = i + 1
        elif c == quote:
            quote = ""
    pieces.append(path[start:])
    return pieces


def _select_root(e: Element) -> list[Element]:
    while e.parent is not None:
        e = e.parent
    return [e]


def _select_descendants(e: Element) -> list[Element]:
    out, queue = [], deque([e])
    while queue:
        node = queue.popleft()
        out.append(node)
        queue.extend(node.elements())
    return out


def _selector(text: str) -> Step:
    if text == ".":
        return lambda e: [e]
    if text == "..":
        return lambda e: [e.parent] if e.parent is not None else []
    if text == "*":
        return lambda e: list(e.elements())
    if text == "":
        return _select_descendants
    space, tag = _split(text)
    return lambda e: [c for c in e.elements() if (not space or space == c.space) and c.tag == tag]


_FUNCTIONS: dict[str, Callable[[Element], str]] = {
    "local-name": lambda e: e.tag,
    "name": Element.full_tag,
    "namespace-prefix": lambda e: e.space,
    "namespace-uri": Element.namespace_uri,
    "text": Element.text,
}


def _keep(pred: Callable[[Element], bool]) -> Filter:
    return lambda cands: [c for c in cands if pred(c)]


def _has_attr(name: str, value: str | None) -> Callable[[Element], bool]:
    space, key = _split(name)
    return lambda e: any((not space or space == s) and key == k and (value is None or v == value)
                         for s, k, v in e.attrs)


def _child_filter(name: str, value: str | None) -> Filter:
    space, tag = _split(name)

    def apply(cands: list[Element]) -> list[Element]:
        out = []
        for c in cands:  # etree keeps an element once per matching child
            for cc in c.elements():
                if (not space or space == cc.space) and cc.tag == tag and (value is None or cc.text() == value):
                    out.append(c)
        return out
    return apply


def _filter(text: str) -> Filter:
    if not text:
        raise XMLPathError("path contains an empty filter expression.")
    eq = text.find("=")
    if 0 <= eq < len(text) - 1 and text[eq + 1] in "'\"":
        quote = text[eq + 1]
        close = text.find(quote, eq + 2)
        if close != len(text) - 1:
            raise XMLPathError("path has mismatched filter quotes.")
        key, value = text[:eq], text[eq + 2:close]
        if key.startswith("@"):
            return _keep(_has_attr(key[1:], value))
        if key.endswith("()"):
            fn = _FUNCTIONS.get(key[:-2])
            if fn is None:
                raise XMLPathError("path has unknown function " + key[:-2])
            return _keep(lambda e: fn(e) == value)
        return _child_filter(key, value)
    if text[0] == "@":
        return _keep(_has_attr(text[1:], None))
    if text.endswith("()"):
        fn = _FUNCTIONS.get(text[:-2])
        if fn is None:
            raise XMLPathError("path has unknown function " + text[:-2])
        return _keep(lambda e: fn(e) != "")
    if re.fullmatch(r"[+-]?[0-9]+", text):
        pos = int(text)
        index = pos - 1 if pos > 0 else pos

        def position(cands: list[Element]) -> list[Element]:
            if index >= 0:
                return cands[index:index + 1]
            return [cands[len(cands) + index]] if -index <= len(cands) else []
        return position
    return _child_filter(text, None)


@dataclass(frozen=True, slots=True)
class XMLPath:
    segments: tuple[tuple[Step, tuple[Filter, ...]], ...]

    @classmethod
    def compile(cls, path: str) -> XMLPath:
        if path.endswith("//"):
            path += "*"
        segments: list[tuple[Step, tuple[Filter, ...]]] = []
        if path.startswith("/"):
            segments.append((_select_root, ()))
            path = path[1:]
        for seg in _split_path(path):
            pieces = seg.split("[")
            filters = []
            for piece in pieces[1:]:
                if not piece or piece[-1] != "]":
                    raise XMLPathError("path has invalid filter [brackets].")
                filters.append(_filter(piece[:-1]))
            segments.append((_selector(pieces[0]), tuple(filters)))
        return cls(tuple(segments))

    def find_first(self, root: Element) -> Element | None:
        """etree ``FindElementPath``: breadth-first over (element, remaining segments)."""
        queue = deque([(root, 0)])
        last = len(self.segments) - 1
        while queue:
            elem, k = queue.popleft()
            step, filters = self.segments[k]
            cands = step(elem)
            for f in filters:
                cands = f(cands)
            if k == last:
                if cands:
                    return cands[0]
            else:
                queue.extend((c, k + 1) for c in cands)
        return None


class XMLCache:
    """Compiled paths and the last parsed documents of one runtime (hub content calls the
    helpers dozens of times on the same line)."""

    def __init__(self, documents: int = 8) -> None:
        self._paths: dict[str, XMLPath | XMLPathError] = {}
        self._docs: OrderedDict[str, Element | ValueError] = OrderedDict()
        self._size = documents

    def path(self, path: str) -> XMLPath:
        compiled = self._paths.get(path)
        if compiled is None:
            try:
                compiled = XMLPath.compile(path)
            except XMLPathError as exc:
                compiled = exc
            if len(self._paths) < 4096:
                self._paths[path] = compiled
        if isinstance(compiled, XMLPathError):
            raise compiled
        return compiled

    def document(self, text: str) -> Element:
        doc = self._docs.get(text)
        if doc is None:
            try:
                doc = parse_document(text)
            except ValueError as exc:
                doc = exc
            self._docs[text] = doc
            if len(self._docs) > self._size:
                self._docs.popitem(last=False)
        else:
            self._docs.move_to_end(text)
        if isinstance(doc, ValueError):
            raise doc
        return doc

    def find(self, xml: str, path: str) -> Element | None:
        try:
            compiled = self.path(path)
            doc = self.document(xml)
        except ValueError:
            return None
        return compiled.find_first(doc)


def helpers(cache: XMLCache) -> tuple[Function, ...]:
    def get_node_value(xml: Any, path: Any) -> str:
        """The text of the first element at ``path``; ``""`` for bad XML/path or no element."""
        elem = cache.find(string(xml, "XMLGetNodeValue"), string(path, "XMLGetNodeValue", 1))
        return "" if elem is None else elem.text()

    def get_attribute_value(xml: Any, path: Any, attr: Any) -> str:
        elem = cache.find(string(xml, "XMLGetAttributeValue"), string(path, "XMLGetAttributeValue", 1))
        name = string(attr, "XMLGetAttributeValue", 2)
        if elem is None:
            return ""
        space, key = _split(name)
        for s, k, v in elem.attrs:
            if (not space or space == s) and k == key:
                return v
        return ""

    return (
        Function("XMLGetNodeValue", get_node_value, 2, 2),
        Function("XMLGetAttributeValue", get_attribute_value, 3, 3),
    )
