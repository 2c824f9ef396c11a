"""How likely the top passage answers the question: a logistic model over three signals of the top hit.

The signals travel between corpora (no raw BM25 score, whose scale depends on the corpus):
- dense: the cosine of the passage's best window to the question,
- sentence: the cosine of its best (highlighted) sentence,
- coverage: the share of the question's terms that occur in the passage's heading, label or text (what BM25
  matches: "What are the recommendations for Member States?" is answered by items under that heading),
- named: 1 when the question names the top passage's document ("What does the GCM say..."),
- unresolved: 1 when the question cites a unit by number that the documents it names (or, naming none,
  the library) do not have ("Objective 24 of the GCM", which has 23),
- unfamiliar: 1 when the question names an instrument, body or case that no document of the library is and
  that its text never writes ("the Cartagena Declaration", "the EU Return Directive"; Searcher.unfamiliar),
- stranger: 1 when the question names something particular (a capitalised word, an acronym, a number: "Germany",
  "2023", "Frontex") that the top passage, its heading and its document's names do not write, nor 2% of its
  document's passages (Searcher.strangers): statistics, national law and other bodies' reports that the library
  only brushes against.

The weights and the threshold below which the answer is flagged "not in the corpus" live in
index/data/confidence.json, fitted by bench/fit_confidence.py on library questions the adapter never learned
(answerable vs unanswerable ones; not the held-out half).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from .context import lexical_text
from .lexical import term_set

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .search import Hit

FEATURES = ("dense", "sentence", "coverage", "named", "unresolved", "unfamiliar", "stranger")


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic model: P(answers) = sigmoid(bias + weights . signals)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, signals: Sequence[float]) -> float:
        if len(signals) != len(self.weights):
            raise ValueError(f"expected {len(self.weights)} signals ({', '.join(FEATURES)}), got {len(signals)}")
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals, strict=True))
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError(f"the calibration was fitted on {data.get('features')}, expected {list(FEATURES)}")
        return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]), float(data["threshold"]))


@dataclass(frozen=True)
class Assessment:
    confidence: float  # calibrated probability that the top passage answers
    not_in_corpus: bool  # confidence below the calibrated threshold (or nothing found)


def query_terms(text: str) -> set[str]:
    """The question's stemmed words (acronyms included), without the word pairs."""
    return term_set(text)


def coverage(terms: set[str], text: str) -> float:
    """The share of `terms` that occur in `text` (0 when the question has no content words)."""
    if not terms:
        return 0.0
    return len(terms & term_set(text)) / len(terms)


def signals(
    terms: set[str], hit: Hit, unresolved: bool = False, unfamiliar: bool = False, stranger: bool = False
) -> tuple[float, ...]:
    """The model's inputs for one hit, in FEATURES order."""
    sentence = hit.highlight_cosine if hit.highlight_cosine is not None else hit.dense_score
    covered = coverage(terms, lexical_text(hit.passage, hit.document))
    return (
        hit.dense_score,
        sentence,
        covered,
        float(hit.named),
        float(unresolved),
        float(unfamiliar),
        float(stranger),
    )


def assess(
    query: str,
    hits: Sequence[Hit],
    calibration: Calibration,
    unresolved: bool = False,
    unfamiliar: bool = False,
    stranger: bool = False,
) -> Assessment:
    """The confidence that `hits[0]` answers `query`, and whether to say that nothing in the corpus does.

    `unresolved`: the question cites a unit that the library does not have; `unfamiliar`: it names an
    instrument the library does not hold; `stranger`: it names something particular that the first hit and
    its document do not write (all three from Searcher.doubts(...).flags()).
    """
    if not hits:
        return Assessment(0.0, True)
    confidence = calibration.probability(signals(query_terms(query), hits[0], unresolved, unfamiliar, stranger))
    if hits[0].looked_up and not (unresolved or unfamiliar):
        # "What does Article 33 of the 1951 Convention say?" answered by Article 33: the library holds what was
        # asked for by number, though a question of few words reads little like its text (no question of the
        # fitted sets is such a lookup, so the model never learned them): not flagged, at least the threshold
        confidence = max(confidence, calibration.threshold)
    return Assessment(round(confidence, 4), confidence < calibration.threshold)


def fit_logistic(
    x: NDArray[np.float64], y: NDArray[np.float64], l2: float = 1e-2, iterations: int = 100
) -> tuple[NDArray[np.float64], float]:
    """Maximum-likelihood logistic regression by Newton's method (L2 on the weights, not the bias)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.diag([0.0] + [l2] * x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (p - y) + penalty @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return beta[1:], float(beta[0])


@cache
def load_calibration() -> Calibration:
    """The shipped calibration (index/data/confidence.json)."""
    text = (resources.files("index") / "data" / "confidence.json").read_text(encoding="utf-8")
    return Calibration.from_dict(json.loads(text))
