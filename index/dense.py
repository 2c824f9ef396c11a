"""The dense half of the ranking: a FAISS inner-product index over unit vectors (cosine)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


class DenseIndex:
    """Exact (flat) inner-product search; the vectors are also kept for exact re-scoring and reuse."""

    def __init__(self, faiss_index: Any, vectors: NDArray[np.float32]) -> None:
        self._index = faiss_index
        self.vectors = vectors

    @property
    def size(self) -> int:
        return int(self.vectors.shape[0])

    @classmethod
    def build(cls, vectors: NDArray[np.float32], dim: int) -> DenseIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
        index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return cls(index, vectors)

    def top(self, query: NDArray[np.float32], n: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Scores and row numbers of the `n` nearest vectors, best first."""
        n = min(n, self.size)
        if n <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, rows = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), n)
        return scores[0], rows[0]

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> DenseIndex:
        import faiss

        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"{path} holds vectors of dimension {index.d}, the manifest says {dim}")
        vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, dim), dtype=np.float32)
        return cls(index, np.asarray(vectors, dtype=np.float32))
