"""How a search's two rankings combine into one score per candidate: the `Fusion` settings and the fused score.

convex (dense and query-normalised BM25 mixed), reciprocal rank fusion, or the learned linear ranker
(index/ranker.py), each plus the boosts for a named document, a cited unit, a lookup and a definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .highlight import LEXICAL_WEIGHT
from .lookup import reading_order
from .ranker import LinearRanker, Signals, features

if TYPE_CHECKING:
    from numpy.typing import NDArray

METHODS = ("convex", "rrf", "learned")


@dataclass(frozen=True)
class Fusion:
    """How the two rankings combine. `method` is "learned", "convex" or "rrf".

    learned (the default since 2026-12-07): the linear ranker over each candidate's signals (index/ranker.py,
    index/data/ranker.json), chosen on a question set written for that choice (bench/data/LIBRARY_QUESTIONS.md).
    convex: score = dense_weight * dense + (1 - dense_weight) * bm25 / max(bm25), where
    dense = (1 - sentence_weight) * best window cosine + sentence_weight * best sentence cosine, plus the boosts
    below. The weights and boosts are convex's. A search that the reranker re-scores starts from the first stage
    this Fusion names (the reranker's weight was chosen over the learned ranker's: bench/rerank_start.py).
    """

    method: str = "learned"
    dense_weight: float = 0.8
    sentence_weight: float = 0.35
    rrf_k: int = 60
    highlight_lexical_weight: float = LEXICAL_WEIGHT
    name_boost: float = 0.1  # added to the fused score of passages of a document the question names
    cite_boost: float = 0.1  # added to the fused score of passages of a unit the question cites ("Article 33")
    definition_boost: float = 0.1  # added to passages that state a definition, when the question asks for one
    lookup_boost: float = 1.0  # added to a cited unit's passages instead of cite_boost when the question asks for
    # nothing but the unit ("What does Article 33 of the 1951 Convention say?"): the unit itself comes first

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown fusion {self.method!r}; expected one of {', '.join(METHODS)}")
        if not (0.0 <= self.dense_weight <= 1.0 and 0.0 <= self.sentence_weight <= 1.0):
            raise ValueError("dense_weight and sentence_weight must be between 0 and 1")

    @property
    def prefers_named(self) -> bool:
        """Whether the documents a question names count: their passages are candidates and their hits `named`."""
        return self.method == "learned" or self.name_boost > 0


def mixed_dense(fusion: Fusion, signals: Signals) -> NDArray[np.float32]:
    """The dense score shown and used by convex fusion: window and sentence cosines mixed as the fusion says."""
    weight = fusion.sentence_weight
    if not weight:
        return signals.dense
    return np.asarray((1.0 - weight) * signals.dense + weight * signals.sentence, dtype=np.float32)


def fuse(
    fusion: Fusion, ranker: LinearRanker, signals: Signals, dense: NDArray[np.float32], rows: NDArray[np.int64]
) -> NDArray[np.float64]:
    """The candidates' fused scores (`dense` is mixed_dense's; `rows` are the candidates' rows), boosts included."""
    method = fusion.method
    cite_boost = fusion.lookup_boost if signals.lookup else fusion.cite_boost
    if method == "learned":
        # on convex's scale (LinearRanker.cosine_scale), with convex's boosts: the ranker weighs a named document
        # and a cited unit itself, but without the boosts a lookup ("What does Article 33 say?"), a protocol's
        # unit and a definition lost their passage (README, "The learned ranker becomes the default")
        fused = ranker.score(features(signals)) / ranker.cosine_scale
    else:
        lexical = signals.lexical
        if method == "rrf":
            k = fusion.rrf_k
            lexical_part = np.where(lexical > 0, 1.0 / (k + ranks(lexical)), 0.0)
            fused = np.asarray(1.0 / (k + ranks(dense)) + lexical_part, dtype=np.float64)
        else:
            top = signals.lexical_top
            lexical_norm = lexical / top if top > 0 else np.zeros_like(lexical)
            w = fusion.dense_weight
            fused = np.asarray(w * dense + (1.0 - w) * lexical_norm, dtype=np.float64)
    boosts = fusion.name_boost * signals.named + cite_boost * signals.cited
    if signals.exact is not None:  # "Article 29(2)": its paragraph before the article's others
        boosts = boosts + cite_boost * signals.exact
    if signals.lookup:  # "What does Article 33 say?": the article as it reads, 33(1) before 33(2)
        boosts = boosts + reading_order(rows, signals.cited)
    if signals.shadowed is not None:  # the cited number, but of a protocol the question did not ask about:
        # below the cited unit even where the model likes the protocol's text better (twice the boost)
        boosts = boosts - 2 * fusion.cite_boost * signals.shadowed
    if signals.definition is not None:  # the question asks for a definition
        boosts = boosts + fusion.definition_boost * signals.definition
    return np.asarray(fused + boosts, dtype=np.float64)


def ranks(scores: NDArray[np.floating]) -> NDArray[np.int64]:
    """1-based rank of each score (highest first)."""
    order = np.argsort(-scores, kind="stable")
    result = np.empty(len(scores), dtype=np.int64)
    result[order] = np.arange(1, len(scores) + 1)
    return result
