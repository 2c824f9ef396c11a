"""Pooled relevance judgments for the library question sets: which passages besides the writer's answer a question.

    .venv/bin/python bench/judging.py pool --out DIR [--questions FILE] [--parts 4]
    .venv/bin/python bench/judging.py merge --out DIR [--judgments FILE]

A writer's quote marks the one passage the question was written from; another passage can answer it as well (a
recital that states the rule, the same rule in another instrument). As TREC does, the first three passages of
every retriever in bench/library.py are pooled, and judges who see only the question and each passage (its
document, label, headings and text; not which retriever found it, its rank, or the writer's answer) say whether
it answers (bench/data/JUDGING.md, the brief). The writer's own passages go into the pool unmarked: how often the
judges call them answers is their agreement with the writers, printed by `merge`.

`pool` writes DIR/pool-N.jsonl for the judges (pairs already judged are left out) and DIR/key.json (for each
pair: the question, the passage's file, label, a quote that only this passage of its document holds, and
whether it is the writer's). `merge` reads the judges' DIR/verdicts-N.jsonl and appends one line per judged pair
that is not the writer's to the judgments file; evaluate/library.py counts those with `answers: true` as answers
that are `judged`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.library import DEFAULT_INDEX, JUDGMENTS, POOL_DEPTH, QUESTIONS, RETRIEVERS, build, searcher_for  # noqa: E402
from evaluate.library import Judge, file_sha256, load_questions, read_jsonl, shared_data, unique_quote  # noqa: E402
from index.embedder import load_embedder  # noqa: E402
from index.records import Passage  # noqa: E402


def pair_id(question: str, passage: str) -> str:
    return hashlib.sha256(f"{question}|{passage}".encode()).hexdigest()[:10]


def shared_names(shared: Path) -> dict[str, str]:
    """sha256 of a file's bytes -> its path relative to the shared data folder (how question sets name files)."""
    names: dict[str, str] = {}
    for folder in (shared, shared.parent / "corpus"):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                names.setdefault(file_sha256(path.resolve()), os.path.relpath(path, shared))
    return names


def pool(args: argparse.Namespace) -> None:
    shared = shared_data(ROOT)
    embedder = load_embedder(None)
    snapshot = build(args.index, shared, embedder)
    judge = Judge(shared, snapshot.documents)
    earlier = read_jsonl(args.judgments) if args.judgments.exists() else []
    judged = {pair_id(j["question"], j["passage"]) for j in earlier}
    questions = [q for q in load_questions(args.questions) if q.answerable]
    pairs: dict[str, tuple[str, Passage, bool]] = {}
    for name in RETRIEVERS:
        searcher = searcher_for(name, snapshot, embedder)
        for q in questions:
            for hit in searcher.search(q.question, k=POOL_DEPTH, highlights=0)[:POOL_DEPTH]:
                pair = pair_id(q.id, hit.passage.id)
                if pair not in judged:
                    pairs.setdefault(pair, (q.id, hit.passage, judge.is_right(q, hit.passage, strict=True)))
        print(f"{name}: {len(pairs)} pairs", file=sys.stderr)
    names = shared_names(shared)
    by_document: dict[str, list[Passage]] = {}
    for p in snapshot.searchable:
        by_document.setdefault(p.document_id, []).append(p)
    text = {q.id: q.question for q in questions}
    key: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for pair, (qid, p, by_writer) in pairs.items():
        info = snapshot.documents[p.document_id]
        source = Path(info.source).resolve()
        key[pair] = {
            "question": qid,
            "passage": p.id,
            "file": names.get(file_sha256(source), os.path.relpath(source, shared)),
            "where": p.label,
            "quote": unique_quote(p, by_document[p.document_id]),
            "writers": by_writer,
        }
        rows.append(
            {
                "pair": pair,
                "question_id": qid,
                "question": text[qid],
                "passage_document": info.title,
                "passage_label": p.label,
                "passage_section": p.section_path,
                "passage_text": p.text,
            }
        )
    random.Random(7).shuffle(rows)
    rows.sort(key=lambda r: r["question_id"])  # grouped by question; within one, in no order a judge can read
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "key.json").write_text(json.dumps(key, indent=0), encoding="utf-8")
    parts: list[list[dict[str, Any]]] = [[] for _ in range(args.parts)]
    for qid in sorted({str(r["question_id"]) for r in rows}):
        min(parts, key=len).extend(r for r in rows if r["question_id"] == qid)
    for n, part in enumerate(parts, start=1):
        (args.out / f"pool-{n}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8"
        )
    own = sum(1 for k in key.values() if k["writers"])
    print(f"{len(rows)} pairs ({own} the writers' own) for {len({r['question_id'] for r in rows})} questions")


def merge(args: argparse.Namespace) -> None:
    key = json.loads((args.out / "key.json").read_text(encoding="utf-8"))
    verdicts = {v["pair"]: v for path in sorted(args.out.glob("verdicts-*.jsonl")) for v in read_jsonl(path)}
    missing = sorted(set(key) - set(verdicts))
    if missing:
        raise SystemExit(f"{len(missing)} pairs have no verdict (first: {missing[0]}); finish the judging first")
    writers = [verdicts[p]["answers"] for p, k in key.items() if k["writers"]]
    lines = []
    for pair, k in key.items():
        if k["writers"]:
            continue
        v = verdicts[pair]
        if not isinstance(v["answers"], bool):
            raise SystemExit(f"pair {pair}: 'answers' must be true or false, not {v['answers']!r}")
        fields = ("question", "passage", "file", "where", "quote")
        lines.append({**{f: k[f] for f in fields}, "answers": v["answers"], "why": v.get("why", "")})
    with args.judgments.open("a", encoding="utf-8") as out:
        out.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    found = sum(1 for line in lines if line["answers"])
    share = 100 * sum(writers) / max(1, len(writers))
    print(f"{len(lines)} pairs judged ({found} answer) appended to {args.judgments}")
    print(f"the judges called {sum(writers)} of the writers' {len(writers)} passages ({share:.0f}%) answers")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("pool", "merge"):
        command = commands.add_parser(name)
        command.add_argument("--out", type=Path, required=True, help="the folder of pool, key and verdict files")
        command.add_argument("--judgments", type=Path, default=JUDGMENTS)
    commands.choices["pool"].add_argument("--questions", type=Path, default=QUESTIONS)
    commands.choices["pool"].add_argument("--index", type=Path, default=DEFAULT_INDEX)
    commands.choices["pool"].add_argument("--parts", type=int, default=4, help="how many judges share the pool")
    args = parser.parse_args(argv)
    pool(args) if args.command == "pool" else merge(args)


if __name__ == "__main__":
    main()
