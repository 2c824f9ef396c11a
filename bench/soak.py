"""A bounded soak over real HTTP: `pqa serve` on 127.0.0.1, N clients searching for D seconds while the corpus
is re-indexed through the admin endpoint every R seconds; errors, and the server's resident memory over time.

    .venv/bin/python bench/soak.py                    # 300 s, 8 clients, a re-index every 30 s, RSS every 15 s
    .venv/bin/python bench/soak.py --seconds 60       # a shorter check
    .venv/bin/python bench/soak.py --search-processes 2   # answered by 2 search processes (service/pool.py)

Each re-index first rewrites one note in a copy of corpus/, so every job parses, embeds and swaps in a
new generation while the clients search (the golden questions, k=5, one keep-alive connection each).
An error is any answer but 200, a dropped connection, or a re-index job that does not end swapped in.
Memory that levels off is the pass mark: the last rows should not keep climbing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import client_loop, questions, serve, targets, tree_rss_mb  # noqa: E402


def cpu() -> str:
    info = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    bf16 = "with avx512_bf16" if "avx512_bf16" in info else "without avx512_bf16"
    return f"{model}, {os.cpu_count()} cores, {bf16}"


class Reindexer:
    """Rewrites a note in the corpus, then re-indexes through POST /api/reindex and waits for the job."""

    def __init__(self, url: str, corpus: Path, token: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.corpus = corpus
        self.results: list[str] = []

    def run_once(self) -> None:
        n = len(self.results) + 1
        note = f"# Soak note\n\n1. Re-index number {n} of the soak test rewrote this note at {time.time():.0f}.\n"
        (self.corpus / "soak-note.md").write_text(note, encoding="utf-8")
        started = self.http.post("/api/reindex")
        if started.status_code != 202:
            self.results.append(f"HTTP {started.status_code}")
            return
        job = started.json()
        deadline = time.monotonic() + 120
        while job["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.5)
            job = self.http.get(f"/api/reindex/{job['id']}").json()
        self.results.append(job["result"] if job["state"] == "done" else f"{job['state']}: {job['error']}")


def sample(url: str, pid: int, started: float, latencies: list[float], errors: list[str], jobs: list[str]) -> str:
    generation = httpx.get(f"{url}/readyz", timeout=10).json().get("generation") or "-"
    swapped = sum(1 for r in jobs if r == "swapped")
    return (
        f"| {time.monotonic() - started:.0f} | {len(latencies)} | {len(errors) + len(jobs) - swapped} | "
        f"{tree_rss_mb(pid):.0f} | {swapped}/{len(jobs)} | {generation} |"
    )


def search(url: str, clients: int, seconds: float, latencies: list[float], errors: list[str]) -> None:
    host, port = url.removeprefix("http://").split(":")
    requests = targets("/api/search", questions(False))
    stop = time.monotonic() + seconds

    async def everyone() -> None:
        await asyncio.gather(
            *(client_loop(host, int(port), requests, n * 7, stop, latencies, errors) for n in range(clients))
        )

    asyncio.run(everyone())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--reindex-every", type=float, default=30.0)
    parser.add_argument("--sample-every", type=float, default=15.0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--search-processes", type=int, default=0, help="PQA_SEARCH_PROCESSES of the server (default 0: none)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index, token = Path(tmp) / "corpus", Path(tmp) / "index", secrets.token_hex(16)
        shutil.copytree(ROOT / "corpus", corpus)
        ingest = [sys.executable, "-m", "service.cli", "ingest", str(corpus), "--index", str(index)]
        subprocess.run(ingest, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = {"PQA_ADMIN_TOKEN": token}  # PQA_SEARCH_PROCESSES: serve() sets it from search_processes
        process = serve(index, args.port, ["--corpus", str(corpus)], env, search_processes=args.search_processes)
        url = f"http://127.0.0.1:{args.port}"
        try:
            soak(url, process.pid, corpus, token, args)
        finally:
            process.terminate()
            process.wait(timeout=30)


def soak(url: str, pid: int, corpus: Path, token: str, args: argparse.Namespace) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    reindexer = Reindexer(url, corpus, token)
    clients = threading.Thread(target=search, args=(url, args.clients, args.seconds, latencies, errors))
    print(f"CPU: {cpu()}")
    print(
        f"{args.clients} clients, {args.seconds:.0f} s, a re-index through POST /api/reindex every "
        f"{args.reindex_every:.0f} s\n"
    )
    print("| seconds | searches | errors | server RSS MiB | re-indexes swapped | generation served |")
    print("|---|---|---|---|---|---|")
    started = time.monotonic()
    print(sample(url, pid, started, latencies, errors, reindexer.results), flush=True)
    clients.start()
    next_sample, next_reindex = args.sample_every, args.reindex_every
    while clients.is_alive():
        now = time.monotonic() - started
        if now >= next_reindex:
            reindexer.run_once()
            next_reindex += args.reindex_every
        if now >= next_sample:
            print(sample(url, pid, started, latencies, errors, reindexer.results), flush=True)
            next_sample += args.sample_every
        time.sleep(0.2)
    if time.monotonic() - started > next_sample - args.sample_every + 2:  # not just sampled
        print(sample(url, pid, started, latencies, errors, reindexer.results))
    ordered = sorted(latencies)
    p50, p99 = statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]
    failed_jobs = [r for r in reindexer.results if r != "swapped"]
    print(f"\n{len(latencies)} searches ({len(latencies) / args.seconds:.1f}/s), p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"errors: {len(errors)} searches {sorted(set(errors))}, {len(failed_jobs)} re-indexes {failed_jobs}")
    print(f"re-indexes: {len(reindexer.results)}; load average at the end {os.getloadavg()[0]:.1f}")
    if args.search_processes:
        counts = {
            line.split()[0]: float(line.split()[1])
            for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines()
            if line.startswith("pqa_search_process")
        }
        print(
            f"search processes: {args.search_processes}; answered {counts['pqa_search_process_answers_total']:.0f}, "
            f"handed back {counts['pqa_search_process_declined_total']:.0f}, "
            f"restarted {counts['pqa_search_process_restarts_total']:.0f}"
        )
    print(
        f"reproduce: .venv/bin/python bench/soak.py --seconds {args.seconds:.0f} --clients {args.clients} "
        f"--reindex-every {args.reindex_every:.0f} --search-processes {args.search_processes}"
    )


if __name__ == "__main__":
    main()
