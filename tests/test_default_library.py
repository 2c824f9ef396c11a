"""The default library in corpus/: every file is a named public text with a sidecar and a line in SOURCES.md."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from ingest.library import discover, load

from .conftest import CORPUS, PAPER_ID

DOCUMENTS = sorted(
    p for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".meta.toml") and p.name != "SOURCES.md"
)
SOURCES = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")


def test_the_library_holds_the_paper_and_the_instruments_it_builds_on() -> None:
    sources, failures = discover([CORPUS])
    assert failures == []
    ids = {s.document_id for s in sources}
    assert {PAPER_ID, "udhr", "gcm", "refugee-convention", "kampala-convention"} <= ids
    assert len(ids) == len(DOCUMENTS) >= 10
    assert "SOURCES.md" not in {s.path.name for s in sources}  # the list of sources is not a document


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_each_document_has_its_metadata_and_its_source(path: Path) -> None:
    sidecar = path.with_name(path.stem + ".meta.toml")
    meta = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    for key in ("id", "title", "year", "language", "publisher"):
        assert meta.get(key), f"{sidecar.name} has no {key}"
    if path.stem != PAPER_ID:
        assert meta.get("short_title") and meta.get("aliases") and meta.get("source_url"), sidecar.name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    row = next((line for line in SOURCES.splitlines() if f"`{path.name}`" in line), None)
    assert row is not None, f"SOURCES.md does not list {path.name}"
    assert digest in row, f"SOURCES.md gives another sha256 for {path.name}: the copy is not the one listed"


def test_names_are_unique_across_the_library() -> None:
    seen: dict[str, str] = {}
    for path in DOCUMENTS:
        meta = tomllib.loads(path.with_name(path.stem + ".meta.toml").read_text(encoding="utf-8"))
        for name in [meta.get("short_title"), *meta.get("aliases", [])]:
            if name:
                key = name.casefold()
                assert key not in seen, f"{name!r} names both {seen[key]} and {meta['id']}"
                seen[key] = meta["id"]


@pytest.mark.parametrize("document_id", ["udhr", "kampala-convention", "eu-charter"])
def test_the_first_article_ends_the_preamble(document_id: str) -> None:
    sources, _ = discover([CORPUS])
    [document] = [load(s) for s in sources if s.document_id == document_id]
    articles = [p for p in document.searchable() if p.label.startswith("Article")]
    preamble = [p for p in document.searchable() if p.label.startswith("Preamble")]
    assert articles and preamble
    assert all(p.section[:1] == ("Preamble",) for p in preamble)
    inside = [(p.label, p.section) for p in articles if "Preamble" in p.section]
    assert inside == [], inside[:3]  # "Preamble > Article I: DEFINITIONS" was the section of Kampala's articles
