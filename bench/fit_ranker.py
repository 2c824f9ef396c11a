"""Fit the ranker's weights on training questions (the library's, and SciFact's train split), and write them.

    .venv/bin/python bench/fit_ranker.py [--index DIR] [--scifact-shares 0,0.1,0.2,0.35,0.5] [--write | --out FILE]

Builds (or reuses) the library index as bench/library.py does and collects the candidates and features of each
question outside the held-out half that the protection adapter never learned from (bench/train_adapter.py
`unlearned`: the questions it learned from look easier than new ones). With SciFact shares above 0 it also
indexes SciFact's abstracts (with sentences, as `pqa eval beir` does) and collects its train queries that the
adapter never learned (it learned the first ones of `scifact_draw`, as many as its adapter.json says, with its
seed). SciFact's test split, the held-out half and the fresh sets are never read.

For each share (the part of the fit's total weight that SciFact's questions carry), it prints a 5-fold
cross-validation per source. The share is chosen by a rule fixed before it was first run: the largest sum of the
library's cross-validated MRR@10 and SciFact's cross-validated nDCG@10 (ties: the smaller share). With --write the
weights fitted on every example at that share go to index/data/ranker.json with what they were fitted on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.library import DEFAULT_INDEX, QUESTIONS, build  # noqa: E402
from bench.scifact import snapshot_for  # noqa: E402
from bench.train_adapter import SCIFACT, TRAIN, scifact_draw, unlearned  # noqa: E402
from evaluate.beir import load_beir  # noqa: E402
from evaluate.library import Judge, load_questions, shared_data  # noqa: E402
from evaluate.ranker import LIBRARY, Example, Quality, collect, cross_validate, fit, share  # noqa: E402
from index.embedder import Embedder, load_embedder  # noqa: E402
from index.fusion import Fusion  # noqa: E402
from index.ranker import FEATURES, LinearRanker  # noqa: E402
from index.search import Searcher  # noqa: E402

# how many of SciFact's train queries the adapter learned, and its seed
ADAPTER = ROOT / "index" / "data" / "adapter" / "adapter.json"
SCIFACT_SOURCE = "scifact"


def scifact_examples(shared: Path, embedder: Embedder) -> tuple[list[Example], int]:
    """The candidates of SciFact's train queries that the adapter never learned, and their number."""
    dataset = load_beir(shared / SCIFACT, "train")
    adapter = json.loads(ADAPTER.read_text(encoding="utf-8"))
    learned = int(adapter["trained_on"]["scifact_train_queries"])
    ids = scifact_draw(dataset, len(dataset.qrels), int(adapter["seed"]))[learned:]
    searcher = Searcher(snapshot_for(dataset, embedder), embedder, Fusion("learned"))
    examples = []
    for query_id in ids:
        passages, matrix = searcher.candidate_features(dataset.queries[query_id])
        judged = dataset.qrels[query_id]
        right = [judged.get(p.anchor, 0) > 0 for p in passages]
        if any(right):
            examples.append(Example(query_id, matrix, np.asarray(right), SCIFACT_SOURCE))
    return examples, len(ids)


def chosen(table: dict[float, dict[str, Quality]]) -> float:
    """The rule: the largest library MRR@10 + SciFact nDCG@10 under cross-validation; ties to the smaller share."""

    def merit(shared: float) -> float:
        row = table[shared]
        return row[LIBRARY].mrr + (row[SCIFACT_SOURCE].ndcg if SCIFACT_SOURCE in row else 0.0)

    return max(sorted(table), key=lambda s: (round(merit(s), 6), -s))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--scifact-shares", default="0", help="comma-separated shares of SciFact in the fit")
    parser.add_argument("--write", action="store_true", help="write index/data/ranker.json")
    parser.add_argument(
        "--out", type=Path, help="write the weights here instead (to compare: bench/library.py --ranker)"
    )
    args = parser.parse_args(argv)
    shares = sorted({float(s) for s in args.scifact_shares.split(",")})
    shared = shared_data(ROOT)
    embedder = load_embedder()
    snapshot = build(args.index, shared, embedder)
    tune = [q for q in unlearned(load_questions(args.questions)) if q.answerable]
    searcher = Searcher(snapshot, embedder, Fusion("learned"))
    library = collect(searcher, tune, Judge(shared, snapshot.documents))
    print(f"library: {len(library)} of {len(tune)} questions have their answer among the candidates", flush=True)
    science: list[Example] = []
    if any(shares):
        science, asked = scifact_examples(shared, embedder)
        print(
            f"SciFact train (unlearned): {len(science)} of {asked} queries have a relevant abstract among the "
            "candidates",
            flush=True,
        )
    table = {}
    print("5-fold cross-validation (among questions whose answer is a candidate):")
    print("| SciFact share | library top-1 | top-3 | MRR@10 | SciFact top-1 | nDCG@10 |")
    print("|---|---|---|---|---|---|")
    for s in shares:
        table[s] = cross_validate(share(library + science, SCIFACT_SOURCE, s))
        lib, sci = table[s][LIBRARY], table[s].get(SCIFACT_SOURCE)
        tail = f"{sci.top1:.3f} | {sci.ndcg:.4f}" if sci else "- | -"
        print(f"| {s:g} | {lib.top1:.3f} | {lib.top3:.3f} | {lib.mrr:.4f} | {tail} |", flush=True)
    best = chosen(table)
    weights = fit(share(library + science, SCIFACT_SOURCE, best))
    print(
        f"chosen share {best:g}; weights: " + ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, weights, strict=True))
    )
    if args.write or args.out:
        digest = hashlib.sha256(args.questions.read_bytes()).hexdigest()[:12]
        scifact = (
            f"; with {len(science)} SciFact train queries the adapter never learned, {best:g} of the fit's weight"
            if best
            else ""
        )
        ranker = LinearRanker(
            tuple(round(float(w), 4) for w in weights),
            f"{len(library)} questions of {TRAIN.name}/ the adapter never learned ({args.questions.name} sha256 "
            f"{digest}), "
            f"{len(snapshot.documents)} documents, {len(snapshot.searchable)} passages{scifact}",
        )
        path = args.out or ROOT / "index" / "data" / "ranker.json"
        path.write_text(json.dumps(ranker.to_dict()) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
