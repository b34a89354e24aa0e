"""File acquisition: CrowdSec acquis format, tail from the end, new files, rotation, truncation."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from crowdstream.acquisition.filetail import FileTail
from crowdstream.acquisition.spec import FileSourceSpec, load_acquisition
from crowdstream.config import ConfigError


def test_load_acquisition_multi_document(tmp_path: Path) -> None:
    acquis = tmp_path / "acquis.yaml"
    acquis.write_text("filenames:\n  - /var/log/auth.log\nlabels:\n  type: syslog\n---\n"
                      "filename: /var/log/nginx/*.log\nlabels:\n  type: nginx\nmode: cat\n")
    extra = tmp_path / "acquis.d"
    extra.mkdir()
    (extra / "x.yaml").write_text("source: file\nfilenames: [/tmp/x.log]\nlabels: {type: x}\n")
    specs = load_acquisition(acquis, extra)
    assert specs == [
        FileSourceSpec(("/var/log/auth.log",), {"type": "syslog"}, "tail"),
        FileSourceSpec(("/var/log/nginx/*.log",), {"type": "nginx"}, "cat"),
        FileSourceSpec(("/tmp/x.log",), {"type": "x"}, "tail"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("filenames: [/a]\n", "labels.type: required"),
        ("filenames: [/a]\nlabels: {type: s}\nfilname: x\n", "filname: unknown key for source file"),
        ("source: kafka\nlabels: {type: s}\n", "source: 'kafka' is not supported yet"),
        ("labels: {type: s}\n", "filenames: no filename or filenames given"),
    ],
)
def test_acquisition_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    acquis = tmp_path / "acquis.yaml"
    acquis.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_acquisition(acquis, None)
    assert str(err.value).startswith(f"{acquis} (document 1): {message}")


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def test_tail_follows_new_lines_rotation_and_truncation(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("old line before start\n")
    tail = FileTail(FileSourceSpec((str(tmp_path / "*.log"),), {"type": "syslog"}))

    assert tail._poll(from_end=True) == []          # existing content is skipped in tail mode
    append(log, "one\ntwo\npart")
    assert tail._poll(from_end=False) == [(str(log), ["one", "two"])]
    append(log, "ial\n")
    assert tail._poll(from_end=False) == [(str(log), ["partial"])]

    append(log, "last of old\n")
    os.rename(log, tmp_path / "auth.log.1")       # rotation: the old file is drained first
    log.write_text("first of new\n")
    assert tail._poll(from_end=False) == [(str(log), ["last of old", "first of new"])]

    log.write_text("cut\n")                        # same inode, shorter: read from the start
    assert tail._poll(from_end=False) == [(str(log), ["cut"])]

    late = tmp_path / "late.log"                   # appears after start: read from its start
    late.write_text("early\n")
    assert tail._poll(from_end=False) == [(str(late), ["early"])]
    tail.close()


def test_cat_mode_reads_everything_once(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("x\ny\n")

    async def collect() -> list[tuple[str, list[str]]]:
        spec = FileSourceSpec((str(log),), {"type": "t"}, "cat")
        return [item async for item in FileTail(spec, poll_interval=0.01).lines()]

    assert asyncio.run(collect()) == [(str(log), ["x", "y"])]
