"""What a search process has counted: its model's questions and its reranker's work (for /metrics)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True)
class Counts:
    """What a search process has counted since it started: the model's questions and the reranker's work."""

    batches: int = 0
    questions: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    cache_entries: int = 0  # held now, not counted: an ended process's are gone
    rerank_calls: int = 0
    rerank_pairs: int = 0
    rerank_seconds: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @classmethod
    def of(cls, engine: Engine) -> Counts:
        embedder, reranker = engine.embedder, engine.reranker
        if embedder is None:
            return cls()
        cache = embedder.cache
        return cls(
            embedder.batches,
            embedder.questions,
            cache.hits,
            cache.misses,
            len(cache),
            reranker.calls if reranker is not None else 0,
            reranker.pairs if reranker is not None else 0,
            reranker.seconds if reranker is not None else 0.0,
        )
