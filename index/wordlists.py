"""Word lists shipped as data files in index/data (one entry per line, "#" starts a comment)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_word_list(name: str) -> frozenset[str]:
    text = (resources.files("index") / "data" / name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
