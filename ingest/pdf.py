"""PDF -> passages: extraction, then furniture, columns, paragraphs and numbering.

`read_pdf` is the whole pipeline for one file, run in the sandbox's worker like every format
(library.load); `structure` is everything after extraction (tests feed it PdfText directly).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from index.records import Passage

from .articles import Numbering
from .blocks import Block
from .columns import read_columns
from .errors import IngestError
from .extraction import extract_pdf
from .footnotes import rejoin_brackets
from .furniture import strip_furniture
from .headings import document_style
from .language import detect, majority
from .pages import PdfText
from .paragraphs import Paragrapher, TextLine, body_size, text_line
from .typography import vocabulary

NO_TEXT = (
    "no text layer (a scan or images only); OCR is not supported: run OCR on it (e.g. ocrmypdf) and ingest the result"
)
_JUNK_TITLE = re.compile(r"^(microsoft word - |untitled\b)|\.(docx?|pdf|indd)$", re.IGNORECASE)
_SYMBOL = re.compile(r"\b(?:[A-Z]{1,6}/){1,5}[A-Z0-9.()]+\d[A-Z0-9.()]*\b|\((?:EU|EC)\) (?:No )?\d{2,4}/\d{1,4}")
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_DATE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)? (" + "|".join(_MONTHS) + r"),? (\d{4})\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedPdf:
    """A PDF's passages (headings included), the blocks they came from and what its pages say about it."""

    passages: list[Passage]
    blocks: list[Block]
    metadata: dict[str, str]
    pages: int


def read_pdf(
    path: Path, document_id: str, title: str | None, max_pages: int, progress: Callable[[int, int], None] | None = None
) -> ParsedPdf:
    """Extract the PDF at `path` (at most `max_pages` pages), then structure it."""
    return structure(extract_pdf((str(path), max_pages), progress), document_id, title)


def page_lines(pdf: PdfText) -> tuple[list[list[TextLine]], list[str | None], float]:
    """Each page's clean lines in reading order, the pages' labels and the body font size."""
    furnished = strip_furniture(pdf.pages, pdf.declared_labels)
    size = body_size([line for lines in furnished.lines for line in lines])
    pages = []
    for lines in furnished.lines:
        cleaned = (text_line(line) for line in read_columns(rejoin_brackets(lines)))
        pages.append([line for line in cleaned if line is not None])
    return pages, list(furnished.labels), size


def structure(pdf: PdfText, document_id: str, title: str | None) -> ParsedPdf:
    """Positioned lines -> passages cited in the document's numbering, and metadata from its first page."""
    if not any(page.lines for page in pdf.pages):
        raise IngestError(NO_TEXT)
    pages, labels, size = page_lines(pdf)
    paragrapher = Paragrapher(size, vocabulary(line.text for lines in pages for line in lines))
    for page, lines, label in zip(pdf.pages, pages, labels, strict=True):
        paragrapher.add_page(page.number, label, lines)
    blocks = [replace(b, language=detect(b.text)) for b in paragrapher.blocks()]
    if not any(b.kind != "heading" for b in blocks):
        raise IngestError(NO_TEXT)
    metadata = describe(pdf, pages, title)
    first_page = " ".join(line.text for line in next((lines for lines in pages if lines), []))
    style = document_style(blocks, f"{metadata.get('title', '')} {first_page}")
    passages = Numbering(document_id, style).feed(blocks)
    language = majority(p.language for p in passages if p.kind != "heading")
    if language:
        metadata["language"] = language
    return ParsedPdf(passages, blocks, metadata, len(pdf.pages))


def describe(pdf: PdfText, pages: Sequence[Sequence[TextLine]], title: str | None) -> dict[str, str]:
    """Title, author, symbol and date from the PDF's information dictionary and its first page of text."""
    info = pdf.metadata
    first = next((lines for lines in pages if lines), [])
    out: dict[str, str] = {}
    found = _JUNK_TITLE.sub("", info.get("title", "")).strip()
    named = len(found.split()) >= 3 and not re.search(r"[^\W_]_[^\W_]", found)  # not a file's name ("Report_Final")
    out["title"] = title or (found if named else _largest(first))
    if info.get("author"):
        out["author"] = info["author"]  # a person or an office that saved it ("HARRIS Sarah Lynn"), not a publisher
    text = " ".join(line.text for line in first)
    if symbol := _SYMBOL.search(text):
        out["symbol"] = symbol.group(0)
    if when := _DATE.search(text):
        day, month, year = when.groups()
        out["date"] = date(int(year), _MONTHS.index(month.lower()) + 1, int(day)).isoformat()
    elif created := re.match(r"D:(\d{4})", info.get("creationdate", "")):
        out["pdf_created_year"] = created.group(1)
    return {k: v for k, v in out.items() if v}


def _largest(lines: Sequence[TextLine]) -> str:
    """The first page's text in its largest font: usually the title."""
    if not lines:
        return ""
    biggest = max(line.size for line in lines)
    return " ".join(line.text for line in lines if line.size >= biggest - 0.5)[:300]
