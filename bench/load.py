"""A bounded load test over real HTTP: `pqa serve` on 127.0.0.1, N concurrent clients for D seconds.

    .venv/bin/python bench/load.py                      # the paper, 8 and 32 clients, 60 s each
    .venv/bin/python bench/load.py --scifact --duration 60

Prints throughput, p50, p99, errors and questions embedded per model call (concurrent questions share one
batch) per run, and the server's resident memory. The SciFact index (5,183
abstracts) is built once with the real model and kept in bench/.cache/scifact-index. The baseline row is
/healthz under the same load: the cost of HTTP itself on this machine, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402

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
    from index.build import build_snapshot, commit_snapshot
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

        def progress(stage: str, done: int, total: int) -> None:
            print(f"\r{stage} {done}/{total}", end="", file=sys.stderr)

        snapshot, _, _ = build_snapshot(documents, load_embedder(), progress=progress)
        commit_snapshot(store, snapshot, documents, progress=progress)
    print(file=sys.stderr)
    return folder


def questions(scifact: bool) -> list[str]:
    if scifact:
        return [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").read_text().splitlines()][:300]
    golden = (ROOT / "tests" / "data" / "golden.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in golden if line]


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator should be.

    The clients share the server's 2 cores, so every millisecond they spend is one the server does not
    get: httpx spends about 3 ms of CPU per request here, this about a tenth of that. Responses must be
    200 with a Content-Length (uvicorn's JSON responses are); anything else counts as an error.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: " + self.host.encode() + b"\r\n\r\n")
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            await self.close()
            raise ValueError("response without Content-Length")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def targets(path: str, qs: list[str]) -> list[bytes]:
    if path != "/api/search":
        return [path.encode()]
    return [f"{path}?{urlencode({'q': q, 'k': 5})}".encode() for q in qs]


async def client_loop(
    host: str,
    port: int,
    requests: list[bytes],
    offset: int,
    stop: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    connection = Connection(host, port)
    i = offset
    try:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status, body = await connection.get(requests[i % len(requests)])
                if status != 200 or not body.startswith(b"{"):
                    errors.append(str(status))
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                errors.append(type(exc).__name__)
                await connection.close()
            latencies.append((time.perf_counter() - started) * 1000)
            i += 1
    finally:
        await connection.close()


async def run(url: str, path: str, clients: int, duration: float, qs: list[str]) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    host, port = url.removeprefix("http://").split(":")
    requests = targets(path, qs)
    stop = time.monotonic() + duration
    started = time.monotonic()
    await asyncio.gather(
        *(client_loop(host, int(port), requests, n * 7, stop, latencies, errors) for n in range(clients))
    )
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(ordered) if ordered else 0.0,
        "p99": ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0,
        "errors": len(errors),
        "latencies": ordered,
    }


def run_loop(url: str, path: str, clients: int, duration: float, qs: list[str]) -> dict[str, Any]:
    try:
        import uvloop  # the server's own event loop; plain asyncio where it is missing

        factory: Any = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(run(url, path, clients, duration, qs))


def embedding_counts(url: str) -> tuple[float, float]:
    """(batches, questions) embedded so far, from the server's /metrics."""
    counts = {"pqa_query_embedding_batches_total": 0.0, "pqa_query_embedding_questions_total": 0.0}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        name, _, value = line.partition(" ")
        if name in counts:
            counts[name] = float(value)
    return counts["pqa_query_embedding_batches_total"], counts["pqa_query_embedding_questions_total"]


def runtime_of(url: str) -> str:
    """The runtime the server says it runs (/readyz)."""
    return str(httpx.get(f"{url}/readyz", timeout=10).json().get("runtime"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_rss_mb(pid: int) -> float:
    """The resident memory of `pid` and every process it started (a server's search processes)."""
    total = rss_mb(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += tree_rss_mb(int(child))
    return total


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def serve(
    index: Path,
    port: int,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    search_processes: int = 0,
) -> subprocess.Popen[bytes]:
    """`pqa serve` on 127.0.0.1:`port` with `args` and `env` added, once it is ready and its `search_processes`
    (PQA_SEARCH_PROCESSES, unless `env` or `args` say otherwise) are too; the question cache is off unless `env`
    turns it on (PQA_QUERY_CACHE)."""
    if listening(port):
        # the readiness poll below would take that server for ours and measure it (an earlier run's, left behind)
        raise SystemExit(f"127.0.0.1:{port} is already taken by another process; stop it or choose another port")
    env = {
        **os.environ,
        "PQA_RATE_LIMIT": "0",
        "HF_HUB_OFFLINE": "1",
        "PQA_QUERY_CACHE": "0",
        "PQA_SEARCH_PROCESSES": str(search_processes),
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--index", str(index), "--port", str(port), *(args or [])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"pqa serve exited with code {process.returncode} before it was ready")
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            pool = ready.json().get("search_processes") or {"ready": 0}
            if ready.status_code == 200 and pool["ready"] >= search_processes:
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
    parser.add_argument("--runtime", default="auto", help="the server's PQA_RUNTIME (default %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = scifact_index() if args.scifact else paper_index(Path(tmp) / "index")
        process = serve(index, args.port, ["--runtime", args.runtime])
        try:
            url = f"http://127.0.0.1:{args.port}"
            qs = questions(args.scifact)
            print(
                f"corpus: {'SciFact' if args.scifact else 'IOM paper'}; {args.duration:.0f} s per run; "
                f"server RSS after start-up {rss_mb(process.pid):.0f} MB\n"
            )
            print("| route | clients | requests | req/s | p50 ms | p99 ms | errors | questions per batch |")
            print("|---|---|---|---|---|---|---|---|")
            for clients in args.clients:
                for path in ("/healthz", "/api/search"):
                    before = embedding_counts(url)
                    r = run_loop(url, path, clients, args.duration, qs)
                    after = embedding_counts(url)
                    batches = after[0] - before[0]
                    per_batch = f"{(after[1] - before[1]) / batches:.1f}" if batches else "-"
                    print(
                        f"| {path} | {clients} | {r['requests']:.0f} | {r['rps']:.1f} | {r['p50']:.1f} | "
                        f"{r['p99']:.1f} | {r['errors']:.0f} | {per_batch} |"
                    )
            print(f"\nserver RSS after the runs: {rss_mb(process.pid):.0f} MB; runtime {runtime_of(url)}")
            print(describe())
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
