"""The ranking metrics against values worked out by hand (binary and graded relevance, cut-offs, misses)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from evaluate.library import library_files
from evaluate.metrics import mean, mrr_at, ndcg_at, recall_at

LOG2_3 = math.log2(3)  # discount at rank 2
LOG2_5 = math.log2(5)  # discount at rank 4


def test_ndcg_binary_relevance_by_hand() -> None:
    # relevant d1 (rank 2) and d3 (rank 4): DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    ranked = ["d2", "d1", "d4", "d3"]
    relevant = {"d1": 1, "d3": 1}
    expected = (1 / LOG2_3 + 1 / LOG2_5) / (1 + 1 / LOG2_3)
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(expected)
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(0.650921, abs=1e-6)


def test_ndcg_cut_off_drops_later_hits_but_not_from_the_ideal() -> None:
    ranked = ["d2", "d1", "d4", "d3"]
    relevant = {"d1": 1, "d3": 1}
    # @2: only d1 counts; the ideal @2 still has both relevant documents on top
    assert ndcg_at(ranked, relevant, 2) == pytest.approx((1 / LOG2_3) / (1 + 1 / LOG2_3))
    assert ndcg_at(ranked, relevant, 1) == 0.0


def test_ndcg_graded_relevance_uses_linear_gain() -> None:
    # b (grade 1) at rank 1, a (grade 2) at rank 3: DCG = 1 + 2/log2(4) = 2; ideal = 2 + 1/log2(3)
    assert ndcg_at(["b", "x", "a"], {"a": 2, "b": 1}, 10) == pytest.approx(2 / (2 + 1 / LOG2_3))
    assert ndcg_at(["a", "b"], {"a": 2, "b": 1}, 10) == pytest.approx(1.0)


def test_ndcg_ignores_zero_grades_and_duplicates() -> None:
    relevant = {"a": 1, "z": 0}
    assert ndcg_at(["z", "a"], relevant, 10) == pytest.approx(1 / LOG2_3)
    # a duplicated id is counted once, at its first position
    assert ndcg_at(["x", "a", "a"], relevant, 10) == pytest.approx(1 / LOG2_3)


def test_recall_by_hand() -> None:
    relevant = {"d1": 1, "d3": 1, "d9": 1, "d0": 0}
    ranked = ["d2", "d1", "d4", "d3"]
    assert recall_at(ranked, relevant, 100) == pytest.approx(2 / 3)
    assert recall_at(ranked, relevant, 2) == pytest.approx(1 / 3)
    assert recall_at(ranked, relevant, 1) == 0.0
    assert recall_at([], relevant, 100) == 0.0


def test_mrr_by_hand() -> None:
    assert mrr_at(["x", "y", "a"], {"a": 1}, 10) == pytest.approx(1 / 3)
    assert mrr_at(["a", "b"], {"a": 1, "b": 1}, 10) == 1.0
    assert mrr_at(["x", "y", "a"], {"a": 1}, 2) == 0.0


def test_a_query_with_nothing_relevant_is_refused() -> None:
    with pytest.raises(ValueError, match="undefined"):
        ndcg_at(["a"], {"a": 0}, 10)
    with pytest.raises(ValueError, match="undefined"):
        recall_at(["a"], {}, 100)


def test_mean_over_queries() -> None:
    per_query = [
        ndcg_at(["d2", "d1", "d4", "d3"], {"d1": 1, "d3": 1}, 10),
        ndcg_at(["b", "x", "a"], {"a": 2, "b": 1}, 10),
        ndcg_at(["p", "q"], {"z": 1}, 10),
    ]
    assert mean(per_query) == pytest.approx((0.650921 + 0.760188 + 0.0) / 3, abs=1e-6)
    assert mean([]) == 0.0


def test_the_library_is_the_corpus_and_the_shared_folders_documents(tmp_path: Path) -> None:
    corpus, shared = tmp_path / "corpus", tmp_path / "shared"
    (shared / "treaties").mkdir(parents=True)
    (shared / "beir-scifact").mkdir()
    corpus.mkdir()
    (corpus / "udhr.md").write_text("# UDHR\n\nEveryone has the right to life.\n")
    (shared / "INDEX.txt").write_text("What each folder holds.\n")  # the folder's own notes
    (shared / "treaties" / "SOURCE.txt").write_text("Where it came from.\n")
    (shared / "treaties" / "crc.md").write_text("# CRC\n\nA child means every human being below eighteen.\n")
    (shared / "treaties" / "udhr-copy.md").write_text("# UDHR\n\nEveryone has the right to life.\n")  # in corpus
    (shared / "beir-scifact" / "corpus.txt").write_text("Another benchmark.\n")
    files = library_files(shared, corpus, (".md", ".txt"))
    assert files == [corpus, shared / "treaties" / "crc.md"]
