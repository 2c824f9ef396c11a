"""Blocks: the paragraphs, headings and footnotes every format is read into before numbering.

Each format (PDF, HTML, Word, Markdown treaties) produces blocks in reading order; `articles`
turns them into passages cited in the document's own numbering. A block's text is clean reader's
text; the numbering marker it starts with ("1.", "(a)", "20. (1)") is still in it, and
`split_markers` reads it off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from index.records import FootnoteCall

BlockKind = Literal["heading", "text", "footnote", "contents"]


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph ("text"), a heading or a footnote, with the page it starts on when the format has pages."""

    kind: BlockKind
    text: str
    page: int | None = None
    page_label: str | None = None
    number: str | None = None  # a footnote's number
    calls: tuple[FootnoteCall, ...] = ()
    level: int = 0  # a heading's level where the format says (Markdown "#", HTML h2, Word "Heading 2")
    margin: bool = False  # a heading printed as a margin note: the title of the unit that follows it
    language: str | None = None
    item: bool = False  # a bulleted list item (the format says so; its bullet is not in the text)
    label: str | None = None  # a footnote's label when the format says what it is ("endnote iii")


@dataclass(frozen=True, slots=True)
class Marker:
    """A numbering marker at a paragraph's start: its style and its value ("1." -> ("dot", "1"))."""

    style: str  # dot "1." | paren "(1)" | letter "(a)"/"a." | upper "A." | roman "(i)"
    value: str


_MARKER = re.compile(
    r"""^(?:
        (?P<dot>\d{1,3}(?:\.\d{1,2})?)[.)](?=\s|\(|$|[A-Z][a-z])  # 1.  7)  1.1.  "8.An" (a missing space)
      | \((?P<paren>\d{1,3}[a-z]?)\)                    # (1) (2a)
      | \((?P<roman>(?:i{1,3}|iv|vi{0,3}|ix|x{1,2}))\)  # (i) (iv) (x)
      | \((?P<letter>[a-z]{1,2})\)                      # (a) (aa)
      | (?P<letterdot>[a-z])[.)](?=\s)                  # a.  b)
      | (?P<upper>[A-Z])\.(?=\s|\()                     # A.  B.(1)
    )\s*""",
    re.VERBOSE,
)


def split_markers(text: str, limit: int = 2) -> tuple[list[Marker], str]:
    """The numbering markers at the start of `text` (at most `limit`) and the text after them.

    "20. (1) An asylum application ..." -> [dot 20, paren 1], "An asylum application ...".
    """
    markers: list[Marker] = []
    rest = text
    while len(markers) < limit:
        match = _MARKER.match(rest)
        if match is None:
            break
        style = next(name for name, value in match.groupdict().items() if value is not None)
        value = match.group(style)
        markers.append(Marker({"letterdot": "letter"}.get(style, style), value))
        rest = rest[match.end() :]
    return markers, rest
