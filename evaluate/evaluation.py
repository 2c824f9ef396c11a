"""Evaluate retrievers on a BEIR dataset: quality (nDCG@10, Recall@100, MRR@10), query latency, embedding speed.

The same snapshot serves every retriever, so they rank the same passages from the same vectors:
the baselines (evaluate/baselines.py) and the default pipeline (index/search.py's Searcher).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from index.build import Progress, build_snapshot
from index.embedder import Embedder
from index.fusion import Fusion
from index.search import Searcher
from index.snapshot import Snapshot

from .baselines import DEPTH, Bm25Baseline, DenseBaseline, Retriever, RrfBaseline
from .beir import BeirSet
from .metrics import mean, mrr_at, ndcg_at, recall_at

RETRIEVERS = ("bm25", "dense", "hybrid", "default")
HIGHLIGHTED = 5  # the default pipeline highlights as many hits as the service returns by default (k=5)
WARM_UP = 3


@dataclass(frozen=True)
class Evaluation:
    """One retriever's scores on one split; latencies are per query, in process, embedding included."""

    retriever: str
    runtime: str
    queries: int
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    p50_ms: float
    p99_ms: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class DefaultRetriever:
    """The service's own ranking: Searcher.search, as /api/search calls it."""

    name = "default"

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher
        self._rows = searcher.snapshot.row_of

    def rank(self, query: str, k: int) -> list[int]:
        hits = self._searcher.search(query, k=k, highlights=HIGHLIGHTED)
        return [self._rows[h.passage.id] for h in hits]


def beir_snapshot(
    dataset: BeirSet,
    embedder: Embedder,
    cache: dict[str, np.ndarray] | None = None,
    progress: Progress | None = None,
    with_sentences: bool = True,
) -> Snapshot:
    """The dataset's corpus indexed as the service indexes documents (windows, sentences, BM25).

    Without sentences, only the highlight changes (and the ranking, if the fusion weighs sentences).
    """
    if progress is None:
        snapshot, _, _ = build_snapshot([dataset.document], embedder, cache, with_sentences=with_sentences)
    else:
        snapshot, _, _ = build_snapshot([dataset.document], embedder, cache, progress, with_sentences)
    return snapshot


def make_retriever(name: str, snapshot: Snapshot, embedder: Embedder, fusion: Fusion | None = None) -> Retriever:
    """A retriever by name: one of RETRIEVERS."""
    if name == "bm25":
        return Bm25Baseline([p.text for p in snapshot.searchable])
    if name == "dense":
        return DenseBaseline(snapshot, embedder)
    if name == "hybrid":
        return RrfBaseline(Bm25Baseline([p.text for p in snapshot.searchable]), DenseBaseline(snapshot, embedder))
    if name == "default":
        return DefaultRetriever(Searcher(snapshot, embedder, fusion))
    raise ValueError(f"unknown retriever {name!r}; expected one of {', '.join(RETRIEVERS)}")


def evaluate(retriever: Retriever, dataset: BeirSet, snapshot: Snapshot, runtime: str) -> Evaluation:
    """Run every judged query once (after a short warm-up) and score the rankings against the judgments."""
    return evaluate_together([(retriever, runtime)], dataset, [p.anchor for p in snapshot.searchable])[0]


def evaluate_together(
    retrievers: Sequence[tuple[Retriever, str]], dataset: BeirSet, anchors: Sequence[str]
) -> list[Evaluation]:
    """Evaluate several retrievers query by query, taking turns, so a change in machine load hits all alike.

    `anchors[row]` is the BEIR id of searchable row `row` (the same rows for every retriever).
    """
    queries = list(dataset.queries.items())
    for retriever, _ in retrievers:
        for _, text in queries[:WARM_UP]:
            retriever.rank(text, DEPTH)
    scores: list[tuple[list[float], list[float], list[float], list[float]]] = [([], [], [], []) for _ in retrievers]
    for query_id, text in queries:
        relevant = dataset.qrels[query_id]
        for (retriever, _), (ndcg, recall, mrr, took) in zip(retrievers, scores, strict=True):
            started = time.perf_counter()
            rows = retriever.rank(text, DEPTH)
            took.append((time.perf_counter() - started) * 1000)
            if any(g > 0 for g in relevant.values()):
                ranked = [anchors[r] for r in rows]
                ndcg.append(ndcg_at(ranked, relevant, 10))
                recall.append(recall_at(ranked, relevant, 100))
                mrr.append(mrr_at(ranked, relevant, 10))
    return [
        Evaluation(
            retriever=retriever.name,
            runtime=runtime if retriever.name != "bm25" else "-",
            queries=len(ndcg),
            ndcg_at_10=round(mean(ndcg), 4),
            recall_at_100=round(mean(recall), 4),
            mrr_at_10=round(mean(mrr), 4),
            p50_ms=round(float(np.percentile(took, 50)), 2) if took else 0.0,
            p99_ms=round(float(np.percentile(took, 99)), 2) if took else 0.0,
        )
        for (retriever, runtime), (ndcg, recall, mrr, took) in zip(retrievers, scores, strict=True)
    ]


def throughput(embedder: Embedder, texts: Sequence[str], clock: Callable[[], float] = time.perf_counter) -> float:
    """Passages per second for embedding `texts` from scratch (no cache), as ingestion would."""
    if not texts:
        return 0.0
    started = clock()
    embedder.embed_documents(texts)
    return len(texts) / max(clock() - started, 1e-9)
