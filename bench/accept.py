"""Accept or reject each faster OpenVINO precision against fp32 on the same weights, in one run; record the verdict.

    .venv/bin/python bench/accept.py           # measure, print, record in the conversion's cache folder
    .venv/bin/python bench/accept.py --ship    # also in index/data/acceptance.json, which travels with the package

Measures fp32, int8 weights, (where the CPU computes in it) bf16, (where the CPU has VNNI, or with --w8a8)
w8a8 and (where the CPU has AVX2 alone, or with --ort) ONNX Runtime's int8 (index/ortruntime.py) on the same
weights: SciFact
nDCG@10 of the default pipeline (300 test queries, the precisions taking turns query by query), and the
paper's 52 golden questions, each of which must stay within the first three. A precision is accepted when
its nDCG@10 is within 0.005 of fp32's and no golden answer leaves the first three (index/precision.py).
The record names the sha256 of the weights measured (for w8a8, of its recipe: the fp32 weights, calibration texts,
settings and NNCF version; for ONNX Runtime's int8, of its recipe: the weights, settings and versions);
`PQA_RUNTIME=auto` uses it only for those.
Embeddings are cached in bench/.cache by text, runtime and weights: a second run embeds nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from evaluate.beir import BeirSet, load_beir  # noqa: E402
from evaluate.evaluation import beir_snapshot, evaluate_together, make_retriever  # noqa: E402
from evaluate.vectorcache import VectorCache  # noqa: E402
from index import precision  # noqa: E402
from index.cpu import cpu_has_bf16, cpu_suits_ort_int8, cpu_suits_w8a8  # noqa: E402
from index.embedder import Embedder, load_embedder  # noqa: E402
from index.ortruntime import OnnxRuntimeEmbedder  # noqa: E402
from index.runtime import OpenVinoEmbedder  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402
from service.reindex import ingest  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "beir-scifact"
CACHE = ROOT / "bench" / ".cache"
GOLDEN = ROOT / "tests" / "data" / "golden.jsonl"
PAPER = ROOT / "corpus" / "iom-approach-to-protection.md"  # its sidecar comes with it


def progress(stage: str, done: int, total: int) -> None:
    if total and (done == total or done % 1024 == 0):
        print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)


def scifact_snapshot(dataset: BeirSet, embedder: Embedder) -> Snapshot:
    cache = VectorCache.for_embedder(CACHE, embedder)
    print(f"indexing SciFact with {embedder.runtime} ({len(cache)} vectors cached)", file=sys.stderr)
    try:
        return beir_snapshot(dataset, embedder, cache, progress, with_sentences=False)
    finally:
        cache.save()


def golden_ranks(embedder: Embedder, folder: Path) -> list[int]:
    """Rank (1-based; 0 = not in the first ten) of each golden question's expected passage, over the paper alone.

    The questions are the paper's (two of them say "this paper"): over the whole default library fp32 itself
    keeps 50 of 52 in the first three, which would make the rule reject every precision for fp32's misses.
    """
    ingest([PAPER], Store(folder), lambda: embedder)
    searcher = Searcher(Snapshot.load(Store(folder).current()), embedder)
    ranks = []
    for line in GOLDEN.read_text().splitlines():
        if line:
            item = json.loads(line)
            anchors = [h.passage.anchor for h in searcher.search(item["question"], k=10)]
            ranks.append(anchors.index(item["expect"]) + 1 if item["expect"] in anchors else 0)
    return ranks


def load_embedders(args: argparse.Namespace) -> dict[str, OpenVinoEmbedder | OnnxRuntimeEmbedder]:
    """fp32 and every precision to measure against it, by name ("fp32", "int8", "bf16", "w8a8", "ort-int8")."""
    w8a8 = ["w8a8"] if cpu_suits_w8a8() or args.w8a8 else []
    names = ["fp32", "int8", *(["bf16"] if cpu_has_bf16() else []), *w8a8]
    ort = cpu_suits_ort_int8() or args.ort
    if args.only:
        names = ["fp32", *[name for name in args.only if name not in ("fp32", "ort-int8")]]
        ort = "ort-int8" in args.only
    embedders: dict[str, OpenVinoEmbedder | OnnxRuntimeEmbedder] = {}
    for name in names:
        embedder = load_embedder(runtime=f"openvino-{name}")
        assert isinstance(embedder, OpenVinoEmbedder)
        embedders[name] = embedder
    if ort:
        embedder = load_embedder(runtime="onnxruntime-int8")
        assert isinstance(embedder, OnnxRuntimeEmbedder)
        embedders["ort-int8"] = embedder
    return embedders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--ship", action="store_true", help="also record in index/data/acceptance.json")
    parser.add_argument("--w8a8", action="store_true", help="measure w8a8 on a CPU without VNNI too (slow there)")
    parser.add_argument("--ort", action="store_true", help="measure ONNX Runtime's int8 on a CPU with more than AVX2")
    parser.add_argument("--only", nargs="+", default=None, help="measure only these against fp32 (e.g. ort-int8)")
    args = parser.parse_args()
    started = time.perf_counter()
    embedders = load_embedders(args)
    dataset = load_beir(args.data, "test")
    snapshots = {name: scifact_snapshot(dataset, e) for name, e in embedders.items()}
    anchors = [p.anchor for p in snapshots["fp32"].searchable]
    rows = []
    for name, e in embedders.items():
        rows += [(make_retriever("default", snapshots[name], e), e.runtime)]
        rows += [(make_retriever("dense", snapshots[name], e), e.runtime)]
    print(f"evaluating {len(rows)} retrievers on {len(dataset.queries)} queries, in turns", file=sys.stderr)
    results = evaluate_together(rows, dataset, anchors)
    ndcg = {name: results[2 * i].ndcg_at_10 for i, name in enumerate(embedders)}
    dense = {name: results[2 * i + 1].ndcg_at_10 for i, name in enumerate(embedders)}
    with tempfile.TemporaryDirectory() as tmp:
        ranks = {name: golden_ranks(e, Path(tmp) / name) for name, e in embedders.items()}
    print(
        "\n| precision | runtime | weights (w8a8: recipe) sha256 | nDCG@10 default | vs fp32 | nDCG@10 dense | "
        "golden top-1 | golden top-3 | verdict |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, e in embedders.items():
        top1 = sum(r == 1 for r in ranks[name])
        top3 = sum(1 <= r <= 3 for r in ranks[name])
        total = len(ranks[name])
        verdict = "reference"
        if name != "fp32":
            accepted, reason = precision.judge(name, ndcg["fp32"], ndcg[name], top3, total)
            record = precision.Acceptance(
                precision=name,
                weights_sha256=e.acceptance_key,
                ndcg_fp32=ndcg["fp32"],
                ndcg=ndcg[name],
                golden_top3=top3,
                golden_total=total,
                accepted=accepted,
                reason=reason,
                measured_on=f"{time.strftime('%Y-%m-%d')}, {describe().split(';')[0]}",
            )
            precision.save_record(e.cache_folder / precision.RECORDS, record)
            if args.ship:
                precision.save_record(precision.SHIPPED, record)
            verdict = "accepted" if accepted else f"rejected: {reason.split('(')[-1].rstrip(')')}"
        print(
            f"| {name} | {e.runtime} | {e.acceptance_key[:12]} | {ndcg[name]:.4f} | {ndcg[name] - ndcg['fp32']:+.4f} | "
            f"{dense[name]:.4f} | {top1}/{total} | {top3}/{total} | {verdict} |"
        )
    print(f"\n{describe()}")
    print("reproduce: .venv/bin/python bench/accept.py" + (" --ship" if args.ship else ""))
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
