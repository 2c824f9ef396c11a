"""The reference retrievers that the default pipeline is measured against, each as published baselines run them.

- BM25: bm25s with its English stop words, no stemming, default parameters (k1 1.5, b 0.75).
- dense: one vector per passage (its first window: the first 254 word pieces, as the model truncates),
  exact inner product in FAISS.
- RRF: reciprocal rank fusion (k = 60) of those two top-100 lists.

Each ranks the rows of a snapshot's `searchable` list, best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from index.dense import DenseIndex
from index.embedder import Embedder
from index.snapshot import Snapshot

if TYPE_CHECKING:
    from numpy.typing import NDArray

DEPTH = 100


class Retriever(Protocol):
    """Anything that turns a question into searchable rows, best first."""

    @property
    def name(self) -> str: ...

    def rank(self, query: str, k: int) -> list[int]: ...


class Bm25Baseline:
    name = "bm25"

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self._bm25s: Any = bm25s
        self._retriever: Any = bm25s.BM25()
        self._retriever.index(bm25s.tokenize(list(texts), stopwords="en", show_progress=False), show_progress=False)
        self._vocab: dict[str, int] = self._retriever.vocab_dict

    def scores(self, query: str) -> NDArray[np.float32]:
        tokens = self._bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        known = [t for t in tokens if t in self._vocab]
        size = int(self._retriever.scores["num_docs"])
        if not known:
            return np.zeros(size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def rank(self, query: str, k: int) -> list[int]:
        return _top(self.scores(query), k)


class DenseBaseline:
    name = "dense"

    def __init__(self, snapshot: Snapshot, embedder: Embedder) -> None:
        first_windows = snapshot.window_offsets[:-1]
        self._index = DenseIndex.build(snapshot.dense.vectors[first_windows], embedder.dim)
        self._embedder = embedder

    def rank(self, query: str, k: int) -> list[int]:
        _, rows = self._index.top(self._embedder.embed_query(query), k)
        return [int(r) for r in rows]


class RrfBaseline:
    name = "hybrid"

    def __init__(self, first: Retriever, second: Retriever, k: int = 60, depth: int = DEPTH) -> None:
        self._parts = (first, second)
        self._k = k
        self._depth = depth

    def rank(self, query: str, k: int) -> list[int]:
        fused: dict[int, float] = {}
        for part in self._parts:
            for position, row in enumerate(part.rank(query, self._depth), start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (self._k + position)
        return sorted(fused, key=lambda row: (-fused[row], row))[:k]


def _top(scores: NDArray[np.float32], k: int) -> list[int]:
    """Rows with a positive score, best first (ties by row), at most k."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    rows = np.argpartition(-scores, k - 1)[:k]
    rows = rows[scores[rows] > 0]
    return [int(r) for r in sorted(rows, key=lambda r: (-scores[r], r))]
