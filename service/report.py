"""What one ingest run did (service/reindex.py): documents added, updated, kept and removed, passages, the gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.library import Failure

    from .gate import GateResult


@dataclass
class IngestReport:
    """What one ingest run did; `generation` is None when nothing was swapped in (see `gate` for why)."""

    generation: str | None = None
    previous: str | None = None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)  # copies of a file indexed once: reported, not failures
    documents: int = 0
    passages: int = 0
    pages: int = 0
    passages_reused: int = 0
    passages_re_embedded: int = 0
    passages_removed: int = 0
    embedded: int = 0
    reused: int = 0
    recovered: str | None = None
    gate: GateResult | None = None
    seconds: float = 0.0
    set_aside: dict[str, dict[str, int]] = field(default_factory=dict)  # per document: passages not searched, by kind

    @property
    def changed(self) -> bool:
        return self.generation is not None

    @property
    def rejected(self) -> bool:
        return self.gate is not None and not self.gate.passed

    def to_dict(self) -> dict[str, object]:
        return {
            "generation": self.generation,
            "previous": self.previous,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "kept_previous_version": self.kept,
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failures],
            "skipped": [{"path": f.path, "reason": f.reason} for f in self.skipped],
            "documents": self.documents,
            "passages": self.passages,
            "pages": self.pages,
            "passages_reused": self.passages_reused,
            "passages_re_embedded": self.passages_re_embedded,
            "passages_removed": self.passages_removed,
            "embedded": self.embedded,
            "reused": self.reused,
            "recovered": self.recovered,
            "gate": self.gate.to_dict() if self.gate else None,
            "seconds": self.seconds,
            "set_aside": self.set_aside,
        }
