"""Corpus paths -> a new index generation, incrementally: the one pipeline behind `pqa ingest` and re-indexing.

Unchanged documents (same sha256) are not parsed again and their passages are reused; only text
not embedded before is embedded. When nothing changed, nothing is written and the model is not
even loaded. A file that fails keeps its last good version in the index, and the report says so;
so do the documents under a path that does not exist. When a golden set is given, a generation
that answers fewer of its questions than the current one is not swapped in (unless `force`).
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from index.build import BulkEmbed, Progress, build_snapshot, commit_snapshot
from index.context import CONTEXT
from index.embedder import Embedder, resolve_model
from index.errors import SearchIndexError
from index.lexical import ANALYZER
from index.manifest import DocumentEntry
from index.records import Document
from index.snapshot import Snapshot
from index.store import Store
from ingest.discovery import scan
from ingest.library import PARSER_VERSION, Failure, Source, load_all
from ingest.sandbox import Limits

from .gate import GoldenSet, judge, manifest_entry
from .report import IngestReport

TEST_PAUSE_SECONDS = 300.0
Parse = Callable[[Sequence[Source], Progress | None, Limits | None], tuple[list[Document], list[Failure]]]


@dataclass(frozen=True)
class Workers:
    """Where the heavy steps run: parsing changed files and embedding new texts.

    Here, in this process, by default; service/distributed.py gives the same steps on a Ray cluster.
    Everything else (discovery, reuse by sha256, the lock, the gate, writing) stays in the caller.
    """

    parse: Parse = load_all
    embed: BulkEmbed | None = None


class IngestRefused(SearchIndexError):
    """A run that would lose the index's documents for no good reason (nothing was written)."""


def _held(previous: Snapshot | None) -> dict[Path, str]:
    """The current generation's files (resolved paths) and their document ids, which they keep (discover)."""
    if previous is None:
        return {}
    return {Path(entry.source).resolve(): document_id for document_id, entry in previous.manifest.documents.items()}


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
    golden: GoldenSet | None = None,
    force: bool = False,
    limits: Limits | None = None,
    workers: Workers | None = None,
    dense: str = "auto",
) -> IngestReport:
    """Bring the index in `store` in line with the documents under `paths`.

    `workers` says where files are parsed and texts embedded (here by default); `dense` is the FAISS
    index kind of a new generation (auto, flat or hnsw: index/dense.py).
    """
    workers = workers or Workers()
    started = time.perf_counter()
    progress = progress or (lambda *_: None)
    report = IngestReport()
    with store.lock(wait=lock_wait) as hold:
        report.recovered = hold.recovered
        progress("scanning", 0, 1)
        previous = _previous(store)
        found = scan(paths, _held(previous))
        sources, report.failures, report.skipped = found.sources, found.failures, found.skipped
        report.previous = previous.generation if previous else None
        same_model = previous is not None and previous.model == resolve_model(model_name)[0]
        reusable = same_model and previous is not None and _same_pipeline(previous)
        known = previous.manifest.documents if previous and reusable else {}
        changed = [s for s in sources if _sha256_of(known.get(s.document_id)) != s.sha256]
        parsed, parse_failures = workers.parse(changed, progress, limits)
        report.failures.extend(parse_failures)
        documents = _assemble(sources, parsed, previous, _unread(paths, report.failures), report)
        progress("scanning", 1, 1)
        _count(report, documents, previous if same_model else None, previous)
        if reusable and not report.added and not report.updated and not report.removed:
            report.seconds = round(time.perf_counter() - started, 3)
            return report
        if previous is not None and previous.documents and not documents and not force:
            raise IngestRefused(
                f"found no documents to index under {', '.join(str(p) for p in paths)}; the index keeps its "
                f"{len(previous.documents)} documents. Check the paths, or run with --force to empty the index"
            )
        if previous is not None and not force:
            _refuse_elsewhere(paths, previous, report.removed, store)
        plan = _Plan(load_model(), workers.embed, dense, golden, force)
        _build(store, documents, plan, previous, same_model, progress, report)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


@dataclass(frozen=True)
class _Plan:
    """How a new generation is built: the model (tokenizer, questions), who embeds, the dense kind, the gate."""

    embedder: Embedder
    embed_many: BulkEmbed | None
    dense: str
    golden: GoldenSet | None
    force: bool


def _build(
    store: Store,
    documents: Sequence[Document],
    plan: _Plan,
    previous: Snapshot | None,
    same_model: bool,
    progress: Progress,
    report: IngestReport,
) -> None:
    """Embed what is new, ask the gate, and commit the generation if it passes."""
    cache = previous.embedding_cache() if previous is not None and same_model else {}
    snapshot, report.embedded, report.reused = build_snapshot(
        documents, plan.embedder, cache, progress, embed_many=plan.embed_many, dense=plan.dense
    )
    gate = None
    if plan.golden is not None:
        progress("golden questions", 0, 1)
        report.gate = judge(snapshot, previous, plan.embedder, plan.golden, plan.force)
        progress("golden questions", 1, 1)
        if not report.gate.passed:
            return
        gate = manifest_entry(report.gate, plan.golden)
    generation = commit_snapshot(store, snapshot, documents, previous, progress, PARSER_VERSION, gate)
    store.prune()
    report.generation = generation.name


def _unread(paths: Sequence[Path | str], failures: Sequence[Failure]) -> list[Path]:
    """Where documents were not read this run: paths that do not exist, files that failed before parsing (a bad
    sidecar, a link out of the folder). Their documents keep their last good version: an error is not a deletion."""
    missing = [Path(p).resolve() for p in paths if not Path(p).exists()]
    return missing + [Path(f.path).resolve() for f in failures]


def _refuse_elsewhere(paths: Sequence[Path | str], previous: Snapshot, removed: Sequence[str], store: Store) -> None:
    """IngestRefused when documents would be removed whose files lie outside every path of this run: they were
    not looked at, not deleted (`pqa ingest lib/one.html` after `pqa ingest lib/`). A file deleted from a folder
    the run names is removed as it should be, and so is one no longer where the index saw it (a library moved)."""
    roots = [Path(p).resolve() for p in paths]
    sources = {d: previous.documents[d].source for d in removed}
    elsewhere = [d for d, source in sources.items() if not _under_any(source, roots) and Path(source).exists()]
    if not elsewhere:
        return
    examples = ", ".join(sources[d] for d in elsewhere[:3]) + (", ..." if len(elsewhere) > 3 else "")
    folders = dict.fromkeys(Path(e.source).parent for e in previous.manifest.documents.values())
    library = _outermost([*paths, *folders])
    command = " ".join(["pqa ingest", *(shlex.quote(str(p)) for p in library), "--index", shlex.quote(str(store.root))])
    count = f"{len(elsewhere)} document{'s' if len(elsewhere) > 1 else ''}"
    raise IngestRefused(
        f"this run names {', '.join(str(p) for p in paths)} and would drop {count} indexed from elsewhere "
        f"({examples}); nothing was changed. Name every folder of the library ({command}), or pass --force to "
        "index only what you named"
    )


def _outermost(paths: Sequence[Path | str]) -> list[Path | str]:
    """`paths` less those inside another one and those named twice (compared resolved), in their order."""
    resolved = [(p, Path(p).resolve()) for p in paths]
    kept: list[Path | str] = []
    seen: set[Path] = set()
    for path, real in resolved:
        inside = any(real != other and real.is_relative_to(other) for _, other in resolved)
        if not inside and real not in seen:
            seen.add(real)
            kept.append(path)
    return kept


def _same_pipeline(previous: Snapshot) -> bool:
    """Whether the previous generation was parsed and analysed the way this program does it."""
    manifest = previous.manifest
    return manifest.parser == PARSER_VERSION and manifest.analyzer == ANALYZER and manifest.context == CONTEXT


def _sha256_of(entry: DocumentEntry | None) -> str | None:
    return entry.sha256 if entry is not None else None


def _assemble(
    sources: Sequence[Source],
    parsed: Sequence[Document],
    previous: Snapshot | None,
    unread: Sequence[Path],
    report: IngestReport,
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
            documents.append(_found_at(previous.document(source.document_id), source.path))
            if str(source.path) in failed_paths:
                report.kept.append(source.document_id)
            else:
                report.unchanged.append(source.document_id)
    for document_id in sorted(old - present):
        assert previous is not None
        if _under_any(previous.documents[document_id].source, unread):
            documents.append(previous.document(document_id))  # a path gone or unreadable is an error, not a deletion
            report.kept.append(document_id)
        else:
            report.removed.append(document_id)
    return documents


def _found_at(document: Document, path: Path) -> Document:
    """`document` recording where its file is now (a library moved or copied), for the next run's `_refuse_elsewhere`;
    the spelling it has stays where it names the same file (a relative and an absolute path)."""
    if Path(document.info.source).resolve() == path.resolve():
        return document
    return replace(document, info=replace(document.info, source=str(path)))


def _under_any(source: str, roots: Sequence[Path]) -> bool:
    path = Path(source).resolve()
    return any(path == root or path.is_relative_to(root) for root in roots)


def _count(
    report: IngestReport, documents: Sequence[Document], comparable: Snapshot | None, previous: Snapshot | None
) -> None:
    """Documents, passages and pages of the new generation; passages reused, re-embedded and removed."""
    report.documents = len(documents)
    report.set_aside = {d.id: d.set_aside() for d in documents}
    report.pages = sum(d.info.pages or 0 for d in documents)
    searchable = [p for d in documents for p in d.searchable()]
    report.passages = len(searchable)
    known_texts = {p.content_hash for p in comparable.searchable} if comparable else set()
    report.passages_re_embedded = sum(1 for p in searchable if p.content_hash not in known_texts)
    report.passages_reused = report.passages - report.passages_re_embedded
    ids = {p.id for p in searchable}
    report.passages_removed = sum(1 for p in previous.searchable if p.id not in ids) if previous else 0


def pausing(progress: Progress, spec: str | None) -> Progress:
    """Test hook (PQA_TEST_PAUSE_AT="STAGE" or "STAGE:DONE"): sleep at that point so a test can kill -9 there.

    Explicit and off unless set: the kill tests need to stop the writer at a known point (while
    embedding, after the files are written, after the generation is sealed), which timing cannot do
    reliably on a small corpus. It announces itself on stderr with the pid.
    """
    if not spec:
        return progress
    stage, _, done = spec.partition(":")

    def wrapped(current: str, count: int, total: int) -> None:
        progress(current, count, total)
        if current == stage and (not done or count == int(done)):
            print(f"pqa: test pause at {current} {count}/{total} (pid {os.getpid()})", file=sys.stderr, flush=True)
            time.sleep(TEST_PAUSE_SECONDS)

    return wrapped
