"""A Word paragraph's text with its footnote and endnote calls, and the notes themselves (word/footnotes.xml,
word/endnotes.xml).

Word numbers notes itself: the n-th note referenced in the document is footnote n (1, 2, 3 ...); endnotes
count separately and are shown in lower-case roman numerals unless the document's settings say otherwise
(w:endnotePr/w:numFmt). A call (w:footnoteReference, w:endnoteReference) becomes a FootnoteCall at its
offset in the paragraph's clean text, as the PDF and Markdown readers record theirs; a note becomes a
footnote block right after the paragraph that first calls it. Numbering restarted per page or section
(w:numRestart) is not followed: notes are numbered through the document.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field

from index.records import FootnoteCall

from .numbering import W, attribute, format_number

_SKIPPED = frozenset({f"{W}delText", f"{W}instrText", f"{W}footnote", f"{W}endnote"})


@dataclass
class Notes:
    """The notes of one document, and the numbers they get as their calls are read in order."""

    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, w:id) -> the note's text
    formats: dict[str, str] = field(default_factory=lambda: {"footnote": "decimal", "endnote": "lowerRoman"})
    numbers: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def read(cls, footnotes: bytes | None, endnotes: bytes | None, settings: bytes | None) -> Notes:
        notes = cls()
        for kind, xml in (("footnote", footnotes), ("endnote", endnotes)):
            if xml:
                for note in ET.fromstring(xml).findall(f"{W}{kind}"):
                    if attribute(note, "type") in (None, "normal"):
                        text, _ = paragraph_text(note)
                        notes.texts[(kind, attribute(note, "id") or "")] = text
        if settings:
            found = ET.fromstring(settings).find(f"{W}endnotePr/{W}numFmt")
            notes.formats["endnote"] = attribute(found) or notes.formats["endnote"]
            found = ET.fromstring(settings).find(f"{W}footnotePr/{W}numFmt")
            notes.formats["footnote"] = attribute(found) or notes.formats["footnote"]
        return notes

    def number(self, kind: str, note_id: str) -> str:
        """The number Word shows for a note: its place among the notes of its kind called so far."""
        key = (kind, note_id)
        if key not in self.numbers:
            count = sum(1 for k, _ in self.numbers if k == kind) + 1
            self.numbers[key] = format_number(count, self.formats[kind])
        return self.numbers[key]


def paragraph_text(element: ET.Element, notes: Notes | None = None) -> tuple[str, list[tuple[str, str, int]]]:
    """The clean text of a paragraph (or of a note's paragraphs) and its calls: (kind, w:id, offset)."""
    pieces: list[str] = []
    calls: list[tuple[str, str, int]] = []
    length = 0
    for node in _walk(element):
        if node.tag == f"{W}t":
            piece = unicodedata.normalize("NFKC", node.text or "").replace("\u00ad", "")
        elif node.tag in (f"{W}tab", f"{W}br", f"{W}cr", f"{W}p"):
            piece = " "
        elif node.tag in (f"{W}footnoteReference", f"{W}endnoteReference") and notes is not None:
            calls.append((node.tag.removeprefix(W).removesuffix("Reference"), attribute(node, "id") or "", length))
            continue
        else:
            continue
        pieces.append(piece)
        length += len(piece)
    return _collapse("".join(pieces), calls)


def calls_of(calls: list[tuple[str, str, int]], notes: Notes) -> tuple[FootnoteCall, ...]:
    return tuple(FootnoteCall(offset, notes.number(kind, note_id)) for kind, note_id, offset in calls)


def _walk(element: ET.Element) -> Iterator[ET.Element]:
    """The element's descendants in document order, leaving out deleted text, field codes and nested notes."""
    for child in element:
        if child.tag not in _SKIPPED:
            yield child
            yield from _walk(child)


def _collapse(raw: str, calls: list[tuple[str, str, int]]) -> tuple[str, list[tuple[str, str, int]]]:
    """Runs of white space made one space and the text stripped, with the calls' offsets moved to match."""
    out: list[str] = []
    where: list[int] = []  # where[i]: the length of the clean text before raw[i]
    for char in raw:
        where.append(len(out))
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
        else:
            out.append(char)
    where.append(len(out))
    text = "".join(out)
    lead = len(text) - len(text.lstrip())
    clean = text.strip()
    moved = [(kind, note_id, min(max(where[offset] - lead, 0), len(clean))) for kind, note_id, offset in calls]
    return clean, moved
