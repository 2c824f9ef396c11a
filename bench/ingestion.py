"""Ingestion speed over the real protection-law PDFs: parsing pages per second, embedding passages per second.

    .venv/bin/python bench/ingestion.py [FOLDER]    (default ../shared/data/protection-law-pdfs)

Per PDF, in one run: pypdf's plain `extract_text()` in this process (the baseline: no layout, no
worker, no structure), then this project's parse (layout extraction in a limited worker process,
furniture, columns, footnotes, numbering), then embedding the document's searchable passages with
the real model (whole passages, as the index embeds them when they fit the model). Prints one
Markdown table.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.embedder import load_embedder  # noqa: E402
from ingest.library import discover, load  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "protection-law-pdfs"


def plain_seconds(path: Path) -> tuple[int, float]:
    """Pages and seconds of pypdf's plain text extraction, the baseline."""
    from pypdf import PdfReader

    started = time.perf_counter()
    reader = PdfReader(path)
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages), time.perf_counter() - started


def main() -> None:
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    sources, failures = discover([folder])
    embedder = load_embedder()
    embedder.embed_documents(["warm-up"])
    rows = []
    for source in sources:
        pages, plain = plain_seconds(source.path)
        started = time.perf_counter()
        document = load(source)
        parsed = time.perf_counter() - started
        texts = [p.text for p in document.searchable()]
        started = time.perf_counter()
        embedder.embed_documents(texts)
        embedded = time.perf_counter() - started
        rows.append((source.path.name[:48], pages, plain, parsed, len(texts), embedded))
    print(f"{len(rows)} PDFs under {folder}, {len(failures)} not discovered; model {embedder.name}\n")
    print("| PDF | pages | plain pypdf pages/s (baseline) | parse pages/s | passages | embed passages/s |")
    print("|---|---|---|---|---|---|")
    for name, pages, plain, parsed, count, embedded in rows:
        print(f"| {name} | {pages} | {pages / plain:.1f} | {pages / parsed:.1f} | {count} | {count / embedded:.1f} |")
    pages = sum(r[1] for r in rows)
    plain, parsed = sum(r[2] for r in rows), sum(r[3] for r in rows)
    count, embedded = sum(r[4] for r in rows), sum(r[5] for r in rows)
    print(f"| **all** | {pages} | {pages / plain:.1f} | {pages / parsed:.1f} | {count} | {count / embedded:.1f} |")
    print(f"\nparse {parsed:.1f} s (baseline {plain:.1f} s), embed {embedded:.1f} s")


if __name__ == "__main__":
    main()
