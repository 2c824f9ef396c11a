"""Accept or reject the reranker's bf16 against its fp32 on the same weights, in one run; record the verdict.

    .venv/bin/python bench/accept_reranker.py           # measure, print, record in the conversion's cache folder
    .venv/bin/python bench/accept_reranker.py --ship    # also in index/data/acceptance.json (travels with the package)

The rule is the embedder's (index/precision.py, bench/accept.py), applied to the whole pipeline with the
cross-encoder (index/reranker.py) on each precision and the same first stage: SciFact nDCG@10 over its 300
test queries within 0.005 of fp32's, and the paper's 52 golden questions each within the first three. The
record names the sha256 of the reranker's converted weights; `PQA_RUNTIME=auto` runs its bf16 only for those.
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

from bench.accept import DATA, GOLDEN, PAPER, scifact_snapshot  # noqa: E402
from bench.machine import describe  # noqa: E402
from evaluate.beir import load_beir  # noqa: E402
from evaluate.metrics import mean, ndcg_at  # noqa: E402
from index import precision  # noqa: E402
from index.cpu import cpu_has_bf16  # noqa: E402
from index.embedder import load_embedder  # noqa: E402
from index.reranker import RERANKER_DIR, load_reranker  # noqa: E402
from index.runtime import OpenVinoEmbedder  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402
from service.reindex import ingest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--ship", action="store_true", help="also record in index/data/acceptance.json")
    parser.add_argument("--folder", type=Path, default=RERANKER_DIR, help="the reranker's files (default: shipped)")
    args = parser.parse_args()
    if not cpu_has_bf16():
        raise SystemExit("this CPU has no bf16 arithmetic: the reranker runs fp32 here, there is nothing to accept")
    started = time.perf_counter()
    embedder = load_embedder(runtime="openvino")  # the first stage, the same for both
    assert isinstance(embedder, OpenVinoEmbedder)
    rerankers = {name: load_reranker(f"openvino-{name}", folder=args.folder) for name in ("fp32", "bf16")}
    dataset = load_beir(args.data, "test")
    scifact = scifact_snapshot(dataset, embedder)
    searchers = {name: Searcher(scifact, embedder, reranker=r) for name, r in rerankers.items()}
    searchers["first stage"] = Searcher(scifact, embedder)  # what the reranker changes, measured beside it
    scores: dict[str, list[float]] = {name: [] for name in searchers}
    for query_id, text in dataset.queries.items():
        if not any(dataset.qrels.get(query_id, {}).values()):
            continue
        for name, searcher in searchers.items():  # in turns, query by query
            ranked = [h.passage.anchor for h in searcher.search(text, k=10, highlights=0)]
            scores[name].append(ndcg_at(ranked, dataset.qrels[query_id], 10))
    ndcg = {name: mean(values) for name, values in scores.items()}
    golden = [json.loads(line) for line in GOLDEN.read_text().splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        ingest([PAPER], Store(Path(tmp)), lambda: embedder)
        paper = Snapshot.load(Store(Path(tmp)).current())
        ranks = {}
        for name, r in rerankers.items():
            searcher = Searcher(paper, embedder, reranker=r)
            anchors = [[h.passage.anchor for h in searcher.search(g["question"], k=10)] for g in golden]
            ranks[name] = [
                a.index(g["expect"]) + 1 if g["expect"] in a else 0 for a, g in zip(anchors, golden, strict=True)
            ]
    print(
        "\n| reranker precision | runtime | weights sha256 | SciFact nDCG@10 | vs fp32 | golden top-1 | golden top-3 "
        "| verdict |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rerankers.items():
        ov = r.embedder
        assert isinstance(ov, OpenVinoEmbedder)
        top1 = sum(k == 1 for k in ranks[name])
        top3 = sum(1 <= k <= 3 for k in ranks[name])
        verdict = "reference"
        if name == "bf16":
            accepted, reason = precision.judge(name, ndcg["fp32"], ndcg[name], top3, len(golden))
            record = precision.Acceptance(
                precision=name,
                weights_sha256=ov.weights_sha256,
                ndcg_fp32=ndcg["fp32"],
                ndcg=ndcg[name],
                golden_top3=top3,
                golden_total=len(golden),
                accepted=accepted,
                reason=reason,  # the rule's own words (tests/test_precision.py); the weights say whose
                measured_on=f"{time.strftime('%Y-%m-%d')}, {describe().split(';')[0]}",
            )
            precision.save_record(ov.cache_folder / precision.RECORDS, record)
            if args.ship:
                precision.save_record(precision.SHIPPED, record)
            verdict = "accepted" if accepted else f"rejected: {reason}"
        print(
            f"| {name} | {r.runtime} | {ov.weights_sha256[:12]} | {ndcg[name]:.4f} | "
            f"{ndcg[name] - ndcg['fp32']:+.4f} | {top1}/{len(golden)} | {top3}/{len(golden)} | {verdict} |"
        )
    print(
        f"| none (first stage alone) | - | - | {ndcg['first stage']:.4f} | "
        f"{ndcg['first stage'] - ndcg['fp32']:+.4f} | - | - | - |"
    )
    print(f"\nfirst stage: {embedder.runtime}; {describe()}")
    print("reproduce: .venv/bin/python bench/accept_reranker.py" + (" --ship" if args.ship else ""))
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
