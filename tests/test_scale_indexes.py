"""The indexes for a large library: HNSW beside flat (PQA_DENSE_INDEX), and BM25 built from term ids.

Speed and memory are measured by bench/scale.py, not here; these check that the choices change nothing
a user sees where they must not.
"""

from __future__ import annotations

import gc
from pathlib import Path

import bm25s
import numpy as np
import pytest

from index.build import build_snapshot
from index.dense import HNSW_FROM, DenseIndex, resolve_kind
from index.embedder import Embedder
from index.lexical import LexicalIndex, tokenize
from index.search import Searcher
from index.snapshot import Snapshot
from index.store import Store

from .test_golden import golden


def clustered(rows: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((rows // 50, dim))
    x = topics[rng.integers(0, len(topics), rows)] + 0.8 * rng.standard_normal((rows, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_auto_is_flat_below_the_threshold_and_hnsw_from_it() -> None:
    assert resolve_kind("auto", 0) == resolve_kind("auto", HNSW_FROM - 1) == "flat"
    assert resolve_kind("auto", HNSW_FROM) == "hnsw"
    assert resolve_kind("flat", 10**7) == "flat" and resolve_kind("hnsw", 3) == "hnsw"
    with pytest.raises(ValueError, match="expected one of auto, flat, hnsw"):
        resolve_kind("ivf", 10)


def test_hnsw_finds_what_flat_finds_and_survives_a_save(tmp_path: Path) -> None:
    vectors = clustered(5000)
    flat, hnsw = DenseIndex.build(vectors, 64, "flat"), DenseIndex.build(vectors, 64, "hnsw")
    assert (flat.kind, hnsw.kind) == ("flat", "hnsw")
    queries = clustered(200, seed=1)
    found = sum(len(set(flat.top(q, 10)[1]) & set(hnsw.top(q, 10)[1])) for q in queries)
    assert found / (10 * len(queries)) >= 0.95
    hnsw.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss", 64)
    assert loaded.kind == "hnsw" and np.array_equal(loaded.vectors, vectors)
    assert np.array_equal(loaded.top(queries[0], 10)[1], hnsw.top(queries[0], 10)[1])


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_the_vectors_are_the_index_own_rows_and_outlive_it(kind: str) -> None:
    vectors = clustered(1000)
    dense = DenseIndex.build(vectors, 64, kind)
    assert not dense.vectors.flags.writeable and not dense.vectors.flags.owndata  # a view, not a second copy
    row = dense.vectors[7]
    del dense
    gc.collect()
    _ = [np.random.default_rng(i).standard_normal(64_000) for i in range(50)]  # reuse freed memory, if it was freed
    assert np.array_equal(row, vectors[7])


def test_an_hnsw_generation_answers_the_golden_set_as_flat_does(paper_index: Path, embedder: Embedder) -> None:
    flat = Snapshot.load(Store(paper_index).current())
    assert flat.manifest.dense_kind == "flat"  # the default, for an index this small
    cache = flat.embedding_cache()
    snapshot, embedded, _ = build_snapshot(list(flat.iter_documents()), embedder, cache, dense="hnsw")
    assert embedded == 0 and snapshot.dense.kind == "hnsw" and snapshot.manifest.dense_kind == "hnsw"
    exact, approximate = Searcher(flat, embedder), Searcher(snapshot, embedder)
    for item in golden():
        expected = [h.passage.id for h in exact.search(item["question"], k=3)]
        assert [h.passage.id for h in approximate.search(item["question"], k=3)] == expected, item["question"]


def test_bm25_from_term_ids_scores_exactly_as_bm25s_over_term_lists(paper_index: Path) -> None:
    snapshot = Snapshot.load(Store(paper_index).current())
    texts = [p.text for p in snapshot.searchable] + ["", "the of and", "IDP returns"]
    ours = LexicalIndex.build(texts)
    reference = bm25s.BM25()
    reference.index([tokenize(t) or [""] for t in texts], show_progress=False)
    for question in [item["question"] for item in golden()] + ["internally displaced persons", "IDP"]:
        terms = [t for t in tokenize(question) if t in reference.vocab_dict]
        expected = np.asarray(reference.get_scores(terms), dtype=np.float32) if terms else np.zeros(len(texts))
        assert np.array_equal(ours.scores(question), expected), question
