"""CrowdSec parsers: node files compiled into a :class:`ParserChain` of stages."""
from __future__ import annotations

from engine.parser.chain import Observer, ParserChain, load_parsers, stage_files
from engine.parser.node import ParserNode, compile_node

__all__ = ["Observer", "ParserChain", "ParserNode", "compile_node", "load_parsers", "stage_files"]
