"""Blocks: the paragraphs, headings and footnotes every format is read into before numbering.

Each format (PDF, HTML, Word, Markdown) produces blocks in reading order; a `PassageBuilder` turns
them into passages: `articles.Numbering` cites them in the document's own numbering, `markdown.Paper`
reads a paper's numbered paragraphs. A block's text is clean reader's text; the numbering marker it
starts with ("1.", "(a)", "20. (1)") is still in it, and `split_markers` reads it off.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from index.records import FootnoteCall, Passage

from .inline import unique

BlockKind = Literal["heading", "text", "footnote", "contents", "break"]  # "break": a page ends (Markdown "---")


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph ("text"), a heading or a footnote, with the page it starts on when the format has pages."""

    kind: BlockKind
    text: str
    page: int | None = None
    page_label: str | None = None
    number: str | None = None  # a footnote's number; a Markdown numbered paragraph's ("7. ...": "7")
    calls: tuple[FootnoteCall, ...] = ()
    level: int = 0  # a heading's level where the format says (Markdown "#", HTML h2, Word "Heading 2")
    margin: bool = False  # a heading printed as a margin note: the title of the unit that follows it
    language: str | None = None
    item: bool = False  # a bulleted list item (the format says so; its bullet is not in the text)
    label: str | None = None  # a footnote's label when the format says what it is ("endnote iii")
    bold: bool = False  # set wholly in bold (a Markdown "**...**" line: a cover line before the first heading)


class PassageBuilder(ABC):
    """Walks a document's blocks in reading order and builds its passages: `feed` is the contract.

    A builder is used once, for one document; `add` and `anchor` are what every builder makes passages with.
    """

    def __init__(self, document_id: str) -> None:
        self.document_id = document_id
        self.passages: list[Passage] = []
        self.anchors: set[str] = set()

    @abstractmethod
    def feed(self, blocks: Iterable[Block]) -> list[Passage]:
        """The document's passages in reading order, headings included (kind "heading"), footnotes linked."""

    @abstractmethod
    def section(self) -> tuple[str, ...]:
        """The section path the next passage is under."""

    def anchor(self, base: str) -> str:
        return unique(base, self.anchors)

    def add(self, block: Block, **values: object) -> int:
        """Append a passage for `block` (its page and language) with `values`; returns its index."""
        values.setdefault("section", self.section())
        passage = Passage(
            document_id=self.document_id,
            order=len(self.passages),
            page=block.page,
            page_label=block.page_label,
            language=block.language,
            **values,  # type: ignore[arg-type]
        )
        self.passages.append(passage)
        return len(self.passages) - 1


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
      | (?P<letterdot>[a-z])(?:[.)](?=\s)|\)(?=[`'"“‘]))  # a.  b)  b)``Illegal entry" (a missing space)
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
