"""Learn the protection adapter (index/adapter.py): low-rank updates to the bundled model, on protection questions.

    .venv/bin/python bench/train_adapter.py [--out index/data/adapter] [--epochs 3] [--scifact 400]

What it learns from, and what it never sees:
- the tune half of the library question set (bench/data/library_questions.jsonl), never the held-out half;
- the training question sets bench/data/train/*.jsonl, written by helpers from the documents alone (see
  bench/data/train/README.md), less every question too close to a held-out one (half or more of its words);
- `--scifact` queries of SciFact's train split with their abstracts (a general-science check on forgetting;
  SciFact's test split is never used).
A question's positives are the library windows that hold its answer's quote (as evaluate/library.py judges),
its hard negatives the other top-10 passages of the current default pipeline over the library index
(var/bench/library-index, built by bench/library.py), less any that holds the answer's quote (the same rule in
an edition the question's answers do not list). The loss is the usual
in-batch softmax over the batch's positives and hard negatives (scale 20). Only the adapter's matrices
learn; the model's own weights stay frozen. Seeded, so a rerun on the same CPU gives the same adapter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe_cpu  # noqa: E402
from evaluate.beir import BeirSet, load_beir  # noqa: E402
from evaluate.library import Judge, Question, covers, load_questions, shared_data, words  # noqa: E402
from index.adapter import ADAPTER_DIR, META, TARGETS, WEIGHTS  # noqa: E402
from index.embedder import default_model_path, load_embedder  # noqa: E402
from index.search import Searcher  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402

Example = tuple[str, list[str], list[str]]  # question, positive texts, hard negative texts
QUESTIONS = ROOT / "bench/data/library_questions.jsonl"
TRAIN = ROOT / "bench/data/train"
INDEX = ROOT / "var/bench/library-index"
SCIFACT = "beir-scifact"


def held_for_calibration(question: Question) -> bool:
    """A quarter of the written questions (by id hash) that the adapter never learns from: what the confidence
    and the learned ranker are fitted on, since the questions it learned from look easier than new ones."""
    return int(hashlib.sha256(question.id.encode()).hexdigest(), 16) % 4 == 0


# The parts an adapter written before adapter.json said its parts learned from: the shipped one learned parts a-c
# (its trained_on counts 325 written questions; adapter_parts checks that these parts give that count).
FIRST_PARTS = ("part-a", "part-b", "part-c")


def written_questions(parts: Sequence[str] | None = None) -> list[Question]:
    """The written training questions of `parts` (file stems, "part-a"; None: every part)."""
    paths = sorted(TRAIN.glob("*.jsonl"))
    return [q for path in paths if parts is None or path.stem in parts for q in load_questions(path)]


def adapter_parts(library: Sequence[Question], adapter: Path = ADAPTER_DIR) -> tuple[str, ...]:
    """The parts of bench/data/train the adapter at `adapter` learned from: adapter.json's "parts", else (an
    adapter trained before it said) FIRST_PARTS, checked against the written questions its trained_on counts."""
    meta = json.loads((adapter / META).read_text(encoding="utf-8"))
    if "parts" in meta:
        return tuple(meta["parts"])
    counted = meta["trained_on"]["written_questions"]
    found = learnable(library, FIRST_PARTS)[2]["written_questions"]
    if found != counted:
        raise SystemExit(
            f"{adapter / META} counts {counted} written questions learned and names no parts; {', '.join(FIRST_PARTS)} "
            f'give {found}: say in its "parts" which it learned'
        )
    return FIRST_PARTS


def unlearned(library: Sequence[Question], adapter: Path = ADAPTER_DIR) -> list[Question]:
    """The questions outside the held-out half that the adapter at `adapter` never learned from: the tune half's
    without an answer, and of the written ones every question without an answer (it learns from answers only), the
    quarter kept for calibration, and those of the parts it did not learn (less those too close to a held-out
    question, as learnable drops them)."""
    learned = {q.id for q in written_questions(adapter_parts(library, adapter))}
    heldout = [set(words(q.question)) for q in library if q.split == "heldout"]
    return [q for q in library if q.split == "tune" and not q.answerable] + [
        q
        for q in written_questions()
        if not q.answerable or held_for_calibration(q) or (q.id not in learned and not too_close(q.question, heldout))
    ]


def too_close(question: str, heldout: Sequence[set[str]]) -> bool:
    mine = set(words(question))
    return any(len(mine & other) >= 0.5 * max(len(mine), len(other)) for other in heldout)


def library_examples(snapshot: Snapshot, judge: Judge, questions: Sequence[Question]) -> list[Example]:
    """(question, texts of the windows that answer it, texts of the default's wrong top-10 passages)."""
    windows: dict[int, list[str]] = {}
    for row, text in zip(snapshot.windows[:, 0], snapshot.window_texts(), strict=True):
        windows.setdefault(int(row), []).append(text)
    searcher = Searcher(snapshot, load_embedder(snapshot.model))  # the model the index was built with
    examples = []
    for q in questions:
        rows = [
            int(r)
            for d in judge.documents_of(q)
            for r in snapshot.document_rows.get(d, [])
            if judge.is_right(q, snapshot.searchable[int(r)])
        ]
        if not rows:
            continue
        quotes = [words(a.quote) for a in q.answers]
        positives = [t for r in rows for t in windows[r] if any(covers(words(t), quote) for quote in quotes)] or [
            windows[r][0] for r in rows
        ]
        hits = searcher.search(q.question, k=10)
        negatives = [
            windows[snapshot.row_of[h.passage.id]][0]
            for h in hits
            if h.passage.id in snapshot.row_of
            and snapshot.row_of[h.passage.id] not in rows
            and not any(covers(words(h.passage.text), quote) for quote in quotes)  # the answer, in another edition
        ]
        examples.append((q.question, positives, negatives))
    return examples


def scifact_examples(shared: Path, count: int, seed: int) -> list[Example]:
    """`count` of SciFact's train queries with their relevant abstracts, as its index holds them (evaluate/beir.py)."""
    dataset = load_beir(shared / SCIFACT, "train")
    texts = {p.anchor: p.text for p in dataset.document.passages}
    relevant = {
        q: [texts[d] for d, score in judged.items() if score > 0 and d in texts] for q, judged in dataset.qrels.items()
    }
    return [(dataset.queries[q], relevant[q], []) for q in scifact_draw(dataset, count, seed)]


def scifact_draw(dataset: BeirSet, count: int, seed: int) -> list[str]:
    """`count` of SciFact's train query ids with a relevant abstract, in a seeded order (the adapter's and the
    reranker's draw)."""
    texts = {p.anchor for p in dataset.document.passages}
    ids = sorted(q for q, judged in dataset.qrels.items() if any(v > 0 and d in texts for d, v in judged.items()))
    random.Random(seed).shuffle(ids)
    return ids[:count]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ADAPTER_DIR)
    parser.add_argument("--index", type=Path, default=INDEX)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--scifact", type=int, default=400, help="SciFact train queries mixed in")
    parser.add_argument("--negatives", type=int, default=1, help="hard negatives per question and step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="protection-lora-r16", help="the adapter's name")
    return parser.parse_args(argv)


def learnable(
    library: Sequence[Question], parts: Sequence[str] | None = None
) -> tuple[list[Question], list[Question], dict[str, int]]:
    """What a model may learn from: the tune half's answerable questions, the written answerable ones (of `parts`;
    None: every part) less the quarter kept for calibration and less those too close to a held-out question; and
    how many of each."""
    heldout = [set(words(q.question)) for q in library if q.split == "heldout"]
    chosen = [q for q in library if q.split == "tune" and q.answerable]
    answered = [q for q in written_questions(parts) if q.answerable]
    written = [q for q in answered if not held_for_calibration(q)]
    kept = [q for q in written if not too_close(q.question, heldout)]
    counts = {
        "library_tune_questions": len(chosen),
        "written_questions": len(kept),
        "written_dropped_close_to_heldout": len(written) - len(kept),
        "written_kept_for_calibration": len(answered) - len(written),
    }
    return chosen, kept, counts


def examples_for(args: argparse.Namespace) -> tuple[list[Example], dict[str, int]]:
    shared = shared_data(ROOT)
    snapshot = Snapshot.load(Store(args.index).current())
    judge = Judge(shared, snapshot.documents)
    chosen, kept, counts = learnable(load_questions(QUESTIONS))
    examples = library_examples(snapshot, judge, chosen + kept)
    counts["library_examples"] = len(examples)
    examples += scifact_examples(shared, args.scifact, args.seed)
    counts["scifact_train_queries"] = len(examples) - counts["library_examples"]
    print(f"training on {counts}", file=sys.stderr)
    return examples, counts


def wrap(bert: Any, rank: int, alpha: float) -> dict[str, Any]:
    """Put a low-rank update beside each TARGETS matrix of every layer; only those updates learn."""
    import torch
    from torch import nn

    class LoRA(nn.Module):
        def __init__(self, base: nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.lora_A = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
            self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
            self.scale = alpha / rank

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scale

    for p in bert.parameters():
        p.requires_grad = False
    adapters: dict[str, Any] = {}
    for i, layer in enumerate(bert.encoder.layer):
        for target in TARGETS:
            *path, leaf = target.split(".")
            holder = layer
            for part in path:
                holder = getattr(holder, part)
            wrapped = LoRA(getattr(holder, leaf))
            setattr(holder, leaf, wrapped)
            adapters[f"encoder.layer.{i}.{target}"] = wrapped
    return adapters


def train(model: Any, adapters: dict[str, Any], examples: list[Example], args: argparse.Namespace) -> None:
    """In-batch softmax (scale 20) over the batch's positives and hard negatives, linear warm-up and decay."""
    import torch
    from torch import nn

    params = [p for a in adapters.values() for p in (a.lora_A, a.lora_B)]
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    steps = args.epochs * math.ceil(len(examples) / args.batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / 10) * max(0.0, 1 - s / steps))
    pool = [t for _, positives, _ in examples for t in positives]

    def encode(texts: list[str]) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(model.tokenize(texts))["sentence_embedding"]
        return nn.functional.normalize(out.float(), dim=-1)

    model.train()
    started = time.perf_counter()
    for epoch in range(args.epochs):
        random.shuffle(examples)
        total = 0.0
        for start in range(0, len(examples), args.batch):
            batch = examples[start : start + args.batch]
            positives = [random.choice(p) for _, p, _ in batch]
            negatives = [
                t for _, _, n in batch for t in random.sample(n, min(args.negatives, len(n))) or [random.choice(pool)]
            ]
            scores = encode([q for q, _, _ in batch]) @ encode(positives + negatives).T * 20.0
            loss = nn.functional.cross_entropy(scores, torch.arange(len(batch)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.item()) * len(batch)
        print(
            f"epoch {epoch + 1}: loss {total / len(examples):.3f}, {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    import numpy as np
    import torch
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    examples, counts = examples_for(args)
    model = SentenceTransformer(str(default_model_path()), device="cpu")
    model.max_seq_length = 256
    alpha = 2.0 * args.rank
    adapters = wrap(model[0].auto_model, args.rank, alpha)
    started = time.perf_counter()
    train(model, adapters, examples, args)
    args.out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for name, a in adapters.items():
        tensors[f"{name}.lora_A"] = a.lora_A.detach().numpy().astype(np.float32)
        tensors[f"{name}.lora_B"] = a.lora_B.detach().numpy().astype(np.float32)
    save_file(tensors, str(args.out / WEIGHTS), metadata={"format": "pt"})
    meta = {
        "name": args.name,
        "base": "all-MiniLM-L6-v2",
        "rank": args.rank,
        "alpha": alpha,
        "targets": list(TARGETS),
        "trained_on": counts,
        "parts": sorted(path.stem for path in TRAIN.glob("*.jsonl")),
        "epochs": args.epochs,
        "lr": args.lr,
        "batch": args.batch,
        "negatives": args.negatives,
        "seed": args.seed,
        "trained_on_cpu": describe_cpu(),
        "seconds": round(time.perf_counter() - started),
    }
    (args.out / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / WEIGHTS} and {args.out / META}", file=sys.stderr)


if __name__ == "__main__":
    main()
