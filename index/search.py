"""Question -> ranked passages: dense (FAISS) and lexical (BM25) scores fused, best sentence highlighted.

A passage is scored by its best window, so a long paragraph split for the model is still one hit.
Fusion is a convex combination of the cosine and the query-normalised BM25 score (the default) or
reciprocal rank fusion; `explain` fields carry both halves so a caller can see why a passage ranked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .embedder import Embedder
from .errors import BadQuery, IndexIncompatible, UnknownDocument
from .lexical import ANALYZER, tokenize
from .records import KINDS, DocumentInfo, Passage
from .snapshot import Snapshot

if TYPE_CHECKING:
    from numpy.typing import NDArray

CANDIDATES = 100


@dataclass(frozen=True)
class Fusion:
    """How the two rankings combine. `method` is "convex" or "rrf"."""

    method: str = "convex"
    dense_weight: float = 0.7
    rrf_k: int = 60
    highlight_lexical_weight: float = 0.15

    def __post_init__(self) -> None:
        if self.method not in ("convex", "rrf"):
            raise ValueError(f"unknown fusion {self.method!r}; expected 'convex' or 'rrf'")


@dataclass(frozen=True)
class Filters:
    """Restrict results to some documents and/or kinds (None: no restriction)."""

    documents: frozenset[str] | None = None
    kinds: frozenset[str] | None = None


@dataclass(frozen=True)
class Hit:
    passage: Passage
    document: DocumentInfo
    rank: int
    score: float
    dense_score: float
    lexical_score: float
    dense_rank: int | None
    lexical_rank: int | None
    highlight: tuple[int, int] | None


class Searcher:
    """Searches one snapshot with one embedder. Cheap to create: build a new one per generation."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, fusion: Fusion | None = None) -> None:
        if snapshot.model != embedder.name or int(snapshot.manifest["model"]["dim"]) != embedder.dim:
            raise IndexIncompatible(
                f"generation {snapshot.generation} was built with {snapshot.model}, the service runs "
                f"{embedder.name}; rebuild with: pqa ingest"
            )
        analyzer = snapshot.manifest.get("lexical", {}).get("analyzer")
        if analyzer != ANALYZER:
            raise IndexIncompatible(
                f"generation {snapshot.generation} was built with the lexical analyzer {analyzer!r}, this "
                f"program uses {ANALYZER!r}; rebuild with: pqa ingest"
            )
        self.snapshot = snapshot
        self.embedder = embedder
        self.fusion = fusion or Fusion()

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        query = query.strip()
        if not query:
            raise BadQuery("the question is empty; ask something, e.g. 'How does IOM define protection?'")
        allowed = self._allowed_rows(filters or Filters())
        if allowed is not None and not len(allowed):
            return []
        vector = self.embedder.embed_query(query)
        lexical = self.snapshot.lexical.scores(query)
        candidates = self._candidates(vector, lexical, allowed)
        if not len(candidates):
            return []
        dense = self._dense_scores(vector, candidates)
        fused = self._fuse(dense, lexical[candidates], lexical)
        order = np.argsort(-fused, kind="stable")[:k]
        dense_ranks = _ranks(dense)
        lexical_ranks = _ranks(lexical[candidates])
        terms = set(tokenize(query))
        hits = []
        for rank, i in enumerate(order, start=1):
            row = int(candidates[i])
            passage = self.snapshot.searchable[row]
            hits.append(
                Hit(
                    passage=passage,
                    document=self.snapshot.documents[passage.document_id],
                    rank=rank,
                    score=round(float(fused[i]), 6),
                    dense_score=round(float(dense[i]), 6),
                    lexical_score=round(float(lexical[row]), 6),
                    dense_rank=int(dense_ranks[i]),
                    lexical_rank=int(lexical_ranks[i]) if lexical[row] > 0 else None,
                    highlight=self._highlight(row, vector, terms),
                )
            )
        return hits

    def _allowed_rows(self, filters: Filters) -> NDArray[np.int64] | None:
        if filters.documents is None and filters.kinds is None:
            return None
        if filters.kinds is not None and (unknown := filters.kinds - set(KINDS)):
            raise BadQuery(f"unknown kind {sorted(unknown)[0]!r}; expected one of {', '.join(KINDS)}")
        if filters.documents is not None and (missing := filters.documents - set(self.snapshot.documents)):
            known = ", ".join(sorted(self.snapshot.documents)) or "none"
            raise UnknownDocument(f"unknown document {sorted(missing)[0]!r}; indexed documents: {known}")
        rows: Iterable[int] = range(len(self.snapshot.searchable))
        if filters.documents is not None:
            rows = np.concatenate(
                [self.snapshot.document_rows.get(d, np.zeros(0, np.int64)) for d in filters.documents]
            )
        kinds = filters.kinds
        searchable = self.snapshot.searchable
        return np.asarray(sorted(int(r) for r in rows if kinds is None or searchable[r].kind in kinds), dtype=np.int64)

    def _candidates(
        self, vector: NDArray[np.float32], lexical: NDArray[np.float32], allowed: NDArray[np.int64] | None
    ) -> NDArray[np.int64]:
        if allowed is not None and len(allowed) <= 20 * CANDIDATES:
            return allowed
        _, window_rows = self.snapshot.dense.top(vector, CANDIDATES * 3)
        dense_rows = self.snapshot.windows[window_rows, 0] if len(window_rows) else np.zeros(0, np.int64)
        n = min(CANDIDATES, len(lexical))
        lexical_rows = np.argpartition(-lexical, n - 1)[:n] if n else np.zeros(0, np.int64)
        lexical_rows = lexical_rows[lexical[lexical_rows] > 0]
        rows = np.union1d(dense_rows.astype(np.int64), lexical_rows.astype(np.int64))
        if allowed is not None:
            rows = np.intersect1d(rows, allowed)
        return rows

    def _dense_scores(self, vector: NDArray[np.float32], rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """Each passage's best window cosine."""
        offsets = self.snapshot.window_offsets
        scores = self.snapshot.dense.vectors @ vector if len(rows) > 512 else None
        out = np.empty(len(rows), dtype=np.float32)
        for i, row in enumerate(rows):
            start, end = offsets[row], offsets[row + 1]
            window = scores[start:end] if scores is not None else self.snapshot.dense.vectors[start:end] @ vector
            out[i] = window.max()
        return out

    def _fuse(
        self, dense: NDArray[np.float32], lexical: NDArray[np.float32], all_lexical: NDArray[np.float32]
    ) -> NDArray[np.float64]:
        if self.fusion.method == "rrf":
            k = self.fusion.rrf_k
            lexical_part = np.where(lexical > 0, 1.0 / (k + _ranks(lexical)), 0.0)
            return np.asarray(1.0 / (k + _ranks(dense)) + lexical_part, dtype=np.float64)
        top = float(all_lexical.max()) if len(all_lexical) else 0.0
        lexical_norm = lexical / top if top > 0 else np.zeros_like(lexical)
        w = self.fusion.dense_weight
        return np.asarray(w * dense + (1.0 - w) * lexical_norm, dtype=np.float64)

    def _highlight(self, row: int, vector: NDArray[np.float32], terms: set[str]) -> tuple[int, int] | None:
        passage = self.snapshot.searchable[row]
        start, end = self.snapshot.sentence_offsets[row], self.snapshot.sentence_offsets[row + 1]
        if end <= start:
            return (0, len(passage.text)) if passage.text else None
        spans = self.snapshot.sentences[start:end, 1:]
        if self.snapshot.sentence_vectors is not None:
            scores = (self.snapshot.sentence_vectors[start:end] @ vector).astype(np.float64)
        else:
            scores = np.zeros(end - start, dtype=np.float64)
        if terms:
            overlap = [len(terms & set(tokenize(passage.text[a:b]))) / len(terms) for a, b in spans]
            scores += self.fusion.highlight_lexical_weight * np.asarray(overlap)
        best = int(np.argmax(scores))
        return int(spans[best][0]), int(spans[best][1])


def _ranks(scores: NDArray[np.floating]) -> NDArray[np.int64]:
    """1-based rank of each score (highest first)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks
