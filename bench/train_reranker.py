"""Learn the cross-encoder reranker (index/reranker.py): a low-rank adapter and a head on the bundled model.

    .venv/bin/python bench/train_reranker.py [--out index/data/reranker] [--epochs 3]

What it learns from, and what it never sees:
- the tune half of the library question set (bench/data/library_questions.jsonl), never the held-out half;
- the written training questions (bench/data/train/*.jsonl) less those kept for calibration (a quarter, by id
  hash: bench/train_adapter.held_for_calibration) and less every question too close to a held-out one (half or
  more of its words), as the embedder's adapter;
- with `--scifact N`, N of SciFact's train queries (never its test split) over SciFact's abstracts.
Each question's candidates are the first stage's top `--candidates` passages (the default pipeline without a
reranker, over var/bench/library-index, built by bench/library.py); its positives those that hold its answer's
quote (evaluate/library.py's judge), its negatives the others, drawn mostly from the top. The loss is a softmax
over one positive and `--negatives` negatives per question (listwise). Only the adapter's matrices and the
head learn.

After each epoch the questions kept for calibration (never learned) are re-ranked with every weight of
WEIGHTS and every `top` of TOPS; the epoch and the (weight, top) with the best MRR@10 there are written with
the weights, with what they measured. Seeded: a rerun on the same CPU gives the same reranker.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe_cpu  # noqa: E402
from bench.train_adapter import held_for_calibration, learnable, written_questions  # noqa: E402
from evaluate.library import Judge, Question, assign_splits, load_questions, shared_data  # noqa: E402
from index.adapter import TARGETS, WEIGHTS  # noqa: E402
from index.embedder import default_model_path, load_embedder  # noqa: E402
from index.reranker import BIAS, HEAD, RERANKER_DIR, pair_text  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402

QUESTIONS = ROOT / "bench/data/library_questions.jsonl"
INDEX = ROOT / "var/bench/library-index"
WEIGHTS_TRIED = (0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2)
TOPS = (10,)  # 20 doubles the time a question takes (a pass of the model per passage) for +0.005 MRR on kept


@dataclass(frozen=True)
class Candidates:
    """A question's first-stage top passages: their pair texts, fused scores and which answer it."""

    question: str
    pairs: list[str]
    fused: list[float]
    right: list[bool]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RERANKER_DIR)
    parser.add_argument("--index", type=Path, default=INDEX)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--head-lr", type=float, default=1e-2)
    parser.add_argument("--questions-per-step", type=int, default=4)
    parser.add_argument("--negatives", type=int, default=7, help="negatives per question and step")
    parser.add_argument("--candidates", type=int, default=30, help="first-stage passages per question")
    parser.add_argument("--scifact", type=int, default=0, help="SciFact train queries mixed in (never its test split)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="protection-scifact-cross-r16", help="the reranker's name")
    return parser.parse_args(argv)


def question_sets(judge: Judge, snapshot: Snapshot) -> tuple[list[Question], list[Question], dict[str, int]]:
    """(questions to learn from, questions to choose the epoch and weight on, counts)."""
    tune, learn, counts = learnable(assign_splits(load_questions(QUESTIONS)))
    written = [q for q in written_questions() if q.answerable and held_for_calibration(q)]
    kept = [q for q in written if judge.findable(q, snapshot.searchable)]
    counts["kept_for_choosing"] = len(kept)
    return tune + learn, kept, counts


def candidates_of(searcher: Searcher, judge: Judge, questions: Sequence[Question], top: int) -> list[Candidates]:
    out = []
    for q in questions:
        hits = searcher.search(q.question, k=top, highlights=0)
        out.append(
            Candidates(
                q.question,
                [pair_text(q.question, h.passage, h.document) for h in hits],
                [h.score for h in hits],
                [judge.is_right(q, h.passage) for h in hits],
            )
        )
    return out


def scifact_candidates(count: int, seed: int, top: int) -> list[Candidates]:
    """`count` of SciFact's train queries (seeded draw) with the first stage's top passages over SciFact's abstracts:
    general-science questions beside the protection ones, so that the reranker does not learn the library alone."""
    from bench.accept import scifact_snapshot
    from bench.train_adapter import SCIFACT, scifact_draw
    from evaluate.beir import load_beir
    from index.runtime import OpenVinoEmbedder

    dataset = load_beir(shared_data(ROOT) / SCIFACT, "train")
    embedder = load_embedder(runtime="openvino")
    assert isinstance(embedder, OpenVinoEmbedder)
    searcher = Searcher(scifact_snapshot(dataset, embedder), embedder)
    out = []
    for query_id in scifact_draw(dataset, count, seed):
        relevant = {d for d, v in dataset.qrels[query_id].items() if v > 0}
        question = dataset.queries[query_id]
        hits = searcher.search(question, k=top, highlights=0)
        out.append(
            Candidates(
                question,
                [pair_text(question, h.passage, h.document) for h in hits],
                [h.score for h in hits],
                [h.passage.anchor in relevant for h in hits],
            )
        )
    return out


def build(rank: int, alpha: float) -> tuple[Any, Any, list[Any]]:
    """The bundled model with a low-rank update beside each TARGETS matrix, and a zero head."""
    from sentence_transformers import SentenceTransformer
    from torch import nn

    from bench.train_adapter import wrap

    model = SentenceTransformer(str(default_model_path()), device="cpu")
    model.max_seq_length = 256
    adapters = wrap(model[0].auto_model, rank, alpha)
    head = nn.Linear(model.get_embedding_dimension() or 384, 1)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    return model, head, list(adapters.items())


def score(model: Any, head: Any, pairs: list[str]) -> Any:
    import torch
    from torch import nn

    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(model.tokenize(pairs))["sentence_embedding"]
    return head(nn.functional.normalize(out.float(), dim=-1)).squeeze(-1)


def ranks_with(sets: list[tuple[Candidates, list[float]]], weight: float, top: int) -> dict[str, float]:
    """top-1, top-3 and MRR@10 of fused + weight * cross over the first `top` (weight 0: the first stage)."""
    import numpy as np

    first = third = mrr = 0.0
    for c, cross in sets:
        fused = np.asarray(c.fused[:top]) + weight * np.asarray(cross[:top])
        order = list(np.argsort(-fused, kind="stable")) + list(range(top, len(c.fused)))
        rank = next((i + 1 for i, o in enumerate(order[:10]) if c.right[o]), None)
        if rank:
            first += rank == 1
            third += rank <= 3
            mrr += 1 / rank
    n = max(len(sets), 1)
    return {"top1": round(first / n, 4), "top3": round(third / n, 4), "mrr": round(mrr / n, 4)}


def drawn(c: Candidates, negatives: int) -> list[int]:
    """One positive and up to `negatives` negatives of a question, the negatives drawn mostly from the top."""
    import numpy as np

    right = [i for i, ok in enumerate(c.right) if ok]
    wrong = [i for i, ok in enumerate(c.right) if not ok]
    p = np.array([1 / (i + 3) for i in range(len(wrong))])
    picked = np.random.choice(len(wrong), min(negatives, len(wrong)), replace=False, p=p / p.sum())
    return [random.choice(right)] + [wrong[int(i)] for i in picked]


def learn_epoch(model: Any, head: Any, train: list[Candidates], args: argparse.Namespace, step: Any) -> float:
    """One pass over `train`; `step(loss)` applies the optimiser. The mean loss."""
    import torch
    from torch import nn

    model.train()
    random.shuffle(train)
    total, steps = 0.0, 0
    for start in range(0, len(train), args.questions_per_step):
        loss = torch.zeros(())
        for c in train[start : start + args.questions_per_step]:
            chosen = drawn(c, args.negatives)
            logits = score(model, head, [c.pairs[i] for i in chosen])
            loss = loss + nn.functional.cross_entropy(logits.unsqueeze(0), torch.zeros(1, dtype=torch.long))
        loss = loss / args.questions_per_step
        step(loss)
        total, steps = total + float(loss.item()), steps + 1
    return total / max(steps, 1)


def weights_of(adapters: list[Any], head: Any) -> dict[str, Any]:
    import numpy as np

    tensors = {}
    for name, a in adapters:
        tensors[f"{name}.lora_A"] = a.lora_A.detach().numpy().astype(np.float32).copy()
        tensors[f"{name}.lora_B"] = a.lora_B.detach().numpy().astype(np.float32).copy()
    tensors[HEAD] = head.weight.detach().numpy().astype(np.float32).reshape(-1).copy()
    tensors[BIAS] = head.bias.detach().numpy().astype(np.float32).reshape(-1).copy()
    return tensors


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    import numpy as np
    import torch

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    started = time.perf_counter()
    snapshot = Snapshot.load(Store(args.index).current())
    judge = Judge(shared_data(ROOT), snapshot.documents)
    learn, kept, counts = question_sets(judge, snapshot)
    searcher = Searcher(snapshot, load_embedder(snapshot.model))  # the first stage alone
    train = [c for c in candidates_of(searcher, judge, learn, args.candidates) if any(c.right) and not all(c.right)]
    held = candidates_of(searcher, judge, kept, args.candidates)
    counts["learned_with_answer_in_candidates"] = len(train)
    if args.scifact:
        general = [c for c in scifact_candidates(args.scifact, args.seed, args.candidates) if any(c.right)]
        train += [c for c in general if not all(c.right)]
        counts["scifact_train_queries_with_answer_in_candidates"] = len(general)
    print(f"training on {counts}; {time.perf_counter() - started:.0f} s", file=sys.stderr)

    alpha = 2.0 * args.rank
    model, head, adapters = build(args.rank, alpha)
    optimiser = torch.optim.AdamW(
        [
            {"params": [p for _, a in adapters for p in (a.lora_A, a.lora_B)], "lr": args.lr},
            {"params": list(head.parameters()), "lr": args.head_lr},
        ],
        weight_decay=0.0,
    )
    steps = args.epochs * math.ceil(len(train) / args.questions_per_step)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / steps))

    def step(loss: Any) -> None:
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()

    best: dict[str, Any] = {}
    for epoch in range(1, args.epochs + 1):
        loss = learn_epoch(model, head, train, args, step)
        model.eval()
        with torch.no_grad():
            scored = [(c, score(model, head, c.pairs).float().tolist()) for c in held]
        found = {(w, t): ranks_with(scored, w, t) for w in WEIGHTS_TRIED for t in TOPS}
        (weight, top), measured = max(found.items(), key=lambda kv: (kv[1]["mrr"], kv[1]["top3"], -kv[0][1]))
        first_stage = ranks_with(scored, 0.0, max(TOPS))
        print(
            f"epoch {epoch}: loss {loss:.3f}; kept questions: first stage {first_stage}, reranked (weight {weight}, "
            f"top {top}) {measured}; {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        if not best or measured["mrr"] > best["measured"]["mrr"]:
            best = {"epoch": epoch, "weight": weight, "top": top, "measured": measured, "first": first_stage}
            write(args, best, weights_of(adapters, head), alpha, len(held), counts, started)


def write(
    args: argparse.Namespace,
    best: dict[str, Any],
    tensors: dict[str, Any],
    alpha: float,
    kept: int,
    counts: dict[str, int],
    started: float,
) -> None:
    """Write the best epoch so far (after each epoch that improves, so that a stopped run keeps what it learned)."""
    from safetensors.numpy import save_file

    args.out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out / WEIGHTS), metadata={"format": "pt"})
    meta = {
        "name": args.name,
        "base": "all-MiniLM-L6-v2",
        "rank": args.rank,
        "alpha": alpha,
        "targets": list(TARGETS),
        "top": best["top"],
        "weight": best["weight"],
        "chosen_on": {
            "questions": kept,
            "epoch": best["epoch"],
            "first_stage": best["first"],
            "reranked": best["measured"],
        },
        "trained_on": counts,
        "epochs": args.epochs,
        "lr": args.lr,
        "head_lr": args.head_lr,
        "questions_per_step": args.questions_per_step,
        "negatives": args.negatives,
        "seed": args.seed,
        "trained_on_cpu": describe_cpu(),
        "seconds": round(time.perf_counter() - started),
    }
    (args.out / "adapter.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"epoch {best['epoch']}: wrote {args.out / WEIGHTS} and {args.out / 'adapter.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
