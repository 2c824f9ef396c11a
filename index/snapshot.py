"""A generation loaded into memory: documents, passages, windows, sentences, dense and lexical indexes.

Rows: `searchable[i]` is lexical row i; its dense windows are rows
`window_offsets[i]:window_offsets[i + 1]` of the FAISS index, its sentences rows
`sentence_offsets[i]:sentence_offsets[i + 1]` of `sentence_spans` (and of `sentence_vectors`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .context import embedded_text, lead_in_parents
from .dense import DenseIndex
from .errors import IndexCorrupt
from .lexical import LexicalIndex
from .manifest import Manifest
from .records import Document, DocumentInfo, Passage, sha256_text
from .store import Generation

if TYPE_CHECKING:
    from numpy.typing import NDArray

DOCUMENTS = "documents.jsonl"
PASSAGES = "passages.jsonl"
CONTEXTS = "contexts.json"
WINDOWS = "windows.npy"
SENTENCES = "sentences.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
DENSE = "dense.faiss"
LEXICAL = "lexical"


@dataclass
class Snapshot:
    """Everything a search needs, immutable once loaded; swapped whole when a new generation arrives."""

    generation: str
    manifest: Manifest
    documents: dict[str, DocumentInfo]
    passages: list[Passage]
    searchable: list[Passage]
    contexts: list[str]  # per searchable row: the name, section and label the model reads before its windows
    windows: NDArray[np.int32]  # (n, 3): searchable row, start, end
    sentences: NDArray[np.int32]  # (m, 3): searchable row, start, end
    sentence_vectors: NDArray[np.float32] | None
    dense: DenseIndex
    lexical: LexicalIndex
    window_offsets: NDArray[np.int64] = field(init=False)
    sentence_offsets: NDArray[np.int64] = field(init=False)
    row_of: dict[str, int] = field(init=False)
    document_rows: dict[str, NDArray[np.int64]] = field(init=False)
    # item id -> the passage that leads into it ("States Parties shall ensure that:" over "Article 37(a)"), shown
    # above the item: one pass over the passages at load (16 ms for 14,000), not on a question's path
    lead_in_of: dict[str, Passage] = field(init=False)

    def __post_init__(self) -> None:
        count = len(self.searchable)
        self.window_offsets = _offsets(self.windows[:, 0], count)
        self.sentence_offsets = _offsets(self.sentences[:, 0], count)
        self.row_of = {p.id: i for i, p in enumerate(self.searchable)}
        by_doc: dict[str, list[int]] = {}
        for i, p in enumerate(self.searchable):
            by_doc.setdefault(p.document_id, []).append(i)
        self.document_rows = {d: np.asarray(rows, dtype=np.int64) for d, rows in by_doc.items()}
        self.lead_in_of = lead_in_parents(self.passages)

    @property
    def model(self) -> str:
        return self.manifest.model.name

    def document(self, document_id: str) -> Document:
        info = self.documents[document_id]
        return Document(info, tuple(p for p in self.passages if p.document_id == document_id))

    def iter_documents(self) -> Iterator[Document]:
        for document_id in self.documents:
            yield self.document(document_id)

    def window_texts(self) -> Iterator[str]:
        """The texts the model embedded for the windows (context included), in FAISS row order."""
        for row, start, end in self.windows:
            yield embedded_text(self.contexts[row], self.searchable[row].text[start:end])

    def sentence_texts(self) -> Iterator[str]:
        for row, start, end in self.sentences:
            yield self.searchable[row].text[start:end]

    def embedding_cache(self) -> dict[str, NDArray[np.float32]]:
        """Vectors of this generation keyed by the sha256 of the text they embed (for reuse)."""
        cache = {sha256_text(t): self.dense.vectors[i] for i, t in enumerate(self.window_texts())}
        if self.sentence_vectors is not None:
            for i, t in enumerate(self.sentence_texts()):
                cache.setdefault(sha256_text(t), self.sentence_vectors[i])
        return cache

    # -- disk ---------------------------------------------------------------------------------

    def write(self, folder: Path) -> None:
        with (folder / DOCUMENTS).open("w") as handle:
            for info in self.documents.values():
                handle.write(json.dumps(info.to_dict(), ensure_ascii=False) + "\n")
        with (folder / PASSAGES).open("w") as handle:
            for p in self.passages:
                handle.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        (folder / CONTEXTS).write_text(json.dumps(self.contexts, ensure_ascii=False))
        np.save(folder / WINDOWS, self.windows)
        np.save(folder / SENTENCES, self.sentences)
        if self.sentence_vectors is not None:
            np.save(folder / SENTENCE_VECTORS, self.sentence_vectors)
        self.dense.save(folder / DENSE)
        self.lexical.save(folder / LEXICAL)

    @classmethod
    def load(cls, generation: Generation) -> Snapshot:
        """Load a checked generation; any inconsistency is an IndexCorrupt with the generation's name."""
        folder, manifest = generation.path, generation.manifest
        try:
            documents = [DocumentInfo.from_dict(json.loads(line)) for line in _lines(folder / DOCUMENTS)]
            passages = [Passage.from_dict(json.loads(line)) for line in _lines(folder / PASSAGES)]
            vectors_path = folder / SENTENCE_VECTORS
            searchable = [p for p in passages if p.searchable]
            snapshot = cls(
                generation=generation.name,
                manifest=manifest,
                documents={d.id: d for d in documents},
                passages=passages,
                searchable=searchable,
                contexts=json.loads((folder / CONTEXTS).read_text(encoding="utf-8")),
                windows=np.load(folder / WINDOWS).reshape(-1, 3),
                sentences=np.load(folder / SENTENCES).reshape(-1, 3),
                sentence_vectors=np.load(vectors_path) if vectors_path.exists() else None,
                dense=DenseIndex.load(folder / DENSE, manifest.model.dim),
                lexical=LexicalIndex.load(folder / LEXICAL),
            )
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise IndexCorrupt(
                f"generation {generation.name} cannot be loaded: {exc}; rebuild with: pqa ingest"
            ) from exc
        snapshot.check()
        return snapshot

    def check(self) -> None:
        problems = []
        if self.dense.size != len(self.windows):
            problems.append(f"{self.dense.size} vectors for {len(self.windows)} windows")
        if len(self.contexts) != len(self.searchable):
            problems.append(f"{len(self.contexts)} contexts for {len(self.searchable)} passages")
        if self.lexical.size != len(self.searchable):
            problems.append(f"{self.lexical.size} lexical rows for {len(self.searchable)} passages")
        if self.sentence_vectors is not None and len(self.sentence_vectors) != len(self.sentences):
            problems.append(f"{len(self.sentence_vectors)} sentence vectors for {len(self.sentences)} sentences")
        if len(self.searchable) and (np.diff(self.window_offsets) < 1).any():
            problems.append("a passage without a window")
        if problems:
            raise IndexCorrupt(f"generation {self.generation} is inconsistent: {'; '.join(problems)}")


def _offsets(rows: NDArray[Any], count: int) -> NDArray[np.int64]:
    counts = np.bincount(rows.astype(np.int64), minlength=count) if len(rows) else np.zeros(count, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _lines(path: Path) -> Sequence[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
