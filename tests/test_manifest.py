"""The typed manifest: it round-trips, reads what earlier versions wrote with the same keys, refuses other schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index.errors import IndexCorrupt, IndexIncompatible
from index.manifest import MANIFEST, Counts, DocumentEntry, FileEntry, GateRecord, Manifest, ModelInfo

# What index/build.py and index/store.py wrote before the manifest was typed (a generation of issue 13).
WRITTEN_BEFORE: dict[str, Any] = {
    "context": "name-heading-label/6",
    "counts": {"documents": 1, "passages": 2, "windows": 3},
    "created": "2026-11-28T09:00:00+00:00",
    "dense": {"kind": "flat"},
    "documents": {
        "iom-approach-to-protection": {
            "indexed_at": "2026-11-27T08:00:00+00:00",
            "passages": 2,
            "set_aside": {"fragment": 1},
            "sha256": "ab" * 32,
            "source": "corpus/iom.pdf",
            "title": "IOM Approach to Protection",
        }
    },
    "files": {"dense.faiss": "01" * 32, "lexical/index.json": "02" * 32},
    "gate": {"golden_sha256": "cd" * 32, "hit_rate": 0.9615, "k": 3},
    "generation": "g20261128T090000000000-1a2b3c",
    "lexical": {"analyzer": "en-snowball-stop-bigram-acronyms-irregular/3"},
    "model": {"dim": 384, "max_tokens": 256, "name": "sentence-transformers/all-MiniLM-L6-v2"},
    "parser": 6,
    "schema_version": 1,
}


def write(folder: Path, data: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
    return path


def test_a_manifest_written_before_loads_typed_and_saves_back_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path / "g1", WRITTEN_BEFORE)
    manifest = Manifest.load(path)
    assert manifest.model == ModelInfo("sentence-transformers/all-MiniLM-L6-v2", 384, 256)
    assert manifest.counts == Counts(documents=1, passages=2, windows=3)
    assert (
        manifest.analyzer == "en-snowball-stop-bigram-acronyms-irregular/3"
        and manifest.context == "name-heading-label/6"
    )
    assert manifest.dense_kind == "flat" and manifest.parser == 6 and manifest.schema_version == 1
    assert manifest.gate == GateRecord(golden_sha256="cd" * 32, k=3, hit_rate=0.9615)
    entry = manifest.documents["iom-approach-to-protection"]
    assert entry.sha256 == "ab" * 32 and entry.indexed_at == "2026-11-27T08:00:00+00:00" and entry.passages == 2
    assert entry.set_aside == {"fragment": 1}
    assert FileEntry("lexical/index.json", "02" * 32) in manifest.files
    before = path.read_text()
    manifest.save(path)
    assert path.read_text() == before  # the same keys and values, byte for byte


def test_an_older_manifest_without_the_later_keys_loads_with_none(tmp_path: Path) -> None:
    older = {k: v for k, v in WRITTEN_BEFORE.items() if k not in ("context", "dense", "gate", "lexical", "parser")}
    older["documents"] = {
        doc: {k: v for k, v in entry.items() if k != "set_aside"} for doc, entry in WRITTEN_BEFORE["documents"].items()
    }
    manifest = Manifest.load(write(tmp_path / "g0", older))
    assert (manifest.analyzer, manifest.context, manifest.dense_kind, manifest.parser, manifest.gate) == (None,) * 5
    assert manifest.documents["iom-approach-to-protection"].set_aside is None
    assert manifest.to_json() == older  # nothing invented on the way back


def test_a_built_manifest_round_trips_through_its_file(tmp_path: Path) -> None:
    manifest = Manifest(
        model=ModelInfo("m", 8, 128),
        created="2026-11-29T10:00:00+00:00",
        counts=Counts(documents=1, passages=1, windows=1),
        analyzer="a/1",
        context="c/1",
        dense_kind="hnsw",
        parser=6,
        documents={"d": DocumentEntry("ef" * 32, "d.txt", "D", 1, "2026-11-29T10:00:00+00:00", {})},
        generation="g2",
        files=(FileEntry("dense.faiss", "00" * 32),),
    )
    path = tmp_path / "g2" / MANIFEST
    path.parent.mkdir()
    manifest.save(path)
    assert Manifest.load(path) == manifest


def test_another_schema_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "g9", {**WRITTEN_BEFORE, "schema_version": 2})
    with pytest.raises(
        IndexIncompatible, match=r"generation g9 has schema 2, this program reads 1; rebuild with: pqa ingest"
    ):
        Manifest.load(path)


def test_a_manifest_missing_a_key_or_unreadable_is_corrupt(tmp_path: Path) -> None:
    no_model = write(tmp_path / "g3", {k: v for k, v in WRITTEN_BEFORE.items() if k != "model"})
    with pytest.raises(IndexCorrupt, match=r"generation g3: manifest.json lacks or mistypes 'model'; rebuild with"):
        Manifest.load(no_model)
    cut = tmp_path / "g4" / MANIFEST
    cut.parent.mkdir()
    cut.write_text(json.dumps(WRITTEN_BEFORE)[:40])
    with pytest.raises(IndexCorrupt, match=r"generation g4: unreadable manifest.json"):
        Manifest.load(cut)
