"""Helpers for the ingestion tests: PDFs written with pypdf, and the real PDFs parsed once per session."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from index.records import Document, Passage
from ingest.library import discover, load

from .conftest import SHARED_DATA

LAW = SHARED_DATA / "protection-law-pdfs"
PLATFORM = LAW / "migrants-rights-guidance-platform"
CONVENTION = PLATFORM / "1951-Refugee Convention-1967-protocol (UNHCR Mandate).pdf"
DUBLIN = PLATFORM / "DUBLIN REGULATIONS.pdf"
CHARTER = PLATFORM / "CHARTER OF FUNDAMENTAL RIGHTS OF THE EUROPEAN UNION.pdf"
KAMPALA = LAW / "fahamu-zako" / "Kampala_Convention.pdf"
KENYA = LAW / "global-refugee-rights-agent" / "THE-REFUGEES-GENERAL-REGULATIONS-2024.pdf"

# (x, y, font size, text) in points, y from the bottom of an A4 page
Placed = tuple[float, float, float, str]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(
    path: Path, pages: Sequence[Sequence[Placed]], *, rotate: int = 0, to_unicode: bytes | None = None
) -> Path:
    """A PDF whose pages show `pages`' text in Helvetica where it is placed; pages with nothing are blank.

    `to_unicode` is a ToUnicode CMap for the font: what text extraction makes of its bytes.
    """
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    if to_unicode is not None:
        cmap = DecodedStreamObject()
        cmap.set_data(to_unicode)
        font[NameObject("/ToUnicode")] = writer._add_object(cmap)
    font_ref = writer._add_object(font)
    for placed in pages:
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
        operations = "".join(f"BT /F1 {s:g} Tf {x:g} {y:g} Td ({_escape(t)}) Tj ET\n" for x, y, s, t in placed)
        stream = DecodedStreamObject()
        stream.set_data(operations.encode("cp1252"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        if rotate:
            page.rotate(rotate)
    with path.open("wb") as out:
        writer.write(out)
    return path


def paragraph_lines(text: str, x: float, y: float, size: float = 11, width: int = 80) -> list[Placed]:
    """`text` wrapped at `width` characters into lines placed downwards from (x, y)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return [(x, y - i * size * 1.3, size, line) for i, line in enumerate(lines)]


@cache
def real(path: Path) -> Document:
    """A real PDF from the shared data, ingested once per test session."""
    sources, failures = discover([path])
    assert failures == [] and len(sources) == 1
    return load(sources[0])


def passage(document: Document, label: str) -> Passage:
    """The one searchable passage of `document` cited as `label`."""
    found = [p for p in document.passages if p.label == label and p.kind != "heading"]
    assert len(found) == 1, f"{label}: {[(p.anchor, p.page) for p in found]}"
    return found[0]
