"""The wheel installs into a fresh venv and every top-level package imports from there (the
generic names engine/topics/pipeline/lapi must not collide with anything), with the shipped
defaults inside."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crowdstream", "engine", "topics", "pipeline", "lapi")


def run(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_wheel_in_fresh_venv(tmp_path: Path) -> None:
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", ROOT, cwd=tmp_path)
    wheels = list((tmp_path / "dist").glob("crowdstream-*.whl"))
    assert len(wheels) == 1
    run(sys.executable, "-m", "venv", tmp_path / "venv", cwd=tmp_path)
    python = tmp_path / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheels[0], cwd=tmp_path)
    code = "import importlib; print('\\n'.join(importlib.import_module(p).__file__ for p in %r))" % (PACKAGES,)
    files = run(python, "-c", code, cwd=tmp_path).split()
    site = str(tmp_path / "venv" / "lib")
    assert len(files) == len(PACKAGES)
    assert all(f.startswith(site) for f in files), files
    shown = run(tmp_path / "venv" / "bin" / "crowdstream", "config", "show", cwd=tmp_path)
    assert "profiles_path: " + site in shown
    defaults = Path(files[0]).parent / "defaults"
    for name in ("config.yaml", "acquis.yaml", "profiles.yaml", "scenarios/ssh-bf.yaml"):
        assert (defaults / name).is_file(), name
