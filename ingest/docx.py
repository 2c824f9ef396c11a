"""Word .docx -> blocks, with python-docx. Runs in the sandbox's worker (a .docx is a ZIP: it can be a bomb).

Paragraph styles give the structure: "Title" and "Heading N" are headings, the rest text. Word numbers
list paragraphs itself, so their numbers are not in the text: they are rebuilt from the numbering part as
Word shows them (`numbering`: start overrides, restarts, formats and level texts, numbering that goes on
across headings), and a bulleted paragraph is a list item. Footnotes and endnotes come from their parts
(`notes`), each as a footnote block after the paragraph that first calls it. Tables are read row by row,
cells joined by " | ". Comments and text boxes are not read.

The core properties give the title, the author and the date created, when the package has that part: python-docx
makes one up where it is missing ("Word Document"), and a file saved from its default template says it was written
by "python-docx" on 2013-12-23; neither is the document's. The author is a person or an office, not a publisher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from index.records import FootnoteCall

from .blocks import Block
from .errors import IngestError
from .language import detect
from .notes import Notes, calls_of, paragraph_text
from .numbering import ListNumbering

_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"]
_PARTS = {
    "numbering": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering",
    "footnotes": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes",
    "endnotes": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/endnotes",
    "settings": "http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings",
}
_PARTS_OF_NOTES = ("footnotes", "endnotes", "settings")
_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
# What python-docx writes of itself: its default template's author and creation time, and the part it makes up
_TEMPLATE_AUTHOR = "python-docx"
_TEMPLATE_CREATED = datetime(2013, 12, 23, 23, 15, tzinfo=UTC)
_MADE_UP_TITLE = "Word Document"


def extract_docx(
    request: tuple[str], report: Callable[[int, int], None] | None = None
) -> tuple[list[Block], dict[str, str]]:
    """Blocks of the .docx at `path` and its core properties (title, author, created)."""
    (path,) = request
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise IngestError("python-docx is not installed; run: pip install python-docx") from exc
    try:
        document = docx.Document(path)
        parts = _parts(document)
        reader = _Reader(ListNumbering(parts.get("numbering")), Notes.read(*map(parts.get, _PARTS_OF_NOTES)))
        blocks = list(reader.blocks(document))
    except PackageNotFoundError:
        raise IngestError("not a Word .docx package; save it as .docx (Word 2007 or later) and ingest again") from None
    except Exception as exc:  # the worker's boundary: any python-docx failure is one line in the report
        raise IngestError(f"python-docx cannot read it ({type(exc).__name__}: {exc}); re-save it in Word") from None
    if report is not None:
        report(1, 1)
    return blocks, _properties(document)


def _parts(document: Any) -> dict[str, bytes]:
    """The XML of the document's numbering, footnotes, endnotes and settings parts, where it has them."""
    found = {}
    for rel in document.part.rels.values():
        for name, reltype in _PARTS.items():
            if rel.reltype == reltype and not rel.is_external:
                found[name] = bytes(rel.target_part.blob)
    return found


class _Reader:
    def __init__(self, numbering: ListNumbering, notes: Notes) -> None:
        self.numbering = numbering
        self.notes = notes
        self.fallback: dict[tuple[str, int], int] = {}  # counters of lists the numbering part does not define
        self.emitted: set[str] = set()

    def blocks(self, document: Any) -> Iterator[Block]:
        for item in document.iter_inner_content():
            if hasattr(item, "rows"):
                for row in item.rows:
                    text = " | ".join(paragraph_text(cell._tc)[0] for cell in row.cells)
                    if text.strip(" |"):
                        yield Block("text", text, language=detect(text))
                continue
            yield from self._paragraph(item)

    def _paragraph(self, paragraph: Any) -> Iterator[Block]:
        text, raw_calls = paragraph_text(paragraph._p, self.notes)
        if not text:
            return
        calls = calls_of(raw_calls, self.notes)
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = _heading_level(style)
        if level:
            yield Block("heading", text, level=level)
        else:
            marker = self._marker(paragraph)
            if marker:
                text = f"{marker} {text}"
                calls = tuple(FootnoteCall(c.offset + len(marker) + 1, c.number) for c in calls)
            yield Block("text", text, calls=calls, language=detect(text), item=marker == "")
        for kind, note_id, _ in raw_calls:
            number = self.notes.number(kind, note_id)
            note = self.notes.texts.get((kind, note_id))
            if note and f"{kind}-{note_id}" not in self.emitted:
                self.emitted.add(f"{kind}-{note_id}")
                yield Block("footnote", note, number=number, label=f"{kind} {number}", language=detect(note))

    def _marker(self, paragraph: Any) -> str | None:
        """The number Word shows before a list paragraph ("7.", "(a)"); "" for a bullet; None if not in a list."""
        style_numbering = paragraph.style.element.pPr if paragraph.style is not None else None
        properties = paragraph._p.pPr
        numbering = properties.numPr if properties is not None and properties.numPr is not None else None
        if numbering is None and style_numbering is not None:
            numbering = style_numbering.numPr  # "List Number" paragraphs take their numbering from the style
        if numbering is None or numbering.numId is None or str(numbering.numId.val) == "0":
            return None
        list_id = str(numbering.numId.val)
        level = int(numbering.ilvl.val) if numbering.ilvl is not None else 0
        marker = self.numbering.marker(list_id, level)
        return marker if marker is not None else self._default(list_id, level)

    def _default(self, list_id: str, level: int) -> str:
        """A list the numbering part does not define: "1.", then "(a)", then "(i)", as Word's default list shows."""
        for key in [k for k in self.fallback if k[0] == list_id and k[1] > level]:
            del self.fallback[key]
        count = self.fallback.get((list_id, level), 0) + 1
        self.fallback[(list_id, level)] = count
        letter = chr(ord("a") + (count - 1) % 26)
        return (f"{count}.", f"({letter})", f"({_ROMAN[(count - 1) % len(_ROMAN)]})")[min(level, 2)]


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        tail = style.removeprefix("Heading ").strip()
        return int(tail) if tail.isdigit() else 1
    return 0


def _properties(document: Any) -> dict[str, str]:
    """Title, author and date from the core properties; nothing where the package has no such part."""
    package = document.part.package
    if not any(rel.reltype == _CORE and not rel.is_external for rel in package.rels.values()):
        return {}  # reading `core_properties` would make one up, titled "Word Document"
    core = document.core_properties
    made_up = core.title == _MADE_UP_TITLE and core.last_modified_by == _TEMPLATE_AUTHOR
    created = core.created
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    values = {
        "title": "" if made_up else core.title,
        "author": "" if core.author == _TEMPLATE_AUTHOR else core.author,
        "date": created.date().isoformat() if created and created != _TEMPLATE_CREATED else "",
    }
    return {k: str(v).strip() for k, v in values.items() if v and str(v).strip()}
