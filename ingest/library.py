"""Files on disk -> Documents: parsing by format, in a worker under limits, and each document's metadata.

A document's metadata comes from a sidecar next to it, `NAME.meta.toml` (for `NAME.md`, `NAME.pdf`...),
when present; every key is optional (see the README). Without one, it comes from the file itself
(a PDF's information dictionary and first page, an HTML page's <title>). A document's id is the
sidecar's `id` or the file's name made into a slug (the folder's name for README.md and index
files), so it stays the same while the file keeps its name (`discovery`).

Every file, whatever its format, is parsed in the sandbox's worker process under the per-file
limits (time, memory, size, pages): a hostile Markdown, HTML or Word file costs what a hostile PDF
does, one line in the report. A file that cannot be ingested becomes a Failure with one line
saying why and what to do; the rest of the batch goes on. Text that is not valid Unicode (a PDF
can map a glyph to a lone surrogate) is refused here, before it reaches the tokenizer or the index.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from index.records import Document
from index.unicode import unicode_problem

from .citations import cite
from .discovery import Failure, Source, discover, failure
from .errors import IngestError
from .formats import PARSERS, FileJob, Parsed, parse_file
from .metadata import describe
from .noise import set_aside as set_aside_noise
from .noise import set_aside_lead_ins
from .sandbox import Limits, run_limited
from .selection import languages_of, select, strip_title_headings
from .sidecar import SIDECAR_SUFFIX, read_sidecar, sidecar_for

# Change whenever parsing changes what passages a file gives, so unchanged files are parsed again.
# 19: Markdown code spans, links and known HTML tags are taken off the text, "_" emphasis at word edges; text
# under a document's title heading is cited "para. N", not by the title again; a Word file without core properties
# is not titled "Word Document", and a file's author is its author, not its publisher;
# 18: a margin note beside only a line or two of a page is a margin note (the Kenyan regulations 28 and 32);
# 17: a preamble glued at commas ("Convention,Noting") is split into its clauses; 16: a document's title lines
# (the Dutch Treaty Series' two titles) are not a section
PARSER_VERSION = 19
Progress = Callable[[str, int, int], None]

__all__ = [
    "PARSERS",
    "PARSER_VERSION",
    "SIDECAR_SUFFIX",
    "Failure",
    "Source",
    "discover",
    "load",
    "load_all",
    "parse_workers",
    "read_sidecar",
    "sidecar_for",
]


def load(source: Source, limits: Limits | None = None, progress: Callable[[int, int], None] | None = None) -> Document:
    """Parse one source into a Document, in a worker under `limits`. Raises IngestError with the reason."""
    limits = limits or Limits()
    fmt = PARSERS[source.path.suffix.lower()][0]
    title = source.metadata.get("title")
    job = FileJob(str(source.path), source.document_id, None if title is None else str(title), limits)
    parsed = run_limited(parse_file, job, limits, progress)
    _check_unicode(parsed)
    passages, set_aside = select(set_aside_noise(parsed.passages, parsed.pages), source.metadata)
    if not any(p.searchable for p in passages):
        raise IngestError("no text to index was found in it")
    info = describe(
        source.path, source.document_id, source.sha256, source.metadata, fmt, replace(parsed, passages=passages)
    )
    passages = cite(passages, info.names)  # labels only: the metadata reads the text, not the labels
    passages = strip_title_headings(passages, info.title, languages_of(source.metadata))
    passages = set_aside_lead_ins(passages)  # once cited: "Preamble, para. 1" stays the lead-in's own citation
    return Document(replace(info, set_aside=tuple(set_aside)), tuple(passages))


def _check_unicode(parsed: Parsed) -> None:
    for passage in parsed.passages:
        fields = (passage.text, passage.label, passage.paragraph or "", passage.page_label or "", *passage.section)
        for text in fields:
            if problem := unicode_problem(text):
                raise IngestError(
                    f"its text is not valid Unicode ({problem} of {passage.label!r}): the file maps a character "
                    "to no real one; re-export it (or save it as UTF-8 text) and ingest again"
                )
    for key, value in parsed.metadata.items():
        if problem := unicode_problem(value):
            raise IngestError(f"its {key} is not valid Unicode ({problem}); fix the file's properties or add a sidecar")


def parse_workers() -> int:
    """How many files are parsed at once by default: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def load_all(
    sources: Sequence[Source],
    progress: Progress | None = None,
    limits: Limits | None = None,
    workers: int | None = None,
) -> tuple[list[Document], list[Failure]]:
    """Parse every source; a source that fails becomes a Failure and the others go on.

    Up to `workers` files (default: `parse_workers()`, one per core) are parsed at once, each in its own
    sandboxed worker process; documents and failures come back in the order of `sources` whatever order
    the parses finish in. `progress(stage, done, total)` hears "documents" once per file, in that order,
    and, for PDFs, the file's name once per page.
    """
    report = progress or (lambda *_: None)
    count = max(1, min(workers or parse_workers(), len(sources)))

    def one(source: Source) -> Document | Failure:
        def pages(page: int, total: int, name: str = source.path.name) -> None:
            report(name, page, total)

        try:
            return load(source, limits, pages)
        except IngestError as exc:
            return failure(source.path, str(exc))

    documents: list[Document] = []
    failures: list[Failure] = []
    report("documents", 0, len(sources))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="parse") as pool:
        # The threads only wait on their worker processes; map() hands results back in the sources' order.
        for done, result in enumerate(pool.map(one, sources), start=1):
            if isinstance(result, Document):
                documents.append(result)
            else:
                failures.append(result)
            report("documents", done, len(sources))
    return documents, failures
