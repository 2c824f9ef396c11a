"""Corpus paths -> a new index generation, incrementally: the one pipeline behind `pqa ingest` and re-indexing.

Unchanged documents (same sha256) are not parsed again and their passages are reused; only text
not embedded before is embedded. When nothing changed, nothing is written and the model is not
even loaded. A file that fails keeps its last good version in the index, and the report says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.build import Progress, write_generation
from index.embedder import Embedder, resolve_model
from index.errors import SearchIndexError
from index.lexical import ANALYZER
from index.records import Document
from index.snapshot import Snapshot
from index.store import Store
from ingest.library import PARSER_VERSION, Failure, Source, discover, load_all
from ingest.sandbox import Limits


@dataclass
class IngestReport:
    """What one ingest run did; `generation` is None when nothing had to change."""

    generation: str | None = None
    previous: str | None = None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    documents: int = 0
    passages: int = 0
    pages: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.generation is not None

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
            "documents": self.documents,
            "passages": self.passages,
            "pages": self.pages,
            "embedded": self.embedded,
            "reused": self.reused,
            "seconds": self.seconds,
        }


def _previous(store: Store) -> Snapshot | None:
    if store.current_name() is None:
        return None
    try:
        return Snapshot.load(store.current())
    except SearchIndexError:
        return None  # a broken current generation is rebuilt from the sources


def ingest(
    paths: Sequence[Path | str],
    store: Store,
    load_model: Callable[[], Embedder],
    model_name: str | None = None,
    progress: Progress | None = None,
    lock_wait: float = 0.0,
    limits: Limits | None = None,
) -> IngestReport:
    """Bring the index in `store` in line with the documents under `paths`."""
    started = time.perf_counter()
    report = IngestReport()
    with store.lock(wait=lock_wait):
        sources, report.failures = discover(paths)
        previous = _previous(store)
        report.previous = previous.generation if previous else None
        wanted_model = resolve_model(model_name)[0]
        reusable = previous is not None and previous.model == wanted_model and _same_pipeline(previous)
        known = previous.manifest.get("documents", {}) if previous and reusable else {}
        changed = [s for s in sources if known.get(s.document_id, {}).get("sha256") != s.sha256]
        parsed, parse_failures = load_all(changed, progress, limits)
        report.failures.extend(parse_failures)
        documents = _assemble(sources, parsed, previous if reusable else None, report)
        _count(report, documents)
        if previous is not None and reusable and not report.added and not report.updated and not report.removed:
            report.seconds = round(time.perf_counter() - started, 3)
            return report
        embedder = load_model()
        generation, built = write_generation(
            store,
            documents,
            embedder,
            previous=previous,
            progress=progress or (lambda *_: None),
            extra_manifest={"parser": PARSER_VERSION},
        )
        store.prune()
        report.generation = generation.name
        report.embedded, report.reused = built.embedded, built.reused
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _same_pipeline(previous: Snapshot) -> bool:
    """Whether the previous generation was parsed and analysed the way this program does it."""
    manifest = previous.manifest
    return manifest.get("parser") == PARSER_VERSION and manifest.get("lexical", {}).get("analyzer") == ANALYZER


def _assemble(
    sources: Sequence[Source], parsed: Sequence[Document], previous: Snapshot | None, report: IngestReport
) -> list[Document]:
    """The documents of the new generation, in source order: parsed ones, reused ones, kept ones."""
    fresh = {d.id: d for d in parsed}
    old = set(previous.documents) if previous else set()
    failed_paths = {f.path for f in report.failures}
    documents: list[Document] = []
    present: set[str] = set()
    for source in sources:
        present.add(source.document_id)
        if source.document_id in fresh:
            documents.append(fresh[source.document_id])
            (report.updated if source.document_id in old else report.added).append(source.document_id)
        elif previous is not None and source.document_id in old:
            documents.append(previous.document(source.document_id))
            if str(source.path) in failed_paths:
                report.kept.append(source.document_id)
            else:
                report.unchanged.append(source.document_id)
    report.removed = sorted(old - present)
    return documents


def _count(report: IngestReport, documents: Sequence[Document]) -> None:
    report.documents = len(documents)
    report.passages = sum(len(d.searchable()) for d in documents)
    report.pages = sum(d.info.pages or 0 for d in documents)
