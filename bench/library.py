"""Quality over a real library: questions written from the documents alone, by a helper who never saw a ranking.

    .venv/bin/python bench/library.py [--split heldout|tune|both|fresh|fresh2|fresh3|all] [--per-document] [--index DIR]
                                      [--only NAME ...] [--ranker FILE]

The library is the default corpus/ plus every other real document of the shared data folder (protection-law
PDFs, the UN treaties, the GCM, IOM and UNHCR evaluations; not SciFact or OMoS, which are other benchmarks).
It is ingested into `--index` (var/bench/library-index) by the same pipeline as `pqa ingest`, so a second run
reuses it. Each retriever answers every question of the split (k=10) over the same snapshot and vectors;
a hit is right when it comes from the answer's file and holds its quote (evaluate/library.py). Prints one
Markdown table per split (and per document with --per-document), and the questions no passage answers
(a parser lost or cut the quote).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe_cpu  # noqa: E402
from evaluate.library import (  # noqa: E402
    Judge,
    Outcome,
    Question,
    Score,
    library_files,
    load_questions,
    run,
    shared_data,
)
from index.confidence import assess, load_calibration  # noqa: E402
from index.embedder import Embedder, load_embedder  # noqa: E402
from index.fusion import Fusion  # noqa: E402
from index.ranker import LinearRanker  # noqa: E402
from index.records import Passage  # noqa: E402
from index.reranker import load_reranker  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402
from ingest.library import PARSERS  # noqa: E402
from service.reindex import ingest  # noqa: E402

QUESTIONS = ROOT / "bench/data/library_questions.jsonl"
FRESH = ROOT / "bench/data/library_questions_fresh.jsonl"  # written after every choice; split "fresh"
FRESH2 = ROOT / "bench/data/library_questions_fresh2.jsonl"  # written later still, to choose the ranker; "fresh2"
FRESH3 = ROOT / "bench/data/library_questions_fresh3.jsonl"  # to choose the ranker refitted with SciFact; "fresh3"
JUDGMENTS = ROOT / "bench/data/library_judgments.jsonl"  # pooled judges' verdicts (bench/judging.py)
DEFAULT_INDEX = ROOT / "var/bench/library-index"
PLAIN = {"name_boost": 0.0, "cite_boost": 0.0, "definition_boost": 0.0}  # the baselines: no names, units, intents
RETRIEVERS = {
    "BM25 only (baseline)": Fusion("convex", dense_weight=0.0, **PLAIN),
    "dense only (baseline)": Fusion("convex", dense_weight=1.0, **PLAIN),
    "RRF k=60 (baseline)": Fusion("rrf", **PLAIN),
    "convex 0.7 (the first default)": Fusion("convex", dense_weight=0.7, **PLAIN),
    "convex 0.8 (the default before 2026-12-07; PQA_FUSION=convex)": Fusion("convex"),
    "default": Fusion(),
    "default + reranker (rerank=true)": Fusion(),
}
RERANKED = {"default + reranker (rerank=true)"}  # with the shipped cross-encoder (index/reranker.py)
DEPTH = 10
POOL_DEPTH = 3  # how deep bench/judging.py pools each retriever's passages for the judges


OTHER_RANKER = " with --ranker"  # the rows of the default and the reranked default over a ranker given by file


def searcher_for(name: str, snapshot: Snapshot, embedder: Embedder, other: LinearRanker | None = None) -> Searcher:
    base = name.removesuffix(OTHER_RANKER)
    reranker = (
        load_reranker("pytorch" if embedder.runtime.startswith("pytorch") else "auto") if base in RERANKED else None
    )
    ranker = other if name.endswith(OTHER_RANKER) else None
    return Searcher(snapshot, embedder, RETRIEVERS[base], ranker=ranker, reranker=reranker)


def build(index: Path, shared: Path, embedder: Embedder) -> Snapshot:
    started = time.perf_counter()
    report = ingest(library_files(shared, ROOT / "corpus", PARSERS), Store(index), lambda: embedder)
    for failure in report.failures:
        print(f"  failed: {failure.path}: {failure.reason}", file=sys.stderr)
    snapshot = Snapshot.load(Store(index).current())
    print(
        f"library: {len(snapshot.documents)} documents, {len(snapshot.searchable)} passages "
        f"({report.embedded} texts embedded, {time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    return snapshot


def asker(searcher: Searcher):  # type: ignore[no-untyped-def]
    calibration = load_calibration()

    def ask(question: str) -> tuple[list[Passage], bool, float]:
        hits = searcher.search(question, k=DEPTH, highlights=5)
        assessment = assess(question, hits, calibration, *searcher.doubts(question, hits[0] if hits else None).flags())
        return [h.passage for h in hits], assessment.not_in_corpus, assessment.confidence

    return ask


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def table(rows: Sequence[tuple[str, Score]], title: str) -> None:
    print(f"\n**{title}**\n")
    print("| retriever | questions | top-1 | top-3 | MRR@10 | false alarms | unanswerable flagged |")
    print("|---|---|---|---|---|---|---|")
    for name, s in rows:
        print(
            f"| {name} | {s.questions} | {pct(s.top1)} ({round(s.top1 * s.questions)}) | "
            f"{pct(s.top3)} ({round(s.top3 * s.questions)}) | {s.mrr10:.3f} | "
            f"{counted(s.false_alarms, s.questions)} | {counted(s.caught, s.unanswerable)} |"
        )


def counted(share: float | None, of: int) -> str:
    """ "4.4% (6/135)": a share with its count, to the decimal that a target of 5% or 90% needs."""
    return "-" if share is None else f"{100 * share:.1f}% ({round(share * of)}/{of})"


def per_document(results: dict[str, list[Outcome]], judge: Judge, snapshot: Snapshot) -> None:
    names = list(results)
    print("\n| document | questions | " + " | ".join(f"{n} top-1 / top-3" for n in names) + " |")
    print("|---|---|" + "---|" * len(names))
    documents = sorted({o.question.document for o in results[names[0]] if o.question.answerable})
    for document in documents:
        cells = []
        for name in names:
            outcomes = [o for o in results[name] if o.question.document == document]
            s = Score.of(outcomes)
            cells.append(f"{pct(s.top1)} / {pct(s.top3)}")
        question = next(o.question for o in results[names[0]] if o.question.document == document)
        found = judge.document_of(question.answers[0])
        info = snapshot.documents[found] if found else None
        label = (info.short_title or info.title) if info else document
        print(f"| {label[:70]} | {s.questions} | " + " | ".join(cells) + " |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--questions", type=Path, nargs="+", default=[QUESTIONS, FRESH, FRESH2, FRESH3])
    parser.add_argument("--judgments", type=Path, default=JUDGMENTS, help="pooled judgments (bench/judging.py)")
    parser.add_argument("--model", help="a sentence-transformers name or folder (default: the bundled model)")
    parser.add_argument(
        "--split",
        choices=["tune", "heldout", "both", "fresh", "fresh2", "fresh3", "all"],
        default="both",
        help="both: tune and heldout; all: with the three fresh sets too",
    )
    parser.add_argument("--per-document", action="store_true")
    parser.add_argument(
        "--ranker",
        type=Path,
        help="weights (as index/data/ranker.json) for two more rows: the default over them, reranked too",
    )
    parser.add_argument("--only", nargs="*", help="retriever names to run (default: all)")
    parser.add_argument(
        "--misses", action="store_true", help="list the default's misses, false alarms and unflagged (tune split only)"
    )
    args = parser.parse_args(argv)
    shared = shared_data(ROOT)
    embedder = load_embedder(args.model)
    print(f"{describe_cpu()}; runtime {embedder.runtime}", file=sys.stderr)
    snapshot = build(args.index, shared, embedder)
    judge = Judge(shared, snapshot.documents)
    judgments = args.judgments if args.judgments.exists() else None
    questions = [q for path in args.questions if path.exists() for q in load_questions(path, judgments)]
    lost = [q for q in questions if q.answerable and not judge.findable(q, snapshot.searchable)]
    splits = {"both": ["tune", "heldout"], "all": ["tune", "heldout", "fresh", "fresh2", "fresh3"]}.get(
        args.split, [args.split]
    )
    names = [n for n in RETRIEVERS if not args.only or n in args.only]
    other = LinearRanker.from_dict(json.loads(args.ranker.read_text(encoding="utf-8"))) if args.ranker else None
    if other is not None:
        names += [n + OTHER_RANKER for n in ("default", *RERANKED) if not args.only or n in args.only]
    print(
        f"\n{describe_cpu()}; {snapshot.generation}; {len(snapshot.documents)} documents, "
        f"{len(snapshot.searchable)} passages; `.venv/bin/python bench/library.py --split {args.split}`"
    )
    for split in splits:
        chosen = [q for q in questions if q.split == split]
        results = {name: run(chosen, asker(searcher_for(name, snapshot, embedder, other)), judge) for name in names}
        answerable = sum(1 for q in chosen if q.answerable)
        table(
            [(n, Score.of(r)) for n, r in results.items()],
            f"{split}: {answerable} questions with an answer, {len(chosen) - answerable} without",
        )
        judged = sum(1 for q in chosen if any(a.judged for a in q.answers))
        if judgments is not None and judged:
            table(
                [(n, Score.of(r, judged=True)) for n, r in results.items()],
                f"{split}, judged: a passage that judges found to answer counts too ({judged} questions have one "
                f"besides the writer's; pooled from the first {POOL_DEPTH} of every retriever above, so MRR@10 "
                "counts unjudged passages below them as wrong)",
            )
        if args.per_document:
            per_document(results, judge, snapshot)
        if args.misses and split == "tune":
            misses(results.get("default", results[names[-1]]), snapshot)
    print(
        f"\nanswers no indexed passage holds (parser lost or split the quote): {len(lost)} of "
        f"{sum(1 for q in questions if q.answerable)}: {', '.join(q.id for q in lost)}"
    )


def misses(outcomes: list[Outcome], snapshot: Snapshot) -> None:
    for o in outcomes:
        if o.question.answerable and (o.rank is None or o.rank > 1):
            q: Question = o.question
            print(
                f"- {q.id} [{q.style}] rank {o.rank}: {q.question} -> "
                f"{q.answers[0].file.split('/')[-1]} {q.answers[0].where}"
            )
    for o in outcomes:
        if o.flagged == o.question.answerable:  # a false alarm, or a question nothing answers left unflagged
            what = "false alarm" if o.flagged else "not flagged"
            print(f"- {o.question.id} [{what}, confidence {o.confidence:.3f}]: {o.question.question}")


if __name__ == "__main__":
    main()
