"""The ranker's fit (evaluate/ranker.py): the weighted listwise loss, shares of a source, and the per-source
cross-validation that bench/fit_ranker.py chooses SciFact's share by."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluate.ranker import (
    LIBRARY,
    Example,
    _loss_and_gradient,
    _Stacked,
    cross_validate,
    fit,
    quality,
    share,
)
from index.ranker import FEATURES

F = len(FEATURES)
NAMED = FEATURES.index("named")
LEXICAL = FEATURES.index("lexical")


def _examples(count: int, source: str, column: int, seed: int) -> list[Example]:
    """Questions whose one right candidate stands out on `column` only; noise everywhere else."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        n = int(rng.integers(8, 30))
        matrix = rng.random((n, F)) * 0.5
        matrix[:, column] = 0.0
        right = np.zeros(n, dtype=bool)
        right[int(rng.integers(0, n))] = True
        matrix[right, column] = 1.0
        out.append(Example(f"{source}{i}", matrix, right, source))
    return out


def _loss_one_by_one(weights: np.ndarray, examples: list[Example]) -> float:
    total = sum(e.weight for e in examples)
    loss = 1e-3 * float(weights @ weights)
    for e in examples:
        scores = e.matrix @ weights
        p = np.exp(scores - scores.max())
        p /= p.sum()
        loss -= e.weight * math.log(p[e.right].sum())
    return loss / total


def test_the_stacked_loss_is_the_sum_of_each_questions_loss_and_its_gradient_is_the_loss_slope() -> None:
    examples = share(_examples(12, LIBRARY, NAMED, 1) + _examples(7, "scifact", LEXICAL, 2), "scifact", 0.3)
    weights = np.random.default_rng(3).normal(size=F)
    loss, gradient = _loss_and_gradient(weights, _Stacked.of(examples))
    assert loss == pytest.approx(_loss_one_by_one(weights, examples), rel=1e-10)
    step = 1e-6
    for k in range(F):
        bumped = weights.copy()
        bumped[k] += step
        slope = (_loss_one_by_one(bumped, examples) - _loss_one_by_one(weights, examples)) / step
        assert gradient[k] == pytest.approx(slope, rel=1e-3, abs=1e-6)


def test_a_share_gives_a_source_that_part_of_the_total_weight_and_zero_keeps_it_unweighted() -> None:
    library, science = _examples(30, LIBRARY, NAMED, 4), _examples(10, "scifact", LEXICAL, 5)
    weighted = share(library + science, "scifact", 0.25)
    total = sum(e.weight for e in weighted)
    assert sum(e.weight for e in weighted if e.source == "scifact") / total == pytest.approx(0.25)
    assert all(e.weight == 1.0 for e in weighted if e.source == LIBRARY)
    none = share(library + science, "scifact", 0)
    assert len(none) == 40 and all(e.weight == 0.0 for e in none if e.source == "scifact")
    with pytest.raises(ValueError, match="below 1"):
        share(library, "scifact", 1.0)


def test_the_fit_learns_what_each_source_needs_only_when_that_source_counts() -> None:
    library, science = _examples(40, LIBRARY, NAMED, 6), _examples(40, "scifact", LEXICAL, 7)
    without = fit(share(library + science, "scifact", 0), iterations=400)
    with_science = fit(share(library + science, "scifact", 0.5), iterations=400)
    assert quality(without, library).top1 == 1.0
    assert quality(with_science, science).top1 == 1.0
    assert quality(without, science).top1 < 0.5  # the lexical signal was never rewarded
    assert with_science[LEXICAL] > without[LEXICAL] + 1.0


def test_quality_scores_ranks_as_mrr_and_binary_ndcg_do() -> None:
    matrix = np.zeros((4, F))
    matrix[:, NAMED] = [0.9, 0.8, 0.7, 0.1]  # ranked in row order
    right = np.asarray([False, True, False, True])
    q = quality(np.eye(F)[NAMED], [Example("q", matrix, right)])
    assert (q.top1, q.top3, q.mrr) == (0.0, 1.0, 0.5)
    ideal = 1 + 1 / math.log2(3)
    assert q.ndcg == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)


def test_cross_validation_reports_each_source_over_all_its_questions() -> None:
    library, science = _examples(25, LIBRARY, NAMED, 8), _examples(15, "scifact", LEXICAL, 9)
    table = cross_validate(share(library + science, "scifact", 0.5), folds=5)
    assert set(table) == {LIBRARY, "scifact"}
    assert (table[LIBRARY].questions, table["scifact"].questions) == (25, 15)
    assert table[LIBRARY].top1 > 0.9 and table["scifact"].top1 > 0.9
