"""Fit the ranker's weights (index/data/ranker.json) on training questions: the library's and SciFact's train split.

For each question with an answer, the searcher's candidates and their features are collected (over the
library index that bench/fit_ranker.py builds, or over SciFact's abstracts); the weights maximise the
likelihood that a softmax over each question's candidates picks a right one (a listwise model, as ListNet),
with a small L2 penalty. Each example carries a weight, so one source's questions can count for a chosen share
of the whole. `cross_validate` gives a 5-fold estimate per source; held-out and fresh sets are never read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from index.ranker import FEATURES
from index.search import Searcher

from .library import Judge, Question
from .metrics import mrr_at, ndcg_at

if TYPE_CHECKING:
    from numpy.typing import NDArray

L2 = 1e-3
LIBRARY = "library"


@dataclass(frozen=True)
class Example:
    """One question's candidates: their features, which of them answer, where the question comes from and how
    much it counts in the fit."""

    question: str
    matrix: NDArray[np.float64]
    right: NDArray[np.bool_]
    source: str = LIBRARY
    weight: float = 1.0


@dataclass(frozen=True)
class Quality:
    """How well weights rank one source's examples (among their candidates): top-1, top-3, MRR@10, nDCG@10."""

    questions: int
    top1: float
    top3: float
    mrr: float
    ndcg: float


def collect(searcher: Searcher, questions: Sequence[Question], judge: Judge) -> list[Example]:
    """Features of every candidate of every answerable question whose answer is among its candidates."""
    examples = []
    for q in questions:
        if not q.answerable:
            continue
        passages, matrix = searcher.candidate_features(q.question)
        right = np.asarray([judge.is_right(q, p) for p in passages], dtype=bool)
        if right.any():
            examples.append(Example(q.id, matrix, right))
    return examples


def share(examples: Sequence[Example], source: str, fraction: float) -> list[Example]:
    """The examples reweighted so that `source`'s together weigh `fraction` of all (the others weigh 1 each). At
    `fraction` 0 they stay with weight 0: the fit ignores them and `cross_validate` still measures them."""
    if not 0 <= fraction < 1:
        raise ValueError(f"a share is at least 0 and below 1, got {fraction}")
    mine = [e for e in examples if e.source == source]
    others = [e for e in examples if e.source != source]
    each = fraction / (1 - fraction) * len(others) / len(mine) if mine else 0.0
    return [replace(e, weight=1.0) for e in others] + [replace(e, weight=each) for e in mine]


@dataclass(frozen=True)
class _Stacked:
    """Every example's candidates in one matrix, so that one step of the fit is a few array operations."""

    matrix: NDArray[np.float64]
    right: NDArray[np.bool_]
    starts: NDArray[np.int64]  # the first row of each example
    owner: NDArray[np.int64]  # the example of each row
    weight: NDArray[np.float64]  # per example
    total: float

    @classmethod
    def of(cls, examples: Sequence[Example]) -> _Stacked:
        sizes = np.asarray([len(ex.right) for ex in examples], dtype=np.int64)
        if len(sizes) == 0 or (sizes == 0).any():
            raise ValueError("every example needs at least one candidate")
        weight = np.asarray([ex.weight for ex in examples], dtype=np.float64)
        return cls(
            np.concatenate([ex.matrix for ex in examples]),
            np.concatenate([ex.right for ex in examples]),
            np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
            np.repeat(np.arange(len(examples)), sizes),
            weight,
            float(weight.sum()),
        )


def _loss_and_gradient(weights: NDArray[np.float64], stacked: _Stacked) -> tuple[float, NDArray[np.float64]]:
    scores = stacked.matrix @ weights
    scores = scores - np.maximum.reduceat(scores, stacked.starts)[stacked.owner]
    p = np.exp(scores)
    p /= np.add.reduceat(p, stacked.starts)[stacked.owner]
    right = np.maximum(np.add.reduceat(np.where(stacked.right, p, 0.0), stacked.starts), 1e-300)
    loss = L2 * float(weights @ weights) - float(stacked.weight @ np.log(right))
    # d(-log sum_right p)/dw = E_p[x] - E_{p | right}[x]
    p_right = np.where(stacked.right, p, 0.0) / right[stacked.owner]
    gradient = 2 * L2 * weights + (stacked.weight[stacked.owner] * (p - p_right)) @ stacked.matrix
    return loss / stacked.total, gradient / stacked.total


def fit(examples: Sequence[Example], iterations: int = 3000, rate: float = 0.05) -> NDArray[np.float64]:
    """Adam on the weighted listwise loss, from the convex default's weights."""
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index("dense")], weights[FEATURES.index("lexical")] = 0.7, 0.3
    weights *= 10  # a softmax over 0-1 features needs a temperature: start sharp enough to learn from
    stacked = _Stacked.of(examples)
    m, v = np.zeros_like(weights), np.zeros_like(weights)
    for t in range(1, iterations + 1):
        _, g = _loss_and_gradient(weights, stacked)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        weights -= rate * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return weights


def quality(weights: NDArray[np.float64], examples: Sequence[Example]) -> Quality:
    """Top-1, top-3, MRR@10 and nDCG@10 (binary: every right candidate counts 1) of `examples` ranked by `weights`."""
    return _average([_scores(weights, ex) for ex in examples])


def _scores(weights: NDArray[np.float64], ex: Example) -> tuple[float, float, float, float]:
    """One example's top-1, top-3, MRR@10 and nDCG@10, by evaluate/metrics.py over its candidates' positions."""
    ranked = [str(i) for i in np.argsort(-(ex.matrix @ weights), kind="stable")]
    relevant = {str(i): 1 for i in np.flatnonzero(ex.right)}
    return (
        mrr_at(ranked, relevant, 1),
        float(mrr_at(ranked, relevant, 3) > 0),
        mrr_at(ranked, relevant, 10),
        ndcg_at(ranked, relevant, 10),
    )


def _average(scores: Sequence[tuple[float, float, float, float]]) -> Quality:
    n = len(scores)
    if n == 0:
        return Quality(0, 0.0, 0.0, 0.0, 0.0)
    one, three, mrr, ndcg = (sum(column) / n for column in zip(*scores, strict=True))
    return Quality(n, one, three, mrr, ndcg)


def cross_validate(examples: Sequence[Example], folds: int = 5) -> dict[str, Quality]:
    """Per source, the quality of each fold's examples under weights fitted on the other folds (every source is
    split into folds alike, by a hash of the question), pooled over the folds."""
    ordered = sorted(examples, key=lambda e: hashlib.sha256(f"{e.source}:{e.question}".encode()).hexdigest())
    held: dict[str, list[tuple[Example, NDArray[np.float64]]]] = {}
    for f in range(folds):
        train = [e for i, e in enumerate(ordered) if i % folds != f]
        w = fit(train)
        for e in ordered[f::folds]:
            held.setdefault(e.source, []).append((e, w))
    return {source: _pooled(pairs) for source, pairs in sorted(held.items())}


def _pooled(pairs: Sequence[tuple[Example, NDArray[np.float64]]]) -> Quality:
    return _average([_scores(w, e) for e, w in pairs])
