"""Fit the ranker's weights on library questions the adapter never learned, and write them.

    .venv/bin/python bench/fit_ranker.py [--index DIR] [--write]

Builds (or reuses) the library index as bench/library.py does, collects the candidates and features of each
question outside the held-out half that the protection adapter never learned from (bench/train_adapter.py
`unlearned`: the questions it learned from look easier than new ones), prints a 5-fold cross-validation inside
them and the fitted weights, and with --write stores them in index/data/ranker.json with what they were fitted
on. The held-out half is never read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.library import DEFAULT_INDEX, QUESTIONS, build  # noqa: E402
from bench.train_adapter import TRAIN, unlearned  # noqa: E402
from evaluate.library import Judge, load_questions, shared_data  # noqa: E402
from evaluate.ranker import collect, cross_validate, fit  # noqa: E402
from index.embedder import load_embedder  # noqa: E402
from index.fusion import Fusion  # noqa: E402
from index.ranker import FEATURES, LinearRanker  # noqa: E402
from index.search import Searcher  # noqa: E402


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--write", action="store_true", help="write index/data/ranker.json")
    args = parser.parse_args(argv)
    shared = shared_data(ROOT)
    embedder = load_embedder()
    snapshot = build(args.index, shared, embedder)
    tune = [q for q in unlearned(load_questions(args.questions)) if q.answerable]
    searcher = Searcher(snapshot, embedder, Fusion("learned"))
    examples = collect(searcher, tune, Judge(shared, snapshot.documents))
    print(f"{len(examples)} of {len(tune)} questions have their answer among the candidates")
    one, three = cross_validate(examples)
    print(f"5-fold cross-validation inside those questions: top-1 {one:.3f}, top-3 {three:.3f}")
    weights = fit(examples)
    print("weights: " + ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, weights, strict=True)))
    if args.write:
        digest = hashlib.sha256(args.questions.read_bytes()).hexdigest()[:12]
        ranker = LinearRanker(
            tuple(round(float(w), 4) for w in weights),
            f"{len(examples)} questions of {TRAIN.name}/ the adapter never learned ({args.questions.name} sha256 "
            f"{digest}), "
            f"{len(snapshot.documents)} documents, {len(snapshot.searchable)} passages",
        )
        path = ROOT / "index" / "data" / "ranker.json"
        path.write_text(json.dumps(ranker.to_dict()) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
