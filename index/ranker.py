"""The learned half of the ranking: a linear model over signals of each candidate passage.

Candidates come from FAISS, BM25 and the documents the question names. Each gets FEATURES:
- dense: its best window's cosine to the question (the window read with its context),
- sentence: its best sentence's cosine (each sentence read alone, without the context),
- lexical: its BM25 score over the question's best BM25 score,
- dense_rrf, lexical_rrf: 1 / (60 + rank) in each ranking, the reciprocal-rank-fusion terms,
- named: 1 when the question names its document,
- heading: the share of the question's terms found in its section path and label,
- body: the share of the question's terms found in its text,
- document: the mean dense score of its document's three best candidates (which document is about this),
- footnote: 1 for a footnote,
- cited: 1 when the question cites its unit by number ("Article 33", "Objective 13").
The score is their weighted sum. The weights (index/data/ranker.json) are fitted by
`evaluate/ranker.py` on the tune half of the library question set only; the file says what it was fitted
on. Each signal is on a 0-1 scale, so a weight reads as how much that signal counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

FEATURES = (
    "dense",
    "sentence",
    "lexical",
    "dense_rrf",
    "lexical_rrf",
    "named",
    "heading",
    "body",
    "document",
    "footnote",
    "cited",
)
RRF_K = 60
DOCUMENT_TOP = 3


@dataclass(frozen=True)
class Signals:
    """What the searcher knows of its candidates, row-aligned: the inputs of `features`."""

    dense: NDArray[np.float32]
    sentence: NDArray[np.float32]
    lexical: NDArray[np.float32]  # raw BM25
    lexical_top: float  # the best BM25 score of the question over the whole index
    named: NDArray[np.bool_]
    heading: NDArray[np.float32]
    body: NDArray[np.float32]
    documents: NDArray[np.int64]  # a document number per candidate
    footnote: NDArray[np.bool_]
    cited: NDArray[np.bool_]  # the question cites the candidate's unit ("Article 33")
    shadowed: NDArray[np.bool_] | None = None  # a protocol's unit with the cited number, where the main text has it
    definition: NDArray[np.bool_] | None = None  # states a definition, asked for (index/intent.py)
    lookup: bool = False  # the question asks for the cited units themselves ("What does Article 33 say?")
    exact: NDArray[np.bool_] | None = None  # of the paragraph or point cited within a unit ("Article 29(2)")


def features(s: Signals) -> NDArray[np.float64]:
    """The (candidates, FEATURES) matrix."""
    n = len(s.dense)
    lexical = s.lexical / s.lexical_top if s.lexical_top > 0 else np.zeros(n, dtype=np.float32)
    dense_rrf = RRF_K / (RRF_K + _ranks(s.dense))  # scaled so the first rank is ~1
    lexical_rrf = np.where(s.lexical > 0, RRF_K / (RRF_K + _ranks(s.lexical)), 0.0)
    document = _document_scores(s.dense, s.documents)
    columns = [
        s.dense,
        s.sentence,
        lexical,
        dense_rrf,
        lexical_rrf,
        s.named,
        s.heading,
        s.body,
        document,
        s.footnote,
        s.cited,
    ]
    return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)


def _document_scores(dense: NDArray[np.float32], documents: NDArray[np.int64]) -> NDArray[np.float64]:
    out = np.zeros(len(dense), dtype=np.float64)
    for document in np.unique(documents):
        members = documents == document
        best = np.sort(dense[members])[::-1][:DOCUMENT_TOP]
        out[members] = float(best.mean())
    return out


def _ranks(scores: NDArray[Any]) -> NDArray[np.float64]:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


@dataclass(frozen=True)
class LinearRanker:
    """score = weights . features; `fitted_on` says where the weights come from."""

    weights: tuple[float, ...]
    fitted_on: str = ""

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"expected {len(FEATURES)} weights ({', '.join(FEATURES)}), got {len(self.weights)}")

    def score(self, matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(matrix @ np.asarray(self.weights), dtype=np.float64)

    @property
    def cosine_scale(self) -> float:
        """What a unit of cosine (window and best sentence together) adds to a score: scores divided by it are on
        convex fusion's scale, where a unit of cosine adds 0.8 to 1, so that convex's boosts mean the same there."""
        return self.weights[FEATURES.index("dense")] + self.weights[FEATURES.index("sentence")]

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "weights": list(self.weights), "fitted_on": self.fitted_on}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearRanker:
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError(f"the ranker was fitted on {data.get('features')}, expected {list(FEATURES)}")
        return cls(tuple(float(w) for w in data["weights"]), str(data.get("fitted_on", "")))


@cache
def load_ranker() -> LinearRanker:
    """The shipped weights (index/data/ranker.json)."""
    text = (resources.files("index") / "data" / "ranker.json").read_text(encoding="utf-8")
    return LinearRanker.from_dict(json.loads(text))
