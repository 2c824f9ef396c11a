"""SciFact (BEIR): BM25, dense and RRF baselines against the default pipeline, on both embedding runtimes, one table.

    .venv/bin/python bench/scifact.py                 # report on the test split (300 queries)
    .venv/bin/python bench/scifact.py --sweep         # the fusion grid on the train split (809 queries)

The default pipeline's weights were chosen with --sweep on qrels/train.tsv; the table reports qrels/test.tsv.
Everything in the table is measured in this run: the retrievers answer query by query in turns, and the
two runtimes embed the same sample in alternating rounds, so machine load hits all of them alike.
Embeddings are cached in bench/.cache by text sha256, model and runtime: only the first run embeds the
corpus. Resident memory is that of a fresh process that loads the model and the index and answers once
(bench/memory.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from evaluate.baselines import Retriever  # noqa: E402
from evaluate.beir import BeirSet, load_beir  # noqa: E402
from evaluate.evaluation import Evaluation, beir_snapshot, evaluate_together, make_retriever, throughput  # noqa: E402
from evaluate.vectorcache import VectorCache  # noqa: E402
from index.build import commit_snapshot  # noqa: E402
from index.embedder import Embedder, load_embedder  # noqa: E402
from index.fusion import Fusion  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "beir-scifact"
CACHE = ROOT / "bench" / ".cache"
SAMPLE = 256  # abstracts embedded afresh per round to time each runtime
ROUNDS = 2


def progress(stage: str, done: int, total: int) -> None:
    if total and (done == total or done % 2048 == 0):
        print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)


def snapshot_for(dataset: BeirSet, embedder: Embedder, with_sentences: bool = True) -> Snapshot:
    cache = VectorCache.for_embedder(CACHE, embedder)
    print(f"indexing {dataset.name} with {embedder.runtime} ({len(cache)} vectors cached)", file=sys.stderr)
    try:
        return beir_snapshot(dataset, embedder, cache, progress, with_sentences)
    finally:
        cache.save()


def speeds(embedders: list[Embedder], texts: list[str]) -> dict[str, float]:
    """Best passages/s of each runtime over alternating rounds on the same texts."""
    best: dict[str, float] = {}
    for _ in range(ROUNDS):
        for embedder in embedders:
            rate = throughput(embedder, texts)
            best[embedder.runtime] = max(best.get(embedder.runtime, 0.0), rate)
    return best


def memory(dataset: BeirSet, embedder: Embedder, snapshot: Snapshot, runtime: str) -> dict[str, float]:
    folder = CACHE / f"index-{dataset.name}-{embedder.runtime}-{len(snapshot.sentences)}"
    store = Store(folder)
    if store.current_name() is None:  # the very snapshot evaluated, saved as a generation
        with store.lock():
            commit_snapshot(store, snapshot, list(snapshot.iter_documents()))
    command = [sys.executable, str(ROOT / "bench" / "memory.py"), "--index", str(folder), "--runtime", runtime]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def sweep(dataset: BeirSet, embedder: Embedder) -> None:
    snapshot = snapshot_for(dataset, embedder)
    anchors = [p.anchor for p in snapshot.searchable]
    grid = [(w, s) for w in (0.5, 0.6, 0.7, 0.8) for s in (0.0, 0.25, 0.5)]
    retrievers: list[tuple[Retriever, str]] = [
        (
            make_retriever("default", snapshot, embedder, Fusion("convex", dense_weight=w, sentence_weight=s)),
            f"w={w} s={s}",
        )
        for w, s in grid
    ]
    print(f"\nfusion sweep on {dataset.name} {len(dataset.queries)} train queries ({embedder.runtime})\n")
    print("| dense weight | sentence weight | nDCG@10 | Recall@100 | MRR@10 |")
    print("|---|---|---|---|---|")
    for (w, s), result in zip(grid, evaluate_together(retrievers, dataset, anchors), strict=True):
        print(f"| {w} | {s} | {result.ndcg_at_10:.4f} | {result.recall_at_100:.4f} | {result.mrr_at_10:.4f} |")
    print("\nreproduce: .venv/bin/python bench/scifact.py --sweep")


def report(dataset: BeirSet, embedders: list[Embedder]) -> None:
    # The PyTorch index skips the ~48k sentence vectors (an hour of fp32 embedding on 2 cores): at the default
    # sentence weight of 0 they move only the highlight, not the ranking. The fast runtime's index has them all.
    sentences_rank = Fusion().sentence_weight > 0
    snapshots = {e.runtime: snapshot_for(dataset, e, sentences_rank or e is embedders[-1]) for e in embedders}
    anchors = [p.anchor for p in next(iter(snapshots.values())).searchable]
    sample = [p.text for p in dataset.document.passages[:SAMPLE]]
    print(f"timing both runtimes on {len(sample)} abstracts, {ROUNDS} alternating rounds", file=sys.stderr)
    rates = speeds(embedders, sample)
    rows: list[tuple[Retriever, str]] = []
    first = embedders[0]
    rows.append((make_retriever("bm25", snapshots[first.runtime], first), "-"))
    for embedder in embedders:
        for name in ("dense", "hybrid", "default"):
            rows.append((make_retriever(name, snapshots[embedder.runtime], embedder), embedder.runtime))
    print(f"evaluating {len(rows)} retrievers, query by query in turns", file=sys.stderr)
    results = evaluate_together(rows, dataset, anchors)
    mem = {e.runtime: memory(dataset, e, snapshots[e.runtime], _setting(e)) for e in embedders}
    print_table(dataset, results, rates, mem, embedders)


def _setting(embedder: Embedder) -> str:
    """The runtime setting that loads this very runtime again in another process."""
    return embedder.runtime if embedder.runtime.startswith("openvino") else "pytorch"


LABELS = {
    "bm25": "BM25 (bm25s, English stop words; baseline)",
    "dense": "dense (first window, FAISS flat IP; baseline)",
    "hybrid": "RRF k=60 of the two (baseline)",
    "default": "default pipeline",
}


def print_table(
    dataset: BeirSet,
    results: list[Evaluation],
    rates: dict[str, float],
    mem: dict[str, dict[str, float]],
    embedders: list[Embedder],
) -> None:
    base = rates.get("pytorch-fp32")
    print(
        f"\n{dataset.name}, {len(dataset.queries)} test queries, {len(dataset.document.passages)} abstracts; "
        "weights tuned on the train split\n"
    )
    print("| retriever | runtime | nDCG@10 | Recall@100 | MRR@10 | passages/s | p50 ms | p99 ms | RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        rate = rates.get(r.runtime)
        speed = "-" if rate is None else f"{rate:.1f}" + (f" ({rate / base:.2f}x)" if base else "")
        rss = f"{mem[r.runtime]['rss_mib']:.0f}" if r.runtime in mem else "-"
        print(
            f"| {LABELS[r.retriever]} | {r.runtime} | {r.ndcg_at_10:.4f} | {r.recall_at_100:.4f} | "
            f"{r.mrr_at_10:.4f} | {speed} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {rss} |"
        )
    for e in embedders:
        m = mem[e.runtime]
        print(
            f"\nstart-up ({e.runtime}): {m['start_s']} s to load model + index and answer once, "
            f"RSS {m['rss_mib']} MiB (peak {m['peak_mib']})",
            end="",
        )
    print(f"\n\nload average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(describe())
    print("reproduce: .venv/bin/python bench/scifact.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sweep", action="store_true", help="grid of fusion weights on the train split")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.sweep:
        sweep(load_beir(args.data, "train"), load_embedder(runtime="auto"))
    else:
        embedders = [load_embedder(runtime="pytorch"), load_embedder(runtime="openvino")]
        report(load_beir(args.data, "test"), embedders)
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
