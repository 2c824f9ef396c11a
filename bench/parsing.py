"""Parsing a library one file at a time (the baseline) against several files at once, in one run.

    .venv/bin/python bench/parsing.py [FOLDER ...]    (default: corpus/ and ../shared/data/protection-law-pdfs)

Each folder is parsed by `ingest.library.load_all` with 1 worker and with `parse_workers()` workers (one per
core), alternating, 3 rounds; the best round of each is printed. Both give the same documents (checked here and
in tests/test_ingest_hostile.py); only the wall-clock time differs. Embedding is not part of it: the first
`make run` spends the rest of its time embedding (see `pqa ingest`'s "seconds" line).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from index.records import Document  # noqa: E402
from ingest.library import Failure, Source, discover, load_all, parse_workers  # noqa: E402

DEFAULTS = [ROOT / "corpus", ROOT.parent / "shared" / "data" / "protection-law-pdfs"]
ROUNDS = 3


def timed(sources: list[Source], workers: int) -> tuple[float, tuple[list[Document], list[Failure]]]:
    started = time.perf_counter()
    result = load_all(sources, workers=workers)
    return time.perf_counter() - started, result


def main() -> None:
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    folders = [Path(a) for a in sys.argv[1:]] or [f for f in DEFAULTS if f.is_dir()]
    many = parse_workers()
    print(f"Parsing, 1 worker (baseline) against {many}, best of {ROUNDS} alternating rounds; {describe()}\n")
    print(f"| folder | files | pages | 1 worker s (baseline) | {many} workers s | speed-up |")
    print("|---|---|---|---|---|---|")
    for folder in folders:
        sources, _ = discover([folder])
        best = {1: float("inf"), many: float("inf")}
        results: dict[int, tuple[list[Document], list[Failure]]] = {}
        for _ in range(ROUNDS):
            for workers in (1, many):
                seconds, results[workers] = timed(sources, workers)
                best[workers] = min(best[workers], seconds)
        if results[1] != results[many]:
            raise SystemExit(f"{folder}: parsing in parallel gave other documents than one at a time")
        pages = sum(d.info.pages or 0 for d in results[1][0])
        print(
            f"| {folder.name} | {len(sources)} | {pages} | {best[1]:.1f} | {best[many]:.1f} | "
            f"{best[1] / best[many]:.2f}x |"
        )
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
