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

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from index.records import Document, DocumentInfo, Passage
from index.unicode import unicode_problem

from .discovery import SIDECAR_SUFFIX, Failure, Source, discover, failure, name_of, read_sidecar, sidecar_for
from .errors import IngestError
from .formats import PARSERS, FileJob, Parsed, parse_file
from .inline import slug
from .sandbox import Limits, run_limited
from .selection import select

# Change whenever parsing changes what passages a file gives, so unchanged files are parsed again.
PARSER_VERSION = 3
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
    "read_sidecar",
    "sidecar_for",
]


def load(source: Source, limits: Limits | None = None, progress: Callable[[int, int], None] | None = None) -> Document:
    """Parse one source into a Document, in a worker under `limits`. Raises IngestError with the reason."""
    limits = limits or Limits()
    fmt = PARSERS[source.path.suffix.lower()][0]
    job = FileJob(str(source.path), source.document_id, _str(source.metadata.get("title")), limits)
    parsed = run_limited(parse_file, job, limits, progress)
    passages, set_aside = select(parsed.passages, source.metadata)
    if not any(p.searchable for p in passages):
        raise IngestError("no text to index was found in it")
    _check_unicode(parsed)
    info = _info(source, fmt, replace(parsed, passages=passages))
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


def _info(source: Source, fmt: str, parsed: Parsed) -> DocumentInfo:
    """Sidecar metadata first, then what the file says about itself."""
    meta = {**parsed.metadata, **{k: v for k, v in source.metadata.items() if v is not None}}
    passages = parsed.passages
    year = meta.get("year") or (str(meta["date"])[:4] if meta.get("date") else None)
    languages = Counter(p.language for p in passages if p.language and p.searchable)
    if not meta.get("language") and languages:
        meta["language"] = languages.most_common(1)[0][0]
    shared = sorted(code for code, n in languages.items() if n >= 0.2 * sum(languages.values()))
    meta.pop("languages", None)  # the sidecar's choice of languages, not a fact about the text
    if len(shared) > 1:
        meta["languages"] = ", ".join(shared)
    known = {
        "title",
        "body",
        "session",
        "symbol",
        "date",
        "year",
        "language",
        "source_url",
        "url",
        "status",
        "publisher",
        "id",
        "short_title",
        "aliases",
        "exclude",
        "note",
    }
    return DocumentInfo(
        id=source.document_id,
        title=str(meta.get("title") or _first_heading(passages) or name_of(source.path)),
        source=str(source.path),
        sha256=source.sha256,
        format=fmt,
        body=_str(meta.get("body")),
        session=_str(meta.get("session")),
        symbol=_str(meta.get("symbol")),
        date=_str(meta.get("date")),
        year=int(year) if year is not None and str(year).isdigit() else None,
        language=_str(meta.get("language")),
        source_url=_str(meta.get("source_url") or meta.get("url")),
        status=_str(meta.get("status")),
        publisher=_str(meta.get("publisher")),
        pages=parsed.pages or max((p.page for p in passages if p.page is not None), default=None),
        short_title=_str(meta.get("short_title")),
        aliases=_aliases(meta.get("aliases")),
        extra={k: str(v) for k, v in meta.items() if k not in known and isinstance(v, str | int | float)},
    )


def load_all(
    sources: Sequence[Source], progress: Progress | None = None, limits: Limits | None = None
) -> tuple[list[Document], list[Failure]]:
    """Parse every source; a source that fails becomes a Failure and the others go on.

    `progress(stage, done, total)` hears "documents" once per file and, for PDFs, the file's
    name once per page.
    """
    report = progress or (lambda *_: None)
    documents: list[Document] = []
    failures: list[Failure] = []
    for done, source in enumerate(sources):
        report("documents", done, len(sources))
        name = source.path.name

        def pages(page: int, total: int, name: str = name) -> None:
            report(name, page, total)

        try:
            documents.append(load(source, limits, pages))
        except IngestError as exc:
            failures.append(failure(source.path, str(exc)))
    report("documents", len(sources), len(sources))
    return documents, failures


def _first_heading(passages: Sequence[Passage]) -> str | None:
    """The first heading that names the document, not one of its units ("Objective 1", "Article 1")."""
    first = next((p for p in passages if p.kind == "heading"), None)
    if first is None or first.anchor != slug(first.text):
        return None  # a unit's heading is anchored by its number ("objective-1"), not by its words
    return first.text


def _aliases(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IngestError('its sidecar\'s "aliases" must be a list of names, e.g. aliases = ["GCM"]')
    return tuple(v.strip() for v in value if v.strip())


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
