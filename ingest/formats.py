"""One parser per file extension, the checks that a file's bytes are what its extension says, and `parse_file`.

`parse_file` is what the sandbox's worker runs for every format (library.load calls it there, under
the per-file limits): it reads the file within the size limit, checks its bytes and parses it. A
parser returns passages and what the file says about itself (title, publisher, date ...), which the
library uses when there is no sidecar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index.records import Passage

from .articles import Numbering
from .docx import extract_docx
from .errors import IngestError
from .headings import document_style
from .html import parse_html
from .pdf import read_pdf
from .sandbox import Limits
from .text import parse_text

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Request:
    """What a parser gets: the file, its bytes, the document's id and title (from a sidecar), the limits."""

    path: Path
    data: bytes
    document_id: str
    title: str | None
    limits: Limits = field(default_factory=Limits)
    progress: Progress | None = None


@dataclass(frozen=True)
class Parsed:
    passages: list[Passage]
    metadata: dict[str, str] = field(default_factory=dict)
    pages: int | None = None


Parser = Callable[[Request], Parsed]


@dataclass(frozen=True)
class FileJob:
    """What the worker needs to parse one file (picklable: no callables)."""

    path: str
    document_id: str
    title: str | None
    limits: Limits


def parse_file(job: FileJob, report: Progress) -> Parsed:
    """Read, check and parse one file; runs in the sandbox's worker. IngestError says why it cannot."""
    path = Path(job.path)
    data = read_limited(path, job.limits)
    check_content(path, data)
    _, parser = PARSERS[path.suffix.lower()]
    return parser(Request(path, data, job.document_id, job.title, job.limits, report))


def read_limited(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_mb * 1024 * 1024:
            raise IngestError(
                f"it is {size / 1048576:,.0f} MB, over the size limit of {limits.max_mb} MB per file; "
                "split it or raise the limit (pqa ingest --max-mb)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read it: {exc.strerror}") from exc
    if not data.strip():
        raise IngestError("the file is empty")
    return data


def decode_text(data: bytes) -> str:
    """UTF-8 text (a BOM allowed); IngestError naming the first bad byte otherwise."""
    if b"\x00" in data[:8192]:
        raise IngestError("it holds binary data, not text; check the file or give it its right extension")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}); save it as UTF-8 and ingest again"
        ) from None


def check_content(path: Path, data: bytes) -> None:
    """Refuse a file whose bytes contradict its extension, saying what it seems to be."""
    suffix = path.suffix.lower()
    head = data[:1024]
    if suffix == ".pdf":
        if b"%PDF-" not in head:
            raise IngestError(
                f"not a PDF (it starts with {data[:12]!r}); check the file or give it its right extension"
            )
    elif suffix == ".docx":
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise IngestError("an old binary Word .doc renamed .docx; save it as .docx in Word and ingest again")
        if not data.startswith(b"PK\x03\x04"):
            raise IngestError(f"not a Word .docx (it starts with {data[:12]!r}); save it as .docx and ingest again")
    elif head.lstrip().startswith(b"%PDF-"):
        raise IngestError(f"it is a PDF named {path.suffix}; rename it to .pdf and ingest again")
    elif data.startswith(b"PK\x03\x04"):
        raise IngestError(f"it is a ZIP archive (a .docx?) named {path.suffix}; give it its right extension")


def _markdown(request: Request) -> Parsed:
    return Parsed(parse_text(decode_text(request.data), request.document_id, request.title))


def _html(request: Request) -> Parsed:
    passages, metadata = parse_html(decode_text(request.data), request.document_id, request.title)
    return Parsed(passages, metadata)


def _pdf(request: Request) -> Parsed:
    parsed = read_pdf(request.path, request.document_id, request.title, request.limits.max_pages, request.progress)
    return Parsed(parsed.passages, parsed.metadata, parsed.pages)


def _docx(request: Request) -> Parsed:
    blocks, metadata = extract_docx((str(request.path),), request.progress)
    title = request.title or metadata.get("title")
    passages = Numbering(request.document_id, document_style(blocks, title)).feed(blocks)
    return Parsed(passages, metadata)


PARSERS: dict[str, tuple[str, Parser]] = {
    ".md": ("markdown", _markdown),
    ".markdown": ("markdown", _markdown),
    ".txt": ("text", _markdown),
    ".pdf": ("pdf", _pdf),
    ".html": ("html", _html),
    ".htm": ("html", _html),
    ".docx": ("docx", _docx),
}
