"""The dense half of the ranking: a FAISS inner-product index over unit vectors (cosine).

Two kinds: `flat` (exact; every query reads every vector) and `hnsw` (a graph over the same vectors:
a query reads a few thousand of them). `auto` picks flat below HNSW_FROM vectors and HNSW from there,
the threshold that bench/scale.py measured (README, "A million passages"). Either way the vectors are
kept, once, inside the FAISS index and viewed from numpy, for exact re-scoring and for reuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

KINDS = ("auto", "flat", "hnsw")
# From bench/scale.py (README, "A million passages"), on 2 busy cores: flat answers in 10 ms (p50) at 10k
# vectors and 33 ms at 30k, growing with every vector; HNSW answers in under 1 ms with recall@10 1.000 up to
# 300k (0.953 at 1M) and builds in 3-31 s below 50k. So from 20k vectors a question costs less with HNSW.
HNSW_FROM = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # the service asks for 300 candidates, and FAISS searches with max(efSearch, k)


def resolve_kind(kind: str, count: int) -> str:
    """`flat` or `hnsw` for an index of `count` vectors; `auto` decides by size."""
    if kind not in KINDS:
        raise ValueError(f"unknown dense index {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "auto":
        return "hnsw" if count >= HNSW_FROM else "flat"
    return kind


class DenseIndex:
    """Inner-product search over unit vectors; `vectors` views the rows stored in the FAISS index."""

    def __init__(self, faiss_index: Any, vectors: NDArray[np.float32]) -> None:
        self._index = faiss_index
        self.vectors = vectors

    @property
    def size(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def kind(self) -> str:
        return "hnsw" if hasattr(self._index, "hnsw") else "flat"

    @classmethod
    def build(cls, vectors: NDArray[np.float32], dim: int, kind: str = "flat") -> DenseIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
        index: Any
        if resolve_kind(kind, len(vectors)) == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return cls(index, _stored(index, dim))

    def top(self, query: NDArray[np.float32], n: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Scores and row numbers of the `n` nearest vectors, best first."""
        n = min(n, self.size)
        if n <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, rows = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), n)
        found = rows[0] >= 0  # HNSW may find fewer than n
        return scores[0][found], rows[0][found]

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> DenseIndex:
        import faiss

        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"{path} holds vectors of dimension {index.d}, the manifest says {dim}")
        return cls(index, _stored(index, dim))


def _stored(index: Any, dim: int) -> NDArray[np.float32]:
    """The index's own rows as a read-only numpy view (no second copy); a copy for kinds that store them coded."""
    import faiss

    if not index.ntotal:
        return np.zeros((0, dim), dtype=np.float32)
    storage = faiss.downcast_index(index.storage) if hasattr(index, "storage") else index
    if isinstance(storage, faiss.IndexFlat):
        raw = faiss.rev_swig_ptr(storage.get_xb(), index.ntotal * dim).reshape(index.ntotal, dim)
        view = np.asarray(_Owned(raw, index))
        view.flags.writeable = False
        return view
    return np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


class _Owned:
    """Memory that FAISS owns, lent to numpy: every view of it keeps the index (and so the memory) alive."""

    def __init__(self, raw: NDArray[np.float32], index: Any) -> None:
        self.__array_interface__ = raw.__array_interface__
        self._index = index
