"""Documents -> a new generation on disk: windows and sentences embedded (reusing known vectors), FAISS and BM25 built.

Only text that no earlier generation embedded with the same model goes through the model: vectors
are reused by the sha256 of the text they embed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from .context import CONTEXT, embedded_text, fit_context, lead_ins, lexical_text
from .dense import DenseIndex, resolve_kind
from .embedder import Embedder
from .lexical import ANALYZER, LexicalIndex
from .manifest import Counts, DocumentEntry, GateRecord, Manifest, ModelInfo
from .records import Document, Passage, sha256_text
from .sentences import sentence_spans
from .snapshot import Snapshot
from .store import Generation, Store
from .windows import window_spans

if TYPE_CHECKING:
    from numpy.typing import NDArray

Progress = Callable[[str, int, int], None]
# Embeds many texts at once somewhere else (a cluster's actor pool), calling report(done, total) as it goes.
BulkEmbed = Callable[[Sequence[str], Callable[[int, int], None]], "NDArray[np.float32]"]
EMBED_BATCH = 64


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def plan_rows(
    searchable: Sequence[Passage], embedder: Embedder, with_sentences: bool, contexts: Sequence[str]
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Window rows and sentence rows (searchable row, start, end) for the passages.

    Each window leaves room for its passage's context, which the model reads before it. Every passage has
    sentence rows, a passage of one sentence one: the sentence is read alone, so that the sibling items of one
    objective or article, whose windows all begin with the same heading, are told apart by their own words.
    """
    windows: list[tuple[int, int, int]] = []
    sentences: list[tuple[int, int, int]] = []
    for row, passage in enumerate(searchable):
        budget = embedder.max_tokens - (len(embedder.token_spans(contexts[row])) + 1 if contexts[row] else 0)
        for start, end in window_spans(passage.text, embedder.token_spans, budget):
            windows.append((row, start, end))
        if with_sentences:  # one sentence too: its vector is the passage's body read without its context
            sentences.extend((row, start, end) for start, end in sentence_spans(passage.text))
    return (
        np.asarray(windows, dtype=np.int32).reshape(-1, 3),
        np.asarray(sentences, dtype=np.int32).reshape(-1, 3),
    )


def embed_with_cache(
    texts: Sequence[str],
    embedder: Embedder,
    cache: dict[str, NDArray[np.float32]],
    progress: Progress,
    stage: str,
) -> tuple[NDArray[np.float32], int]:
    """Embed `texts`, taking known vectors from `cache` (and adding new ones to it); returns (vectors, embedded)."""
    keys = [sha256_text(t) for t in texts]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cache}.values())
    progress(stage, 0, len(missing))
    for first in range(0, len(missing), EMBED_BATCH):
        batch = missing[first : first + EMBED_BATCH]
        vectors = embedder.embed_documents([texts[i] for i in batch])
        for i, vector in zip(batch, vectors, strict=True):
            cache[keys[i]] = np.asarray(vector, dtype=np.float32)
        progress(stage, min(first + EMBED_BATCH, len(missing)), len(missing))
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        out[i] = cache[key]
    return out, len(missing)


def embed_in_bulk(
    stages: Sequence[tuple[str, Sequence[str]]],
    embed_many: BulkEmbed,
    cache: dict[str, NDArray[np.float32]],
    progress: Progress,
) -> int:
    """Embed every text not in `cache` with one call to `embed_many`, adding the vectors to `cache`; returns how many.

    One call, so a pool of workers that loads the model once sees every new text of the generation.
    `stages` are (progress stage, texts) in order; progress counts the vectors back against them in turn,
    as a local run reports its stages one after the other.
    """
    missing: dict[str, str] = {}
    sizes: list[tuple[str, int]] = []
    for stage, texts in stages:
        before = len(missing)
        for text in texts:
            missing.setdefault(sha256_text(text), text)
        sizes.append((stage, len(missing) - before))
    if not missing:
        return 0

    shown: dict[str, int] = {}

    def report(done: int, total: int) -> None:
        for stage, size in sizes:
            count = max(0, min(done, size))
            if stage not in shown and count > 0:
                progress(stage, 0, size)  # every stage starts at 0, as a local run's does
            if shown.get(stage) != count:
                shown[stage] = count
                progress(stage, count, size)
            done -= size
            if done < 0:
                return

    report(0, len(missing))
    vectors = embed_many(list(missing.values()), report)
    if len(vectors) != len(missing):
        raise RuntimeError(f"{len(missing)} texts sent to be embedded, {len(vectors)} vectors came back")
    for key, vector in zip(missing, vectors, strict=True):
        cache[key] = np.asarray(vector, dtype=np.float32)
    return len(missing)


def build_snapshot(
    documents: Sequence[Document],
    embedder: Embedder,
    cache: dict[str, NDArray[np.float32]] | None = None,
    progress: Progress = _no_progress,
    with_sentences: bool = True,
    embed_many: BulkEmbed | None = None,
    dense: str = "flat",
) -> tuple[Snapshot, int, int]:
    """An in-memory snapshot of `documents`; returns (snapshot, texts embedded, texts reused).

    Texts are embedded by `embedder` in batches here, or all at once by `embed_many` when given (the
    embedder then only tokenizes). `dense` is the FAISS index kind: flat, hnsw or auto (index/dense.py).
    """
    cache = {} if cache is None else cache
    passages = [p for d in documents for p in d.passages]
    searchable = [p for p in passages if p.searchable]
    infos = {d.info.id: d.info for d in documents}
    named = len(infos) > 1  # a name tells documents apart; in an index of one it only blurs its passages
    leads = {key: text for d in documents for key, text in lead_ins(d.passages).items()}
    contexts = [
        fit_context(p, infos.get(p.document_id), embedder.token_spans, embedder.max_tokens, named, leads.get(p.id))
        for p in searchable
    ]
    windows, sentences = plan_rows(searchable, embedder, with_sentences, contexts)
    window_texts = [embedded_text(contexts[r], searchable[r].text[s:e]) for r, s, e in windows]
    sentence_texts = [searchable[r].text[s:e] for r, s, e in sentences]
    embedded_bulk = 0
    if embed_many is not None:
        stages = [("embedding passages", window_texts), ("embedding sentences", sentence_texts)]
        embedded_bulk = embed_in_bulk(stages, embed_many, cache, progress)
    window_vectors, embedded_w = embed_with_cache(window_texts, embedder, cache, progress, "embedding passages")
    sentence_vectors, embedded_s = embed_with_cache(sentence_texts, embedder, cache, progress, "embedding sentences")
    progress("lexical index", 0, 1)
    lexical = LexicalIndex.build([lexical_text(p, infos.get(p.document_id)) for p in searchable])
    progress("lexical index", 1, 1)
    manifest = Manifest(
        model=ModelInfo(embedder.name, embedder.dim, embedder.max_tokens),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        counts=Counts(documents=len(documents), passages=len(searchable), windows=len(windows)),
        analyzer=ANALYZER,
        context=CONTEXT,
        dense_kind=resolve_kind(dense, len(windows)),
    )
    snapshot = Snapshot(
        generation="(unsaved)",
        manifest=manifest,
        documents={d.info.id: d.info for d in documents},
        passages=passages,
        searchable=searchable,
        contexts=contexts,
        windows=windows,
        sentences=sentences,
        sentence_vectors=sentence_vectors if with_sentences else None,
        dense=DenseIndex.build(window_vectors, embedder.dim, dense),
        lexical=lexical,
    )
    embedded = embedded_bulk + embedded_w + embedded_s
    return snapshot, embedded, len(window_texts) + len(sentence_texts) - embedded


def commit_snapshot(
    store: Store,
    snapshot: Snapshot,
    documents: Sequence[Document],
    previous: Snapshot | None = None,
    progress: Progress = _no_progress,
    parser: int | None = None,
    gate: GateRecord | None = None,
) -> Generation:
    """Write a built snapshot as a new generation and make it current (the caller holds `store.lock()`).

    The one way a generation is written (re-indexing, so the admin jobs and --ray too, and bench/): its
    manifest is the snapshot's with the documents, the parser's version and the gate's score added.

    Progress "writing" reports 0/3 before the files, 1/3 once they are in the hidden folder, 2/3 once
    the folder is sealed as a generation and 3/3 once CURRENT names it.
    """
    folder = store.new_folder()
    progress("writing", 0, 3)
    snapshot.write(folder)
    progress("writing", 1, 3)
    created = snapshot.manifest.created
    before = previous.manifest.documents if previous is not None else {}
    entries = {
        d.info.id: DocumentEntry(
            sha256=d.info.sha256,
            source=d.info.source,
            title=d.info.title,
            passages=len(d.searchable()),
            indexed_at=_indexed_at(before.get(d.info.id), d.info.sha256, created),
            set_aside=d.set_aside(),
        )
        for d in documents
    }
    manifest = dataclasses.replace(snapshot.manifest, documents=entries, parser=parser, gate=gate)
    generation = store.seal(folder, manifest)
    progress("writing", 2, 3)
    store.point_to(generation.name)
    progress("writing", 3, 3)
    return generation


def _indexed_at(before: DocumentEntry | None, sha256: str, now: str) -> str:
    """When this version of the document was first indexed: kept across generations while unchanged."""
    if before is not None and before.sha256 == sha256 and before.indexed_at:
        return before.indexed_at
    return now
