"""Golden-set quality and in-process latency on the IOM paper: BM25 alone, dense alone, and the default fusion.

    .venv/bin/python bench/paper.py

Builds a throw-away index of corpus/ with the real model, then asks the 52 golden questions with each retriever
(all measured in this run) and prints one Markdown table.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.embedder import load_embedder  # noqa: E402
from index.search import Fusion, Searcher  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402
from service.reindex import ingest  # noqa: E402

RETRIEVERS = {
    "BM25 only (baseline)": Fusion("convex", dense_weight=0.0),
    "dense only (baseline)": Fusion("convex", dense_weight=1.0),
    "RRF k=60 (baseline)": Fusion("rrf"),
    "default (convex 0.7)": Fusion(),
}


def main() -> None:
    golden = [json.loads(line) for line in (ROOT / "tests/data/golden.jsonl").read_text().splitlines() if line]
    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        ingest([ROOT / "corpus"], Store(folder), lambda: embedder)
        built = time.perf_counter() - started
        started = time.perf_counter()
        snapshot = Snapshot.load(Store(folder).current())
        loaded = time.perf_counter() - started
    print(f"index built in {built:.1f} s, loaded in {loaded * 1000:.1f} ms; {len(golden)} questions\n")
    print("| retriever | top-1 | top-3 | MRR@10 | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for name, fusion in RETRIEVERS.items():
        searcher = Searcher(snapshot, embedder, fusion)
        searcher.search("warm-up", k=5)
        ranks, times = [], []
        for _ in range(3):
            for item in golden:
                t0 = time.perf_counter()
                hits = searcher.search(item["question"], k=10)
                times.append((time.perf_counter() - t0) * 1000)
                anchors = [h.passage.anchor for h in hits]
                ranks.append(anchors.index(item["expect"]) + 1 if item["expect"] in anchors else 0)
        ranks = ranks[: len(golden)]
        top1 = sum(r == 1 for r in ranks)
        top3 = sum(1 <= r <= 3 for r in ranks)
        mrr = sum(1 / r for r in ranks if r) / len(ranks)
        p50 = statistics.median(times)
        p99 = sorted(times)[int(0.99 * (len(times) - 1))]
        print(f"| {name} | {top1}/{len(golden)} | {top3}/{len(golden)} | {mrr:.3f} | {p50:.1f} | {p99:.1f} |")
    print(f"\nruntime: {embedder.runtime}; reproduce: .venv/bin/python bench/paper.py")


if __name__ == "__main__":
    main()
