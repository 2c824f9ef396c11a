"""Running headers, footers and page numbers: found by repetition and position, dropped, read as labels.

A piece of text near the top or bottom of a page is furniture when the same text (digits aside,
letter-spacing undone) comes back at the same height on many pages. Only those occurrences are
dropped: the same words elsewhere on a page, or at another height, are body text and stay (a
page whose first line happens to read like the running header keeps it). The numbers in the
dropped furniture that keep a constant offset from the physical page number are the printed
page numbers ("30" on physical page 32), used as page labels when the PDF declares none.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .pages import CALL_OPEN, Line, PageText, Piece
from .typography import normalise, unspace

EDGE = 4  # lines at the top and at the bottom of a page that may be furniture
Y_TOLERANCE = 3.0  # points
_NUMBER = re.compile(r"(?<![\d.])(\d{1,4})(?![\d.]*\d)")


@dataclass(frozen=True, slots=True)
class Furnished:
    """Pages without their furniture, the printed page label of each (None if none) and what was dropped."""

    lines: tuple[tuple[Line, ...], ...]
    labels: tuple[str | None, ...]
    dropped: tuple[tuple[str, ...], ...]


def key(text: str) -> str:
    """What stays the same in a running header from page to page: letters, with every number as '#'.

    Text with few letters besides its numbers ("OJ L 50, p. 1", a footnote) gets no loose key: its
    exact digits must repeat. A bare number keeps its punctuation ("#", "#/#", "(#)"), so a page
    number "10/81" is not confused with a footnote's "(37)".
    """
    exact = _flat(text)
    loose = re.sub(r"\d+", "#", exact)
    letters = sum(1 for c in loose if c.isalpha())
    if letters == 0:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", normalise(text))) or "#"
    return loose if letters >= 6 else exact


def _flat(text: str) -> str:
    return re.sub(r"[^a-z0-9#]+", "", normalise(unspace(text)).lower()) or "#"


def _edges(page: PageText) -> list[Line]:
    """The top and bottom lines of a page, less footnotes (a line that starts with a superscript number)."""
    lines = sorted(page.lines, key=lambda line: -line.y)
    edges = lines[:EDGE] + lines[max(EDGE, len(lines) - EDGE) :]
    return [line for line in edges if not line.pieces[0].text.lstrip().startswith(CALL_OPEN)]


def _running(pages: Sequence[PageText]) -> dict[str, float]:
    """Furniture keys and the height they stand at: seen at that height on enough pages.

    A key with letters and varying numbers ("Article 5", "Article 8" at the top of pages) is
    furniture only when its numbers stay the same or move with the page number (a running header
    with the page's number in it), not when they count something else.
    """
    seen: dict[str, list[tuple[int, float, str]]] = defaultdict(list)
    for page in pages:
        for line in _edges(page):
            for piece in line.pieces:
                seen[key(piece.text)].append((page.number, line.y, piece.text))
    needed = max(2, round(0.25 * len(pages))) if len(pages) < 8 else max(3, round(0.2 * len(pages)))
    running: dict[str, float] = {}
    for text_key, hits in seen.items():
        y = float(Counter(round(hit[1]) for hit in hits).most_common(1)[0][0])
        near = [hit for hit in hits if abs(hit[1] - y) <= Y_TOLERANCE]
        if len({hit[0] for hit in near}) >= needed and _steady(text_key, near):
            running[text_key] = y
    return running


def _steady(text_key: str, hits: Sequence[tuple[int, float, str]]) -> bool:
    """Whether the numbers of a header's occurrences are constant or follow the page number.

    A page number moves with the page (one per page, or two on a PDF of two-page spreads); the
    numbers of footnotes or articles that happen to stand at the same height do not.
    """
    if "#" not in text_key or len({_flat(text) for _, _, text in hits}) == 1:
        return True
    numbers = [(page, {int(n) for n in _NUMBER.findall(_without_dates(text))}) for page, _, text in hits]
    for step in (1, 2):
        offsets = Counter(n - step * page for page, found in numbers for n in found)
        for offset, _ in offsets.most_common(2):
            near = sum(
                1 for page, found in numbers if any(n - step * page in (offset, offset + step - 1) for n in found)
            )
            if near >= 0.8 * len(hits):
                return True
    return False


def strip_furniture(pages: Sequence[PageText], declared: bool = False) -> Furnished:
    """Drop running headers, footers and page numbers; label pages with their printed numbers."""
    running = _running(pages) if len(pages) > 1 else {}
    kept_pages: list[tuple[Line, ...]] = []
    dropped_pages: list[tuple[str, ...]] = []
    for page in pages:
        edge_ids = {id(line) for line in _edges(page)}
        kept: list[Line] = []
        dropped: list[str] = []
        for line in page.lines:
            pieces: list[Piece] = []
            for piece in line.pieces:
                y = running.get(key(piece.text))
                if id(line) in edge_ids and y is not None and abs(line.y - y) <= Y_TOLERANCE:
                    dropped.append(piece.text)
                else:
                    pieces.append(piece)
            if len(pieces) == len(line.pieces):
                kept.append(line)
            elif pieces:
                kept.append(Line(line.y, line.size, tuple(pieces), line.column, line.margin))
        kept_pages.append(tuple(kept))
        dropped_pages.append(tuple(dropped))
    labels = [page.label for page in pages] if declared else printed_labels(pages, dropped_pages)
    return Furnished(tuple(kept_pages), tuple(labels), tuple(dropped_pages))


def printed_labels(pages: Sequence[PageText], dropped: Sequence[Sequence[str]]) -> list[str | None]:
    """Printed page numbers: numbers in the dropped furniture that follow the physical page number.

    The number is `page + offset` on most documents, `2 * page + offset` on a PDF of two-page
    spreads (the label is then "8-9").
    """
    numbers = [{int(n) for text in texts for n in _NUMBER.findall(_without_dates(text))} for texts in dropped]
    scores: list[tuple[int, int, int]] = []  # (pages matched, -step, -offset): the left page of a spread first
    for step in (1, 2):
        counts = Counter(n - step * page.number for page, found in zip(pages, numbers, strict=True) for n in found)
        scores.extend((count, -step, -offset) for offset, count in counts.items())
    if not scores or max(scores)[0] < max(2, round(0.3 * len(pages))):
        return [None] * len(pages)
    _, step, offset = max(scores)
    step, offset = -step, -offset
    labels: list[str | None] = []
    for page, found in zip(pages, numbers, strict=True):
        first = step * page.number + offset
        if first not in found:
            labels.append(None)
        elif step == 2 and first - 1 in found:
            labels.append(f"{first - 1}-{first}")
        elif step == 2 and first + 1 in found:
            labels.append(f"{first}-{first + 1}")
        else:
            labels.append(str(first))
    return labels


def _without_dates(text: str) -> str:
    return re.sub(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\b(1[89]|20)\d\d\b", " ", text)
