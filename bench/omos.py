"""Highlight accuracy and the "not in the corpus" flag, measured on OMoS-QA (English), fitted on train+dev.

    .venv/bin/python bench/omos.py [--write] [--runtime RUNTIME]

1. Highlight: given the gold page, how often the highlighted sentence is a gold answer sentence
   (answerable test questions). The page's own lines are the sentences (the dataset's answer units);
   the service's scorer (index/highlight.py) picks one. Its lexical weight is chosen on train+dev.
2. Not in the corpus: every English page goes into one index; each question is searched with the default
   pipeline and the top hit's signals (index/confidence.py) are fitted by logistic regression to
   "the question is answerable" on train+dev. The test split reports precision and recall of the flag
   (flag = confidence below the level under which 10% of answerable train+dev questions fall), AUC,
   the Brier score and a reliability table. `--write` stores the fitted model in index/data/confidence.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluate.vectorcache import VectorCache  # noqa: E402
from index.build import build_snapshot, embed_with_cache  # noqa: E402
from index.confidence import FEATURES, Calibration, fit_logistic, query_terms, signals  # noqa: E402
from index.embedder import RUNTIMES, Embedder, load_embedder  # noqa: E402
from index.highlight import LEXICAL_WEIGHT, best_sentence  # noqa: E402
from index.records import Document, DocumentInfo, Passage, sha256_text  # noqa: E402
from index.search import Searcher  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "omos-qa-integreat" / "dataset" / "languages" / "en" / "splits"
CACHE = ROOT / "bench" / ".cache"
WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)
FALSE_ALARMS = 0.10


@dataclass(frozen=True)
class Item:
    split: str
    question: str
    context: str
    answers: tuple[int, ...]


def load_items() -> list[Item]:
    items = []
    for split in ("train", "dev", "test"):
        for line in (DATA / f"{split}_en.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            items.append(Item(split, record["question"], record["context"], tuple(record["answers"])))
    return items


def line_spans(context: str) -> list[tuple[int, int, int]]:
    """(line number, start, end) of each non-blank line of the page."""
    spans, offset = [], 0
    for number, line in enumerate(context.split("\n")):
        if line.strip():
            spans.append((number, offset, offset + len(line)))
        offset += len(line) + 1
    return spans


def highlight_accuracy(items: list[Item], embedder: Embedder, cache: VectorCache, weight: float) -> float:
    hits = 0
    for item in items:
        spans = line_spans(item.context)
        vectors, _ = embed_with_cache([item.context[a:b] for _, a, b in spans], embedder, cache, _quiet, "lines")
        query, _ = embed_with_cache([item.question], embedder, cache, _quiet, "questions")
        best = best_sentence(
            item.context, [(a, b) for _, a, b in spans], vectors, query[0], query_terms(item.question), weight
        )
        hits += best is not None and spans[best.index][0] in item.answers
    return hits / len(items)


def random_baseline(items: list[Item]) -> float:
    return float(np.mean([len(set(i.answers)) / len(line_spans(i.context)) for i in items]))


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def page_index(items: list[Item], embedder: Embedder, cache: VectorCache) -> tuple[Searcher, dict[str, str]]:
    """All distinct pages as one document; returns the searcher and page text -> anchor."""
    anchors: dict[str, str] = {}
    passages = []
    for item in items:
        if item.context not in anchors:
            anchors[item.context] = f"page-{len(anchors) + 1}"
            passages.append(Passage("omos", anchors[item.context], "text", item.context, label=anchors[item.context]))
    info = DocumentInfo("omos", "OMoS-QA pages", str(DATA), sha256_text("".join(anchors)), "jsonl")
    snapshot, _, _ = build_snapshot([Document(info, tuple(passages))], embedder, cache)
    return Searcher(snapshot, embedder), anchors


def confidence_data(
    items: list[Item], searcher: Searcher, anchors: dict[str, str]
) -> tuple[np.ndarray, np.ndarray, float]:
    """Signals of each question's top hit, the labels (answerable), and how often the top page is the gold page."""
    rows, labels, found = [], [], 0
    for item in items:
        hits = searcher.search(item.question, k=1)
        rows.append(signals(query_terms(item.question), hits[0], *searcher.doubts(item.question, hits[0]).flags()))
        labels.append(1.0 if item.answers else 0.0)
        found += hits[0].passage.anchor == anchors[item.context]
    return np.asarray(rows), np.asarray(labels), found / len(items)


def flag_scores(p: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """Precision, recall and F1 of the flag (p < threshold) for "unanswerable" (y == 0)."""
    flagged, truth = p < threshold, y == 0
    tp = float((flagged & truth).sum())
    precision = tp / flagged.sum() if flagged.sum() else 0.0
    recall = tp / truth.sum() if truth.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """Probability that an answerable question gets a higher confidence than an unanswerable one."""
    pos, neg = p[y == 1], p[y == 0]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 5) -> list[tuple[str, int, float, float]]:
    edges = np.linspace(0, 1, bins + 1)
    table = []
    for low, high in itertools.pairwise(edges):
        inside = (p >= low) & ((p < high) if high < 1 else (p <= high))
        if inside.any():
            table.append((f"{low:.1f}-{high:.1f}", int(inside.sum()), float(p[inside].mean()), float(y[inside].mean())))
    return table


def highlight_report(fit: list[Item], test: list[Item], embedder: Embedder, cache: VectorCache) -> None:
    answerable_fit = [i for i in fit if i.answers]
    answerable_test = [i for i in test if i.answers]
    tuned = {w: highlight_accuracy(answerable_fit, embedder, cache, w) for w in WEIGHTS}
    cache.save()
    best_weight = max(tuned, key=lambda w: (tuned[w], -abs(w - LEXICAL_WEIGHT)))
    print("## Highlight: the highlighted sentence is a gold answer sentence (gold page given)\n")
    print("| scorer | train+dev | test |")
    print("|---|---|---|")
    print(
        f"| random line (expected) | {random_baseline(answerable_fit):.3f} | {random_baseline(answerable_test):.3f} |"
    )
    for w in WEIGHTS:
        label = f"cosine + {w} x term overlap"
        label += " (the service's)" if w == LEXICAL_WEIGHT else ""
        label += " (best on train+dev)" if w == best_weight else ""
        print(f"| {label} | {tuned[w]:.3f} | {highlight_accuracy(answerable_test, embedder, cache, w):.3f} |")
    print(f"\n({len(answerable_fit)} / {len(answerable_test)} answerable questions)\n")


def confidence_report(
    items: list[Item], fit: list[Item], test: list[Item], embedder: Embedder, cache: VectorCache
) -> Calibration:
    searcher, anchors = page_index(items, embedder, cache)
    cache.save()
    x_fit, y_fit, found_fit = confidence_data(fit, searcher, anchors)
    x_test, y_test, found_test = confidence_data(test, searcher, anchors)
    weights, bias = fit_logistic(x_fit, y_fit)
    model = Calibration(tuple(float(w) for w in weights), bias, 0.5)
    p_fit = np.asarray([model.probability(tuple(r)) for r in x_fit])
    p_test = np.asarray([model.probability(tuple(r)) for r in x_test])
    # Flag below the confidence that 10% of the answerable train+dev questions fall under: the notice must
    # not cry wolf on one question in three, as the best-F1 threshold would (shown below for comparison).
    threshold = float(np.quantile(p_fit[y_fit == 1], FALSE_ALARMS))
    best_f1 = max(np.unique(np.round(p_fit, 3)), key=lambda t: flag_scores(p_fit, y_fit, float(t))[2])
    model = Calibration(model.weights, model.bias, round(threshold, 3))
    print(
        f"## Not in the corpus ({len(anchors)} pages in one index; top page is the gold page: "
        f"{found_fit:.1%} train+dev, {found_test:.1%} test)\n"
    )
    terms = " + ".join(f"{w:.3f} x {f}" for w, f in zip(weights, FEATURES, strict=True))
    print(f"model: P(answers) = sigmoid({bias:.3f} + {terms})")
    print(f"flag when P < {model.threshold} (10% of answerable train+dev questions below it)\n")
    print("| split | threshold | unanswerable | flagged | precision | recall | F1 | AUC | Brier |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, p, y in (("train+dev", p_fit, y_fit), ("test", p_test, y_test)):
        for label, cut in ((f"{model.threshold} (shipped)", model.threshold), (f"{best_f1} (best F1)", float(best_f1))):
            precision, recall, f1 = flag_scores(p, y, cut)
            print(
                f"| {name} | {label} | {int((y == 0).sum())}/{len(y)} | {int((p < cut).sum())} | {precision:.3f} "
                f"| {recall:.3f} | {f1:.3f} | {auc(p, y):.3f} | {float(np.mean((p - y) ** 2)):.3f} |"
            )
    print("\nreliability on test (predicted vs observed share answerable):\n")
    print("| P bin | questions | mean P | observed |")
    print("|---|---|---|---|")
    for label, count, mean_p, observed in reliability(p_test, y_test):
        print(f"| {label} | {count} | {mean_p:.3f} | {observed:.3f} |")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="store the fitted model in index/data/confidence.json")
    parser.add_argument("--runtime", default="auto", choices=RUNTIMES)
    args = parser.parse_args()
    embedder = load_embedder(runtime=args.runtime)
    cache = VectorCache.for_embedder(CACHE, embedder)
    items = load_items()
    fit = [i for i in items if i.split != "test"]
    test = [i for i in items if i.split == "test"]
    print(f"OMoS-QA English: {len(fit)} train+dev, {len(test)} test questions; runtime {embedder.runtime}\n")
    highlight_report(fit, test, embedder, cache)
    model = confidence_report(items, fit, test, embedder, cache)
    if args.write:
        target = ROOT / "index" / "data" / "confidence.json"
        data = {
            **model.to_dict(),
            "fitted_on": "OMoS-QA English train+dev by bench/omos.py",
            "runtime": embedder.runtime,
        }
        target.write_text(json.dumps(data, indent=2) + "\n")
        print(f"\nwrote {target.relative_to(ROOT)}")
    print(f"\nreproduce: .venv/bin/python bench/omos.py{' --write' if args.write else ''}")


if __name__ == "__main__":
    main()
