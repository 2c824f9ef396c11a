"""Golden-set quality and in-process latency on the IOM paper: BM25 alone, dense alone, RRF and the default fusion.

    .venv/bin/python bench/paper.py [--library]

Builds a throw-away index of the paper (with --library: of the whole default library, corpus/, where "this
paper" is one of fifteen documents) with each embedding runtime (PyTorch fp32 and OpenVINO), then asks the
52 golden questions three times with each retriever, the retrievers taking turns question by question so
that machine load hits them alike, and prints one Markdown table. Latency is one search call (k=5, as the
service's default), question embedding included.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.library import PLAIN  # noqa: E402
from bench.machine import describe  # noqa: E402
from index.embedder import Embedder, load_embedder  # noqa: E402
from index.fusion import Fusion  # noqa: E402
from index.reranker import load_reranker  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402
from service.reindex import ingest  # noqa: E402

RETRIEVERS = {
    "BM25 only (baseline)": Fusion("convex", dense_weight=0.0, **PLAIN),
    "dense only (baseline)": Fusion("convex", dense_weight=1.0, **PLAIN),
    "RRF k=60 (baseline)": Fusion("rrf", **PLAIN),
    "convex 0.8 (the default before 2026-12-07; PQA_FUSION=convex)": Fusion("convex"),
    "default": Fusion(),
    "default + reranker (rerank=true)": Fusion(),
}
RERANKED = {
    "default + reranker (rerank=true)"
}  # with the shipped cross-encoder (index/reranker.py), on the embedder's runtime
PAPER = ROOT / "corpus" / "iom-approach-to-protection.md"
REPEATS = 3


def index_with(embedder: Embedder, folder: Path, library: bool) -> Snapshot:
    started = time.perf_counter()
    ingest([ROOT / "corpus" if library else PAPER], Store(folder), lambda: embedder)
    built = time.perf_counter() - started
    started = time.perf_counter()
    snapshot = Snapshot.load(Store(folder).current())
    print(
        f"{embedder.runtime}: index built in {built:.1f} s, loaded in {(time.perf_counter() - started) * 1000:.1f} ms",
        file=sys.stderr,
    )
    return snapshot


def main() -> None:
    library = "--library" in sys.argv[1:]
    golden = [json.loads(line) for line in (ROOT / "tests/data/golden.jsonl").read_text().splitlines() if line]
    embedders = [load_embedder(runtime="pytorch"), load_embedder(runtime="openvino")]
    rows: list[tuple[str, Embedder, Searcher]] = []
    with tempfile.TemporaryDirectory() as folder:
        for embedder in embedders:
            snapshot = index_with(embedder, Path(folder) / embedder.runtime, library)
            names = RETRIEVERS if embedder is embedders[-1] else ["default"]
            rerank = any(name in RERANKED for name in names)  # loaded only where a row uses it
            reranker = (
                load_reranker("pytorch" if embedder.runtime.startswith("pytorch") else "auto") if rerank else None
            )
            rows += [
                (
                    name,
                    embedder,
                    Searcher(snapshot, embedder, RETRIEVERS[name], reranker=reranker if name in RERANKED else None),
                )
                for name in names
            ]
    for _, _, searcher in rows:
        searcher.search("warm-up", k=5)
    ranks: list[list[int]] = [[] for _ in rows]
    times: list[list[float]] = [[] for _ in rows]
    for repeat in range(REPEATS):
        for item in golden:
            for i, (_, _, searcher) in enumerate(rows):
                started = time.perf_counter()
                searcher.search(item["question"], k=5)
                times[i].append((time.perf_counter() - started) * 1000)
                if repeat == 0:
                    anchors = [h.passage.anchor for h in searcher.search(item["question"], k=10)]
                    ranks[i].append(anchors.index(item["expect"]) + 1 if item["expect"] in anchors else 0)
    corpus = f"the default library ({len(snapshot.documents)} documents)" if library else "the IOM paper alone"
    print(f"\nOver {corpus}, {len(golden)} golden questions; latency over {REPEATS} rounds, in process, k=5\n")
    print("| retriever | runtime | top-1 | top-3 | MRR@10 | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for (name, embedder, _), rank, took in zip(rows, ranks, times, strict=True):
        top1 = sum(r == 1 for r in rank)
        top3 = sum(1 <= r <= 3 for r in rank)
        mrr = sum(1 / r for r in rank if r) / len(rank)
        runtime = "-" if name.startswith("BM25") else embedder.runtime
        p50, p99 = statistics.median(took), sorted(took)[int(0.99 * (len(took) - 1))]
        print(
            f"| {name} | {runtime} | {top1}/{len(golden)} | {top3}/{len(golden)} | {mrr:.3f} | {p50:.1f} | {p99:.1f} |"
        )
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(describe())
    print(f"reproduce: .venv/bin/python bench/paper.py{' --library' if library else ''}")


if __name__ == "__main__":
    main()
