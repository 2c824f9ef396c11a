"""Resident memory of a service process after start-up: the model on one runtime plus one index generation.

    .venv/bin/python bench/memory.py --index DIR [--runtime RUNTIME]

Run as its own process (bench/scifact.py starts it once per runtime) so nothing else inflates the
number. Loads what the service loads at start-up, answers one question, prints JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--runtime", default="auto", help="auto, openvino, openvino-bf16/int8/fp32 or pytorch")
    args = parser.parse_args()
    started = time.perf_counter()
    from index.embedder import load_embedder
    from index.search import Searcher
    from index.snapshot import Snapshot
    from index.store import Store

    embedder = load_embedder(runtime=args.runtime)
    snapshot = Snapshot.load(Store(args.index).current())
    searcher = Searcher(snapshot, embedder)
    searcher.search("How does IOM define protection?", k=5)
    print(
        json.dumps(
            {
                "runtime": embedder.runtime,
                "passages": len(snapshot.searchable),
                "rss_mib": round(status_kib("VmRSS") / 1024, 1),
                "peak_mib": round(status_kib("VmHWM") / 1024, 1),
                "start_s": round(time.perf_counter() - started, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
