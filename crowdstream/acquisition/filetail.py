"""Polling file tail: follows every file a glob matches, through rotation and truncation.

Files that exist when tailing starts are read from their end (as CrowdSec's file source does
in tail mode); files that appear later are read from the start; ``mode: cat`` reads every
file once from the start. Lines are yielded whole: a partial last line waits for its newline.
"""
from __future__ import annotations

import asyncio
import glob
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from crowdstream.acquisition.spec import FileSourceSpec

_READ = 1 << 20


@dataclass(slots=True)
class _Tailed:
    fd: int
    inode: int
    position: int
    partial: bytes = b""
    lines: list[str] = field(default_factory=list)

    def read_available(self) -> None:
        while True:
            chunk = os.pread(self.fd, _READ, self.position)
            if not chunk:
                return
            self.position += len(chunk)
            data = self.partial + chunk
            *complete, self.partial = data.split(b"\n")
            self.lines.extend(line.decode("utf-8", "replace").rstrip("\r") for line in complete)


class FileTail:
    """Yields ``(path, lines)`` for one file datasource until cancelled (or, in cat mode,
    until every file has been read)."""

    def __init__(self, spec: FileSourceSpec, poll_interval: float = 0.2) -> None:
        self.spec = spec
        self.poll_interval = poll_interval
        self._files: dict[str, _Tailed] = {}
        self._excludes = [re.compile(r) for r in spec.exclude_regexps]

    def _matches(self) -> list[str]:
        paths: set[str] = set()
        for pattern in self.spec.globs:
            paths.update(p for p in glob.glob(pattern) if os.path.isfile(p))
        return sorted(p for p in paths if not any(rx.search(p) for rx in self._excludes))

    def _open(self, path: str, from_end: bool) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        st = os.fstat(fd)
        self._files[path] = _Tailed(fd, st.st_ino, st.st_size if from_end else 0)

    def _poll(self, from_end: bool) -> list[tuple[str, list[str]]]:
        for path in self._matches():
            if path not in self._files:
                self._open(path, from_end)
        out: list[tuple[str, list[str]]] = []
        for path, tailed in list(self._files.items()):
            try:
                current: os.stat_result | None = os.stat(path)
            except OSError:
                current = None
            if current is None or current.st_ino != tailed.inode:
                # rotated or removed: drain the old file, then follow the new one from its start
                tailed.read_available()
                if tailed.partial:
                    tailed.lines.append(tailed.partial.decode("utf-8", "replace"))
                os.close(tailed.fd)
                del self._files[path]
                if current is not None:
                    self._open(path, from_end=False)
                    if path in self._files:
                        self._files[path].read_available()
                        tailed.lines.extend(self._files[path].lines)
                        self._files[path].lines = []
            else:
                if current.st_size < tailed.position:
                    tailed.position, tailed.partial = 0, b""  # truncated: start over
                tailed.read_available()
            if tailed.lines:
                out.append((path, tailed.lines))
                tailed.lines = []
        return out

    async def lines(self) -> AsyncIterator[tuple[str, list[str]]]:
        first = True
        try:
            while True:
                for item in self._poll(from_end=first and self.spec.mode == "tail"):
                    yield item
                if self.spec.mode == "cat" and not first:
                    return
                first = False
                await asyncio.sleep(self.poll_interval)
        finally:
            self.close()

    def close(self) -> None:
        for tailed in self._files.values():
            os.close(tailed.fd)
        self._files.clear()
