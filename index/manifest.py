"""A generation's manifest: what it was built with, what it holds, and the sha256 of every file.

The one place that reads and writes manifest.json. The JSON keys on disk are those every earlier
version wrote, so a generation built before this module still loads; a key an older generation
lacks reads as None (and the reader that needs it says what to rebuild). A manifest of another
schema is refused with IndexIncompatible.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import IndexCorrupt, IndexIncompatible

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ModelInfo:
    """The embedding model a generation's vectors come from."""

    name: str
    dim: int
    max_tokens: int


@dataclass(frozen=True)
class Counts:
    documents: int
    passages: int  # searchable ones
    windows: int


@dataclass(frozen=True)
class DocumentEntry:
    """One indexed document as the manifest records it; `indexed_at` is kept while its sha256 is unchanged."""

    sha256: str
    source: str
    title: str
    passages: int
    indexed_at: str
    set_aside: Mapping[str, int] | None = None  # passages not searched, by kind (None: built before it was counted)


@dataclass(frozen=True)
class FileEntry:
    name: str  # relative to the generation folder
    sha256: str


@dataclass(frozen=True)
class GateRecord:
    """A committed generation's score on a golden set, so the next gate need not ask it the questions again."""

    golden_sha256: str
    k: int
    hit_rate: float


@dataclass(frozen=True)
class Manifest:
    """Everything a generation says about itself. `generation` and `files` are set when it is sealed."""

    model: ModelInfo
    created: str
    counts: Counts
    analyzer: str | None = None
    context: str | None = None
    dense_kind: str | None = None
    parser: int | None = None
    gate: GateRecord | None = None
    documents: Mapping[str, DocumentEntry] = field(default_factory=dict)
    generation: str | None = None
    files: tuple[FileEntry, ...] = ()
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read `path` (a generation's manifest.json); unreadable is IndexCorrupt, another schema IndexIncompatible."""
        name = path.parent.name
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"generation {name}: unreadable {MANIFEST} ({exc}); rebuild with: pqa ingest") from exc
        schema = data.get("schema_version") if isinstance(data, dict) else None
        if schema != SCHEMA_VERSION:
            raise IndexIncompatible(
                f"generation {name} has schema {schema}, this program reads {SCHEMA_VERSION}; rebuild with: pqa ingest"
            )
        try:
            return cls.from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexCorrupt(
                f"generation {name}: {MANIFEST} lacks or mistypes {exc}; rebuild with: pqa ingest"
            ) from exc

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        model, counts, gate = data["model"], data["counts"], data.get("gate")
        return cls(
            model=ModelInfo(str(model["name"]), int(model["dim"]), int(model["max_tokens"])),
            created=str(data["created"]),
            counts=Counts(int(counts["documents"]), int(counts["passages"]), int(counts["windows"])),
            analyzer=data.get("lexical", {}).get("analyzer"),
            context=data.get("context"),
            dense_kind=data.get("dense", {}).get("kind"),
            parser=data.get("parser"),
            gate=GateRecord(str(gate["golden_sha256"]), int(gate["k"]), float(gate["hit_rate"])) if gate else None,
            documents={key: _document(entry) for key, entry in data.get("documents", {}).items()},
            generation=data.get("generation"),
            files=tuple(FileEntry(name, sha256) for name, sha256 in data.get("files", {}).items()),
            schema_version=int(data["schema_version"]),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON on disk: the keys earlier versions wrote, a key left out where its value is None."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "model": {"name": self.model.name, "dim": self.model.dim, "max_tokens": self.model.max_tokens},
            "created": self.created,
            "counts": {
                "documents": self.counts.documents,
                "passages": self.counts.passages,
                "windows": self.counts.windows,
            },
            "lexical": {"analyzer": self.analyzer} if self.analyzer is not None else None,
            "context": self.context,
            "dense": {"kind": self.dense_kind} if self.dense_kind is not None else None,
            "parser": self.parser,
            "gate": _gate_json(self.gate) if self.gate is not None else None,
            "documents": {key: _document_json(entry) for key, entry in self.documents.items()},
            "generation": self.generation,
            "files": {f.name: f.sha256 for f in self.files} if self.files else None,
        }
        return {key: value for key, value in out.items() if value is not None}


def _document(entry: Mapping[str, Any]) -> DocumentEntry:
    set_aside = entry.get("set_aside")
    return DocumentEntry(
        sha256=str(entry["sha256"]),
        source=str(entry["source"]),
        title=str(entry["title"]),
        passages=int(entry["passages"]),
        indexed_at=str(entry["indexed_at"]),
        set_aside={str(k): int(v) for k, v in set_aside.items()} if set_aside is not None else None,
    )


def _document_json(entry: DocumentEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sha256": entry.sha256,
        "source": entry.source,
        "title": entry.title,
        "passages": entry.passages,
        "indexed_at": entry.indexed_at,
    }
    if entry.set_aside is not None:
        out["set_aside"] = dict(entry.set_aside)
    return out


def _gate_json(gate: GateRecord) -> dict[str, Any]:
    return {"golden_sha256": gate.golden_sha256, "k": gate.k, "hit_rate": gate.hit_rate}
