"""Installing the package prints no setuptools warning: what `make run` shows a newcomer first."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

# What setuptools reads, copied, so that its build folders land in the test's folder, not the checkout.
SOURCES = ("pyproject.toml", "README.md", "ingest", "index", "service", "evaluate")

BUILD = "import sys; from setuptools import build_meta; print(getattr(build_meta, sys.argv[1])(sys.argv[2]))"


def build(hook: str, source: Path, out: Path) -> tuple[str, list[str]]:
    """The wheel `hook` builds (as pip calls it, with the installed setuptools), and the lines that warn."""
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", BUILD, hook, str(out)],
        cwd=source,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    printed = (result.stdout + result.stderr).splitlines()
    name = result.stdout.strip().splitlines()[-1]
    return name, [line for line in printed if "Warning" in line or "InformationOnly" in line]


def test_building_the_wheel_and_the_editable_install_warns_of_nothing(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path / "wheels"
    out.mkdir()
    wheel, warned = build("build_wheel", source, out)
    assert not warned, "\n".join(warned)
    _, warned = build("build_editable", source, out)  # `pip install -e .`, as `make setup` runs it
    assert not warned, "\n".join(warned)
    listing = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", str(out / wheel)], check=True, capture_output=True, text=True
    ).stdout
    assert "index/data/confidence.json" in listing and "service/static/index.html" in listing
    # the protection adapter travels with the package: without it the default model would be the plain one
    assert "index/data/adapter/adapter.safetensors" in listing and "index/data/adapter/adapter.json" in listing
    # and so does the reranker's (index/reranker.py): without it the service would answer in the first stage's order
    assert "index/data/reranker/adapter.safetensors" in listing and "index/data/reranker/adapter.json" in listing
