"""A measured plan for a million passages: FAISS flat against HNSW and IVF, and the BM25 index, at 100k-1M rows.

    .venv/bin/python bench/scale.py                              # 100k, 300k and 1M (about 40 min, ~6 GB peak)
    .venv/bin/python bench/scale.py --sizes 100000 --queries 300  # a quick look

Synthetic data, made here and kept under bench/.cache/scale (deleted with --clean):
- vectors: 384-d unit vectors in topics (one topic per 100 rows, like a document's passages), with a
  direction every vector shares (real sentence embeddings are anisotropic); questions are rows with
  noise added, at about the cosine a question has to its answer with all-MiniLM-L6-v2 (~0.7). The
  run prints both cosines, so the data's difficulty is on the table. Uniform random vectors would be
  easier to make and much harder to search approximately than any real corpus.
- text: passages of 40-120 words drawn from a Zipf vocabulary of made-up words; questions of 6-10
  words, most from one passage. Analysed by the project's own tokenizer (index/lexical.py).

Each build and each measurement of a loaded index runs in a fresh process, one at a time, so resident
memory is that index's and no two big indexes share the machine. Dense latency is one question asking
for the service's 300 candidates (index/search.py), as `DenseIndex.top` is called; recall@10 is the
share of the exact top 10 (flat) among those candidates' first 10. BM25 latency is `LexicalIndex.scores`,
a score for every row, as the service asks.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe_cpu  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "scale"
DIM = 384
SERVICE_CANDIDATES = 300  # index/candidates.py: CANDIDATES * 3 windows per question
KINDS = ("flat", "hnsw", "ivf", "bm25")
DENSE = ("flat", "hnsw", "ivf")
SUCCESSORS = 32  # likely next words per word (make_texts)
FRESH_WORD = 0.10  # share of words drawn afresh rather than from the previous word's successors
IVF_NPROBE = 32


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# -- data ----------------------------------------------------------------------------------------


def make_vectors(size: int, queries: int, folder: Path) -> None:
    """vectors.npy (size x 384), queries.npy (queries x 384), in topics, written in chunks."""
    rng = np.random.default_rng(size)
    shared = _unit(rng.standard_normal(DIM))
    topics = _unit(rng.standard_normal((max(1, size // 100), DIM)).astype(np.float32))
    out = np.lib.format.open_memmap(folder / "vectors.npy", mode="w+", dtype=np.float32, shape=(size, DIM))
    for first in range(0, size, 50_000):
        n = min(50_000, size - first)
        topic = topics[rng.integers(0, len(topics), n)]
        noise = rng.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(DIM)
        out[first : first + n] = _unit(0.45 * shared + 0.75 * topic + 0.75 * noise)
    out.flush()
    rows = rng.choice(size, queries, replace=False)
    noise = rng.standard_normal((queries, DIM)).astype(np.float32) / np.sqrt(DIM)
    np.save(folder / "queries.npy", _unit(out[rows] + 1.0 * noise))
    del out


def _unit(x: Any) -> Any:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def make_texts(size: int, queries: int, folder: Path) -> None:
    """texts.jsonl (size passages) and questions.json: made-up words in a Markov chain of Zipf-distributed successors.

    Each word has its own few likely next words, so word pairs repeat as they do in prose (the run prints
    the distinct terms, pairs included); independent words would make nearly every pair new, and the
    BM25 index's pair vocabulary several times larger than real text gives.
    """
    rng = np.random.default_rng(size + 1)
    syllables = ["ka", "lo", "mi", "ne", "ra", "to", "su", "vi", "de", "po", "an", "er", "in", "os", "ul", "ty"]
    words = 50_000
    vocabulary = np.asarray(
        ["".join(rng.choice(syllables, rng.integers(2, 5))) + str(i % 7) for i in range(words)], dtype=object
    )
    zipf = 1.0 / np.arange(1, words + 1) ** 1.05
    zipf /= zipf.sum()
    successors = rng.choice(words, (words, SUCCESSORS), p=zipf)  # each word's likely next words
    follow = 1.0 / np.arange(1, SUCCESSORS + 1)
    follow /= follow.sum()
    lengths = rng.integers(40, 121, size)
    samples: list[list[str]] = []
    with (folder / "texts.jsonl").open("w") as handle:
        for first in range(0, size, 20_000):
            block = lengths[first : first + 20_000]
            width = int(block.max())
            picks = rng.choice(SUCCESSORS, (len(block), width), p=follow)
            fresh = rng.random((len(block), width)) < FRESH_WORD
            drawn = rng.choice(words, (len(block), width), p=zipf)
            walk = np.empty((len(block), width), dtype=np.int64)
            walk[:, 0] = drawn[:, 0]
            for k in range(1, width):  # every passage of the block takes its next word at once
                walk[:, k] = np.where(fresh[:, k], drawn[:, k], successors[walk[:, k - 1], picks[:, k]])
            for j, n in enumerate(block):
                passage = vocabulary[walk[j, :n]].tolist()
                handle.write(json.dumps(" ".join(passage)) + "\n")
                if len(samples) < queries and rng.random() < queries / size * 2:
                    samples.append(passage)
    questions = []
    for passage in samples[:queries]:
        start = int(rng.integers(0, max(1, len(passage) - 10)))
        picked = passage[start : start + int(rng.integers(6, 11))]
        picked[-1] = str(vocabulary[rng.integers(0, words)])  # one word from elsewhere
        questions.append(" ".join(picked))
    (folder / "questions.json").write_text(json.dumps(questions))


# -- children: each a fresh process ------------------------------------------------------------


def child_build_dense(kind: str, folder: Path) -> dict[str, Any]:
    import faiss

    from index.dense import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    size = len(vectors)
    started = time.perf_counter()
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(DIM)
        index.add(np.ascontiguousarray(vectors))
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        for first in range(0, size, 100_000):
            index.add(np.ascontiguousarray(vectors[first : first + 100_000]))
    else:
        nlist = int(4 * np.sqrt(size))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(size, min(size, 64 * nlist), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
        for first in range(0, size, 100_000):
            index.add(np.ascontiguousarray(vectors[first : first + 100_000]))
        index.nprobe = IVF_NPROBE
    seconds = time.perf_counter() - started
    path = folder / f"{kind}.faiss"
    faiss.write_index(index, str(path))
    if kind == "flat":  # the exact answers, for recall
        _, truth = index.search(np.load(folder / "queries.npy"), 10)
        np.save(folder / "truth.npy", truth)
    return {"build_s": seconds, "disk_mb": path.stat().st_size / 2**20, "build_peak_mb": peak_mb()}


def child_serve_dense(kind: str, folder: Path) -> dict[str, Any]:
    """Load as the service does (DenseIndex.load), then ask every question for the service's candidates."""
    import faiss

    from index.dense import DenseIndex

    faiss.omp_get_max_threads()  # the library loaded before the baseline
    before = rss_mb()
    dense = DenseIndex.load(folder / f"{kind}.faiss", DIM)
    resident = rss_mb() - before
    queries = np.load(folder / "queries.npy")
    truth = np.load(folder / "truth.npy")
    dense.top(queries[0], SERVICE_CANDIDATES)  # warm
    times, found = [], 0
    for query, exact in zip(queries, truth, strict=True):
        started = time.perf_counter()
        _, rows = dense.top(query, SERVICE_CANDIDATES)
        times.append((time.perf_counter() - started) * 1000)
        found += len(set(rows[:10].tolist()) & set(exact.tolist()))
    return {
        "rss_mb": resident,
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
        "recall10": found / truth.size,
        "threads": faiss.omp_get_max_threads(),
    }


def child_build_lexical(folder: Path) -> dict[str, Any]:
    from index.lexical import LexicalIndex

    with (folder / "texts.jsonl").open() as handle:
        texts = [json.loads(line) for line in handle]
    started = time.perf_counter()
    lexical = LexicalIndex.build(texts)
    seconds = time.perf_counter() - started
    lexical.save(folder / "lexical")
    disk = sum(p.stat().st_size for p in (folder / "lexical").rglob("*") if p.is_file())
    terms = len(lexical._retriever.vocab_dict)
    words = sum(len(t.split()) for t in texts)
    return {"build_s": seconds, "disk_mb": disk / 2**20, "build_peak_mb": peak_mb(), "terms": terms, "words": words}


def child_serve_lexical(folder: Path) -> dict[str, Any]:
    import bm25s  # noqa: F401  (loaded before the baseline)

    from index.lexical import LexicalIndex

    before = rss_mb()
    lexical = LexicalIndex.load(folder / "lexical")
    resident = rss_mb() - before
    questions = json.loads((folder / "questions.json").read_text())
    lexical.scores(questions[0])
    times = []
    for question in questions:
        started = time.perf_counter()
        lexical.scores(question)
        times.append((time.perf_counter() - started) * 1000)
    return {"rss_mb": resident, "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99)}


def geometry(folder: Path) -> dict[str, float]:
    """Mean cosine of random pairs of rows, and of each question to its nearest row (the data's difficulty)."""
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    rng = np.random.default_rng(7)
    a, b = rng.choice(len(vectors), 2000), rng.choice(len(vectors), 2000)
    pairs = float(np.mean(np.sum(vectors[np.sort(a)] * vectors[np.sort(b)], axis=1)))
    queries, truth = np.load(folder / "queries.npy"), np.load(folder / "truth.npy")
    nearest = float(np.mean(np.sum(queries * vectors[truth[:, 0]], axis=1)))
    return {"random_pair_cosine": pairs, "question_nearest_cosine": nearest}


def run_child(*args: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def child(args: list[str]) -> None:
    job, folder = args[0], Path(args[-1])
    if job == "build-dense":
        result = child_build_dense(args[1], folder)
    elif job == "serve-dense":
        result = child_serve_dense(args[1], folder)
    elif job == "build-lexical":
        result = child_build_lexical(folder)
    else:
        result = child_serve_lexical(folder)
    print(json.dumps(result))


def measure(size: int, queries: int, kinds: list[str]) -> list[dict[str, Any]]:
    folder = CACHE / str(size)
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    dense = [k for k in kinds if k in DENSE]
    if dense:
        print(f"{size:,} rows: making vectors ...", file=sys.stderr, flush=True)
        make_vectors(size, queries, folder)
    for kind in ["flat", *[k for k in dense if k != "flat"]] if dense else []:
        print(f"{size:,} rows: {kind} ...", file=sys.stderr, flush=True)
        row = {"size": size, "index": kind, **run_child("build-dense", kind, str(folder))}
        row.update(run_child("serve-dense", kind, str(folder)))
        (folder / f"{kind}.faiss").unlink()
        if kind == "flat":
            row.update(geometry(folder))
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    if dense:
        (folder / "vectors.npy").unlink()
    if "bm25" in kinds:
        print(f"{size:,} rows: BM25 ...", file=sys.stderr, flush=True)
        make_texts(size, queries, folder)
        row = {"size": size, "index": "bm25 (LexicalIndex)", **run_child("build-lexical", str(folder))}
        row.update(run_child("serve-lexical", str(folder)))
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
        shutil.rmtree(folder / "lexical")
        (folder / "texts.jsonl").unlink()
    return rows


def table(rows: list[dict[str, Any]]) -> None:
    print("| rows | index | build s | disk MB | build peak RSS MB | loaded RSS MB | p50 ms | p99 ms | recall@10 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        recall = f"{r['recall10']:.4f}" if "recall10" in r else "-"
        print(
            f"| {r['size']:,} | {r['index']} | {r['build_s']:.1f} | {r['disk_mb']:.0f} | {r['build_peak_mb']:.0f} | "
            f"{r['rss_mb']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {recall} |"
        )
    print()
    for r in rows:
        if "terms" in r:
            print(f"{r['size']:,} passages: {r['words']:,} words, {r['terms']:,} distinct BM25 terms (words and pairs)")
        if "random_pair_cosine" in r:
            print(
                f"{r['size']:,} rows: mean cosine of random pairs {r['random_pair_cosine']:.3f}, of a question to "
                f"its nearest row {r['question_nearest_cosine']:.3f}; faiss threads {r['threads']}"
            )
    print(describe_cpu().replace("CPU", "at the end: CPU", 1))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--clean", action="store_true", help="delete bench/.cache/scale first")
    args = parser.parse_args()
    if args.clean:
        shutil.rmtree(CACHE, ignore_errors=True)
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(describe_cpu())
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        measured = measure(size, args.queries, args.kinds)
        rows.extend(measured)
        with (CACHE / "results.jsonl").open("a") as handle:
            for row in measured:
                handle.write(json.dumps(row) + "\n")
    table(rows)


if __name__ == "__main__":
    main()
