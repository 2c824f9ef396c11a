"""Speed of every embedding runtime against PyTorch, in one run, on the same text: one Markdown table.

    nice -n -10 .venv/bin/python bench/speed.py                 # every runtime this CPU can run
    nice -n -10 .venv/bin/python bench/speed.py --avx2          # as an AVX2-only CPU would (bench/machine.py)
    .venv/bin/python bench/speed.py --runtimes pytorch openvino-int8 --http-seconds 10

Each runtime lives in a worker process of its own (two runtimes in one process disturb each other: idle
thread pools spin, and each evicts the other's weights from the cache) and in a `pqa serve` of its own
(PQA_QUERY_CACHE=0: every question is embedded). The coordinator hands the same work to each in turn,
in small pieces, so machine load hits every row alike:
- passages/s: 256 SciFact abstracts embedded afresh, best of 2 rounds;
- one question: 200 questions (the paper's 52 golden ones and SciFact claims) embedded one at a time;
- search: one in-process search (question embedding included), SciFact's 300 test queries (k=10, first 5
  highlighted, as in the service) and the paper's golden questions over the default library (corpus/, k=5),
  3 rounds each;
- search + reranker: the same golden questions with the cross-encoder (index/reranker.py) on the same runtime, 1 round;
- HTTP: bench/load.py's client against each server over the default library, 1 and 8 clients, 2 rounds each, the
  reranker off (PQA_RERANK=false: the first stage, whose cost the targets are about); each runtime served twice,
  answering in the serving process (PQA_SEARCH_PROCESSES=0) and with `--search-processes` (default 2) search
  processes (service/pool.py);
- memory: each server's resident set after start-up and after the load (with its search processes);
- nDCG@10: the default pipeline on SciFact from the same searches.
The question cache is off everywhere. SciFact's index is built once per runtime (vectors kept in bench/.cache).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import cap_at_avx2, describe  # noqa: E402
from bench.workers import Worker, reply  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "beir-scifact"
CACHE = ROOT / "bench" / ".cache"
GOLDEN = ROOT / "tests" / "data" / "golden.jsonl"
SAMPLE = 256
CHUNK = 25  # questions per turn: small enough to alternate often, large enough to keep a runtime's cache warm
# seconds between two workers' turns: the worker that just ran leaves its threads spinning (OpenMP's, ONNX Runtime's)
# for a while, on the cores the next one measures on. Without it, the first questions of a turn paid for the last
# turn's runtime: two workers over the golden questions, two rounds each way, p99 of the library search 45.0-45.9 ms
# (PyTorch) and 8.7-13.1 ms (onnxruntime-int8) back to back, 24.4-27.1 and 7.6-8.3 ms with this pause.
SETTLE = 0.5


def golden() -> list[str]:
    return [json.loads(line)["question"] for line in GOLDEN.read_text().splitlines() if line]


# -- worker: one runtime, commands on stdin, results on stdout -------------------------------------------


def worker(runtime: str, folder: Path, data: Path) -> None:
    from evaluate.beir import load_beir
    from evaluate.evaluation import beir_snapshot, throughput
    from evaluate.vectorcache import VectorCache
    from index.embedder import load_embedder
    from index.reranker import load_reranker
    from index.search import Searcher
    from index.snapshot import Snapshot
    from index.store import Store
    from service.reindex import ingest

    embedder = load_embedder(runtime=runtime)
    dataset = load_beir(data, "test")
    cache = VectorCache.for_embedder(CACHE, embedder)
    try:
        scifact = Searcher(beir_snapshot(dataset, embedder, cache, with_sentences=False), embedder)
    finally:
        cache.save()
    ingest([ROOT / "corpus"], Store(folder), lambda: embedder)
    library = Searcher(Snapshot.load(Store(folder).current()), embedder)
    # the cross-encoder on ONNX Runtime was never measured for acceptance: it runs what `auto` gives it, as served
    reranked = Searcher(
        library.snapshot, embedder, reranker=load_reranker("auto" if runtime.startswith("onnxruntime") else runtime)
    )
    sample = [p.text for p in dataset.document.passages[:SAMPLE]]
    reason = getattr(embedder, "precision_reason", "")
    reply({"runtime": embedder.runtime, "reason": reason, "index": str(folder)})
    for line in sys.stdin:
        command = json.loads(line)
        what, texts = command["what"], command.get("texts", [])
        if what == "passages":
            reply({"rate": throughput(embedder, sample)})
        elif what == "questions":
            reply({"ms": [_timed(lambda t=t: embedder.embed_query(t)) for t in texts]})
        elif what == "scifact":
            ms, ranked = [], []
            for text in texts:
                started = time.perf_counter()
                hits = scifact.search(text, k=10, highlights=5)
                ms.append((time.perf_counter() - started) * 1000)
                ranked.append([h.passage.anchor for h in hits])
            reply({"ms": ms, "ranked": ranked})
        elif what == "paper":
            reply({"ms": [_timed(lambda t=t: library.search(t, k=5)) for t in texts]})
        elif what == "reranked":
            reply({"ms": [_timed(lambda t=t: reranked.search(t, k=5)) for t in texts]})


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


# -- coordinator ---------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else 0.0


def in_turns(workers: list[Worker], what: str, texts: list[str], rounds: int) -> dict[str, dict[str, list[Any]]]:
    """Every worker gets each chunk of `texts` in turn; their replies' lists joined per runtime."""
    joined: dict[str, dict[str, list[Any]]] = {w.runtime: {} for w in workers}
    for _ in range(rounds):
        for first in range(0, len(texts), CHUNK):
            for w in workers:
                time.sleep(SETTLE)
                for key, values in w.ask(what, texts=texts[first : first + CHUNK]).items():
                    joined[w.runtime].setdefault(key, []).extend(values)
    return joined


def ndcg(ranked: list[list[str]], query_ids: list[str], qrels: dict[str, dict[str, int]]) -> float:
    from evaluate.metrics import mean, ndcg_at

    scores = [ndcg_at(r, qrels[q], 10) for r, q in zip(ranked, query_ids, strict=True) if any(qrels[q].values())]
    return mean(scores)


def http(
    workers: list[Worker], clients: list[int], seconds: float, rounds: int, pools: list[int]
) -> dict[tuple[str, int, int], Any]:
    """Each runtime's `pqa serve`, once per entry of `pools` (PQA_SEARCH_PROCESSES: 0 answers in the serving
    process), under 1 and 8 clients in turns; results by (runtime, search processes, clients), clients 0 holding the
    servers' memory (the serving process and its search processes together)."""
    from bench.load import run_loop, serve, tree_rss_mb

    servers = {}
    result: dict[tuple[str, int, int], Any] = {}
    port = 8790
    try:
        for w in workers:
            for pool in pools:
                # the first stage: what the targets are for (the reranker's cost is the in-process column beside it)
                index = Path(w.hello["index"])
                env = {"PQA_RERANK": "false"}  # PQA_SEARCH_PROCESSES: serve() sets it from `pool`
                process = serve(index, port, ["--runtime", w.setting], env, search_processes=pool)
                servers[(w.runtime, pool)] = (process, port)
                result[(w.runtime, pool, 0)] = {"rss_start": tree_rss_mb(process.pid)}
                port += 1
        questions = golden()
        for n in clients:
            for _ in range(rounds):
                for (runtime, pool), (_process, p) in servers.items():
                    time.sleep(SETTLE)
                    r = run_loop(f"http://127.0.0.1:{p}", "/api/search", n, seconds, questions)
                    slot = result.setdefault((runtime, pool, n), {"ms": [], "errors": 0, "requests": 0, "seconds": 0.0})
                    slot["ms"] += r["latencies"]
                    slot["errors"] += r["errors"]
                    slot["requests"] += r["requests"]
                    slot["seconds"] += seconds
        for (runtime, pool), (process, _) in servers.items():
            result[(runtime, pool, 0)]["rss_end"] = tree_rss_mb(process.pid)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    return result


def measure(
    runtimes: list[str], clients: list[int], http_seconds: float, data: Path, pools: list[int]
) -> dict[str, Any]:
    """Every measurement of every runtime, in turns; returns the workers' greetings and the raw numbers."""
    from evaluate.beir import load_beir

    dataset = load_beir(data, "test")
    query_ids = list(dataset.queries)
    scifact_queries = [dataset.queries[q] for q in query_ids]
    questions = golden() + scifact_queries[: 200 - len(golden())]
    with tempfile.TemporaryDirectory() as tmp:
        workers = []
        for runtime in runtimes:
            print(f"loading {runtime} (SciFact index built once per runtime) ...", file=sys.stderr, flush=True)
            workers.append(Worker(__file__, runtime, "--folder", str(Path(tmp) / runtime), "--data", str(data)))
        try:
            print("timing passages, questions and searches, in turns ...", file=sys.stderr, flush=True)
            rates: dict[str, float] = {}
            for _ in range(2):
                for w in workers:
                    rates[w.runtime] = max(rates.get(w.runtime, 0.0), w.ask("passages")["rate"])
            one = in_turns(workers, "questions", questions, 2)
            sci = in_turns(workers, "scifact", scifact_queries, 1)
            again = in_turns(workers, "scifact", scifact_queries, 1)
            paper = in_turns(workers, "paper", golden(), 3)
            second = in_turns(workers, "reranked", golden(), 1)
            print("HTTP over the default library, in turns ...", file=sys.stderr, flush=True)
            served = http(workers, clients, http_seconds, 2, pools)
        finally:
            for w in workers:
                w.close()
    rows = {}
    for w in workers:
        rt = w.runtime
        rows[rt] = {
            "reason": w.hello["reason"],
            "rate": rates[rt],
            "one": one[rt]["ms"],
            "scifact": sci[rt]["ms"] + again[rt]["ms"],
            "paper": paper[rt]["ms"],
            "reranked": second[rt]["ms"],
            "http": {(pool, n): served[(rt, pool, n)] for pool in pools for n in clients},
            "memory": {pool: served[(rt, pool, 0)] for pool in pools},
            "ndcg": ndcg(sci[rt]["ranked"], query_ids, dataset.qrels),
        }
    return rows


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {pct(values, 0.99):.1f}"


def print_table(rows: dict[str, Any], clients: list[int], pools: list[int], flags: str) -> None:
    base = rows.get("pytorch-fp32", {}).get("rate")
    print(f"\nEmbedding runtimes on the same text, one run; {describe()}\n")
    head = [
        "runtime",
        "passages/s",
        "one question p50/p99 ms",
        "search SciFact p50/p99 ms",
        "search library p50/p99 ms",
        "search library + reranker p50/p99 ms",
    ]
    for pool in pools:
        served_by = f", {pool} search process{'es' if pool > 1 else ''}" if pool else ""
        head += [f"HTTP {n} client{'s' if n > 1 else ''}{served_by} p50/p99 ms (req/s, errors)" for n in clients]
    head += [f"server RSS MiB{f' with {pool} search processes' if pool else ''} (start / end)" for pool in pools]
    head += ["SciFact nDCG@10"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for rt, row in rows.items():
        rate = row["rate"]
        cells = [rt, f"{rate:.1f}" + (f" ({rate / base:.2f}x)" if base else "")]
        cells += [spread(row["one"]), spread(row["scifact"]), spread(row["paper"]), spread(row["reranked"])]
        for pool in pools:
            for n in clients:
                s = row["http"][(pool, n)]
                cells.append(f"{spread(s['ms'])} ({s['requests'] / s['seconds']:.0f}, {s['errors']})")
        for pool in pools:
            memory = row["memory"][pool]
            cells.append(f"{memory['rss_start']:.0f} / {memory['rss_end']:.0f}")
        cells.append(f"{row['ndcg']:.4f}")
        print("| " + " | ".join(cells) + " |")
    for rt, row in rows.items():
        if row["reason"]:
            print(f"\n{rt}: {row['reason']}", end="")
    print(f"\n\nload average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print(f"reproduce: nice -n -10 .venv/bin/python bench/speed.py{flags}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtimes", nargs="+", default=None)
    parser.add_argument("--http-seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--search-processes",
        type=int,
        default=2,
        help="also serve each runtime with this many search processes (PQA_SEARCH_PROCESSES; default %(default)s, "
        "0: only the serving process)",
    )
    parser.add_argument("--data", type=Path, default=DATA, help="a BEIR folder (default: SciFact)")
    parser.add_argument("--avx2", action="store_true", help="cap the instruction set at AVX2 (bench/machine.py)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.avx2:
        cap_at_avx2()  # inherited by the workers and the servers
    if args.worker:
        worker(args.worker, args.folder, args.data)
        return
    from index.cpu import cpu_has_bf16, cpu_suits_ort_int8, cpu_suits_w8a8

    started = time.perf_counter()
    runtimes = args.runtimes or ["pytorch", "openvino-fp32", "openvino-int8"]
    if args.runtimes is None and cpu_has_bf16() and not args.avx2:
        runtimes.append("openvino-bf16")
    if args.runtimes is None and cpu_suits_w8a8():  # false under --avx2's cap
        runtimes.append("openvino-w8a8")
    # ONNX Runtime's kernels (MLAS) do not honour --avx2's cap: where the CPU has more, they would run AVX-512
    if args.runtimes is None and cpu_suits_ort_int8() and not args.avx2:
        runtimes.append("onnxruntime-int8")
    pools = [0, args.search_processes] if args.search_processes else [0]
    rows = measure(runtimes, args.clients, args.http_seconds, args.data, pools)
    print_table(rows, args.clients, pools, " --avx2" if args.avx2 else "")
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
