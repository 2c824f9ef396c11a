"""What `pqa` shows a person: progress on stderr, one line per stage, and an ingest run's report on stdout."""

from __future__ import annotations

import sys


class _StderrProgress:
    """One line per stage on stderr, redrawn in place on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total == 0:
            return
        if self.tty:
            width = 30
            filled = int(width * done / total)
            end = "\n" if done >= total else ""
            print(f"\r{stage:<22} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr)
        elif done >= total or done == 0:
            print(f"{stage}: {done}/{total}", file=sys.stderr)


def _print_report(report: object) -> None:
    from .report import IngestReport

    assert isinstance(report, IngestReport)
    if report.recovered:
        print(f"recovered: {report.recovered}")
    if report.changed:
        print(f"generation {report.generation} (was {report.previous or 'none'})")
    elif report.rejected:
        print(f"NOT swapped in; still serving generation {report.previous}")
    else:
        print(f"index up to date: generation {report.previous} (nothing changed)")
    print(
        f"documents: {report.documents} ({len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed)"
    )
    print(f"passages: {report.passages}  pages: {report.pages}")
    print(
        f"passages reused: {report.passages_reused}  re-embedded: {report.passages_re_embedded}  "
        f"removed: {report.passages_removed}"
    )
    print(f"texts embedded: {report.embedded}  reused: {report.reused}  seconds: {report.seconds}")
    if report.gate:
        print(f"gate: {report.gate.reason}")
    for document_id, counts in report.set_aside.items():
        if counts:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
            print(f"set aside in {document_id} (kept for the document view, not searched): {kinds}")
    for document_id in report.kept:
        print(f"kept the last good version of {document_id}")
    for failure in report.failures:
        print(f"FAILED {failure.path}: {failure.reason}")
