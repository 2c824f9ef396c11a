"""Frozen records of a PDF's text as laid out on its pages: what the extraction worker sends back.

A `Line` is text at one height of the page, split into `pieces` wherever a wide gap separates
them (a column gutter, a margin note, a table cell). Coordinates are PDF points; `y` grows upwards
as in PDF space, so the top line of a page has the largest `y`. Pages are numbered from 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CALL_OPEN, CALL_CLOSE = "\ue000", "\ue001"  # private-use marks around a superscript number in a piece's text


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text on a line, from `x0` to `x1`, in a font `size` points high."""

    x0: float
    x1: float
    text: str
    size: float = 10.0


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a page: its height on the page, its font size and its pieces from left to right.

    `column` is 0 for a line across the page, 1 or 2 for the left or right column of a two-column
    stretch; `margin` marks a note printed in a narrow side column (a regulation's marginal title).
    """

    y: float
    size: float
    pieces: tuple[Piece, ...]
    column: int = 0
    margin: bool = False

    @property
    def x0(self) -> float:
        return self.pieces[0].x0

    @property
    def x1(self) -> float:
        return self.pieces[-1].x1

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.pieces)


@dataclass(frozen=True, slots=True)
class PageText:
    """The lines of one page, top to bottom, with the page label the PDF declares (None if none)."""

    number: int
    lines: tuple[Line, ...]
    label: str | None = None
    width: float = 0.0


@dataclass(frozen=True, slots=True)
class PdfText:
    """All the pages of a PDF and its document information (title, author ... as plain strings)."""

    pages: tuple[PageText, ...]
    metadata: dict[str, str] = field(default_factory=dict)
    decrypted: bool = False
    declared_labels: bool = False
