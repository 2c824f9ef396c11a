"""The units a document is numbered by (articles, objectives, regulations, numbered paragraphs) and the
containers that hold a second set of them (a protocol after a convention, an annex, a schedule).

A unit in a protocol carries the protocol in its citation ("Protocol No. 4, Article 3"): the protocol
numbers its articles from 1 again, so "Article 3" alone would name two passages. Numbered paragraphs
in an annex or a schedule carry it too ("Schedule, para. 5").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.records import FootnoteCall

from .blocks import Marker, split_markers
from .inline import slug


@dataclass
class Unit:
    kind: str  # article | objective | regulation | paragraph
    word: str  # "Article", "Artikel", "Objective", "regulation", "para."
    number: str
    title: str | None = None
    sub_style: str | None = None
    last: str | None = None  # the value of the last marker that numbered one of its passages
    has_text: bool = False
    container: str | None = None  # "Protocol No. 4": the protocol the unit belongs to

    @property
    def heading(self) -> str:
        name = f"{self.word} {self.number}"
        return f"{name}: {self.title}" if self.title else name

    def cite(self, number: str) -> str:
        """The label of the unit or one of its paragraphs: "Article 3(1)", "Protocol No. 4, Article 2"."""
        name = f"{self.word} {number}"
        return f"{self.container}, {name}" if self.container else name

    def anchor(self, *parts: str) -> str:
        """ "article-33-1", "protocol-no-4-article-2": the words and numbers of the unit, slugged."""
        words = [self.container, *parts] if self.container else list(parts)
        return "-".join(slug(w) for w in words if w)


@dataclass
class Container:
    """A protocol, annex, schedule or appendix: where it starts, what it is called, what kind it is."""

    name: str  # "Protocol No. 4", "Annex II", "Schedule"
    kind: str  # protocol | annex
    level: int = 0  # its heading's level where the format has levels (0: none)


def untitled(unit: Unit, markers: Sequence[Marker], text: str) -> bool:
    """A short line right under a unit's heading with no ending: the unit's title the layout did not set apart."""
    return (
        unit.title is None and not unit.has_text and not markers and len(text) < 120 and not re.search(r"[.;:,]$", text)
    )


_ROMAN = frozenset(("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"))


def marker_style(marker: Marker, current: str | None, last: str | None = None) -> str:
    """A marker's style: in a lettered list, "(i)" or "i." is the letter i right after "(h)" ("(v)" after "(u)",
    "(x)" after "(w)"; any of them when no letter came before); elsewhere it numbers a deeper, roman level.
    """
    if marker.style in ("roman", "letter") and current == "letter" and marker.value in _ROMAN:
        follows = last is None or (len(last) == 1 and len(marker.value) == 1 and ord(marker.value) == ord(last) + 1)
        return "letter" if follows else "roman"
    return marker.style


def drop_first_marker(text: str) -> str:
    _, rest = split_markers(text, limit=1)
    return rest


def shift(text: str, rest: str, calls: tuple[FootnoteCall, ...]) -> tuple[str, tuple[FootnoteCall, ...]]:
    """`rest` (a suffix of `text` after its markers) with the calls' offsets moved to match."""
    cut = len(text) - len(rest)
    return rest, tuple(FootnoteCall(max(0, c.offset - cut), c.number) for c in calls)
