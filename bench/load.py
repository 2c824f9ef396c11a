"""A bounded load test over real HTTP: `pqa serve` on 127.0.0.1, N concurrent clients for D seconds.

    .venv/bin/python bench/load.py                      # the paper, 8 and 32 clients, 60 s each
    .venv/bin/python bench/load.py --scifact --duration 60

Prints throughput, p50, p99 and errors per run, and the server's resident memory. The SciFact index (5,183
abstracts) is built once with the real model and kept in bench/.cache/scifact-index. The baseline row is
/healthz under the same load: the cost of HTTP itself on this machine, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCIFACT = ROOT.parent / "shared" / "data" / "beir-scifact"
CACHE = ROOT / "bench" / ".cache"


def paper_index(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "service.cli", "ingest", str(ROOT / "corpus"), "--index", str(folder)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return folder


def scifact_index() -> Path:
    """SciFact's abstracts as one document each (one passage), built once and kept in bench/.cache."""
    from index.build import write_generation
    from index.embedder import load_embedder
    from index.records import Document, DocumentInfo, Passage, sha256_text
    from index.store import Store

    folder = CACHE / "scifact-index"
    if (folder / "CURRENT").exists():
        return folder
    documents = []
    for line in (SCIFACT / "corpus.jsonl").read_text().splitlines():
        row = json.loads(line)
        text = f"{row.get('title', '')}. {row['text']}".strip()
        doc_id = f"scifact-{row['_id']}"
        info = DocumentInfo(
            id=doc_id, title=row.get("title") or doc_id, source="beir-scifact", sha256=sha256_text(text), format="beir"
        )
        passage = Passage(document_id=doc_id, anchor="abstract", kind="text", text=text, label="abstract")
        documents.append(Document(info, (passage,)))
    store = Store(folder)
    with store.lock():
        write_generation(
            store, documents, load_embedder(), progress=lambda s, d, t: print(f"\r{s} {d}/{t}", end="", file=sys.stderr)
        )
    print(file=sys.stderr)
    return folder


def questions(scifact: bool) -> list[str]:
    if scifact:
        return [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").read_text().splitlines()][:300]
    golden = (ROOT / "tests" / "data" / "golden.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in golden if line]


async def client_loop(
    client: httpx.AsyncClient,
    path: str,
    qs: list[str],
    offset: int,
    stop: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    i = offset
    while time.monotonic() < stop:
        params = {"q": qs[i % len(qs)], "k": "5"} if path == "/api/search" else None
        started = time.perf_counter()
        try:
            response = await client.get(path, params=params)
            if response.status_code != 200:
                errors.append(str(response.status_code))
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
        latencies.append((time.perf_counter() - started) * 1000)
        i += 1


async def run(url: str, path: str, clients: int, duration: float, qs: list[str]) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        stop = time.monotonic() + duration
        started = time.monotonic()
        await asyncio.gather(*(client_loop(client, path, qs, n * 7, stop, latencies, errors) for n in range(clients)))
        elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(ordered) if ordered else 0.0,
        "p99": ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0,
        "errors": len(errors),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve(index: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PQA_RATE_LIMIT": "0", "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--index", str(index), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("pqa serve did not become ready in 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scifact", action="store_true", help="serve SciFact instead of the paper")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = scifact_index() if args.scifact else paper_index(Path(tmp) / "index")
        process = serve(index, args.port)
        try:
            url = f"http://127.0.0.1:{args.port}"
            qs = questions(args.scifact)
            print(
                f"corpus: {'SciFact' if args.scifact else 'IOM paper'}; {args.duration:.0f} s per run; "
                f"server RSS after start-up {rss_mb(process.pid):.0f} MB\n"
            )
            print("| route | clients | requests | req/s | p50 ms | p99 ms | errors |")
            print("|---|---|---|---|---|---|---|")
            for clients in args.clients:
                for path in ("/healthz", "/api/search"):
                    r = asyncio.run(run(url, path, clients, args.duration, qs))
                    print(
                        f"| {path} | {clients} | {r['requests']:.0f} | {r['rps']:.1f} | {r['p50']:.1f} | "
                        f"{r['p99']:.1f} | {r['errors']:.0f} |"
                    )
            print(f"\nserver RSS after the runs: {rss_mb(process.pid):.0f} MB")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
