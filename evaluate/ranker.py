"""Fit the ranker's weights (index/data/ranker.json) on the tune half of a library question set.

For each question with an answer, the searcher's candidates and their features are collected (over the
library index that bench/fit_ranker.py builds); the weights maximise the likelihood that a softmax over
each question's candidates picks a right one (a listwise model, as ListNet), with a small L2 penalty.
`cross_validate` gives a 5-fold estimate inside the tune half; the held-out half is never read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from index.ranker import FEATURES
from index.search import Searcher

from .library import Judge, Question

if TYPE_CHECKING:
    from numpy.typing import NDArray

L2 = 1e-3


@dataclass(frozen=True)
class Example:
    """One question's candidates: their features and which of them answer."""

    question: str
    matrix: NDArray[np.float64]
    right: NDArray[np.bool_]


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


def _loss_and_gradient(weights: NDArray[np.float64], examples: Sequence[Example]) -> tuple[float, NDArray[np.float64]]:
    loss, gradient = L2 * float(weights @ weights), 2 * L2 * weights
    for ex in examples:
        scores = ex.matrix @ weights
        scores = scores - scores.max()
        p = np.exp(scores)
        p /= p.sum()
        right = p[ex.right].sum()
        loss -= float(np.log(max(right, 1e-300)))
        # d(-log sum_right p)/dw = E_p[x] - E_{p | right}[x]
        p_right = np.where(ex.right, p, 0.0) / max(right, 1e-300)
        gradient += (p - p_right) @ ex.matrix
    return loss / len(examples), gradient / len(examples)


def fit(examples: Sequence[Example], iterations: int = 3000, rate: float = 0.05) -> NDArray[np.float64]:
    """Adam on the listwise loss, from the convex default's weights."""
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index("dense")], weights[FEATURES.index("lexical")] = 0.7, 0.3
    weights *= 10  # a softmax over 0-1 features needs a temperature: start sharp enough to learn from
    m, v = np.zeros_like(weights), np.zeros_like(weights)
    for t in range(1, iterations + 1):
        _, g = _loss_and_gradient(weights, examples)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        weights -= rate * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return weights


def top_k(weights: NDArray[np.float64], examples: Sequence[Example], k: int) -> float:
    hits = 0
    for ex in examples:
        order = np.argsort(-(ex.matrix @ weights), kind="stable")[:k]
        hits += bool(ex.right[order].any())
    return hits / len(examples) if examples else 0.0


def cross_validate(examples: Sequence[Example], folds: int = 5) -> tuple[float, float]:
    """Mean top-1 and top-3 over folds (among questions whose answer is a candidate)."""
    ordered = sorted(examples, key=lambda e: hashlib.sha256(e.question.encode()).hexdigest())
    ones, threes = [], []
    for f in range(folds):
        test = ordered[f::folds]
        train = [e for i, e in enumerate(ordered) if i % folds != f]
        w = fit(train)
        ones.append(top_k(w, test, 1))
        threes.append(top_k(w, test, 3))
    return float(np.mean(ones)), float(np.mean(threes))
