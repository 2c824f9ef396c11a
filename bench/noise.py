"""What each document of the library sets aside from search, and the share of its passages cited uniquely.

    .venv/bin/python bench/noise.py [--index DIR]   (default: var/bench/library-index, built by bench/library.py)

One row per document: its searchable passages, the share whose citation (title, label, page) no other searchable
passage of the document shares (the target is 100%; tests/test_citations_real.py asserts it), and the passages
set aside by kind (ingest/noise.py, ingest/contents.py, ingest/selection.py): kept for the document view, never
searched.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.records import SET_ASIDE_KINDS, Passage, citation_label  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import Store  # noqa: E402


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "var/bench/library-index")
    args = parser.parse_args(argv)
    snapshot = Snapshot.load(Store(args.index).current())
    by_document: dict[str, list[Passage]] = {}
    for passage in snapshot.passages:
        by_document.setdefault(passage.document_id, []).append(passage)
    kinds = [k for k in SET_ASIDE_KINDS if any(p.kind == k for p in snapshot.passages)]
    print(f"{len(snapshot.documents)} documents, generation {snapshot.generation}\n")
    print("| document | searchable | unique citations | " + " | ".join(kinds) + " | excluded by its sidecar |")
    print("|---|---|---|" + "---|" * (len(kinds) + 1))
    totals: Counter[str] = Counter()
    for document_id, info in sorted(snapshot.documents.items(), key=lambda item: item[1].short_title or item[1].title):
        passages = by_document.get(document_id, [])
        searchable = [p for p in passages if p.searchable]
        citations = Counter(citation_label(p, info.title) for p in searchable)
        unique = sum(1 for p in searchable if citations[citation_label(p, info.title)] == 1)
        aside = Counter(p.kind for p in passages if p.kind in kinds)
        aside["sidecar"] = sum(n for _, n in info.set_aside)  # another language, a page range left out
        totals.update(aside)
        totals["searchable"] += len(searchable)
        totals["unique"] += unique
        share = f"{unique / len(searchable):.1%}" if searchable else "-"
        name = (info.short_title or info.title)[:60]
        cells = [str(aside[k]) for k in (*kinds, "sidecar")]
        print(f"| {name} | {len(searchable)} | {share} | " + " | ".join(cells) + " |")
    share = f"{totals['unique'] / totals['searchable']:.1%}" if totals["searchable"] else "-"
    cells = [str(totals[k]) for k in (*kinds, "sidecar")]
    print(f"| all | {totals['searchable']} | {share} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
