"""Two-column pages -> lines in reading order: the left column, then the right one.

A gutter is an x position that several lines of the page jump over (it falls in a gap between
two of their pieces) and that almost no line crosses. A line that crosses it (a title over both columns)
cuts the page into stretches, and each stretch is read column by column. A narrow right-hand
column in a smaller font next to a wide one holds margin notes (a regulation's marginal title):
its lines are flagged `margin` and put beside the body line they start next to.

A page where too few lines hold a margin note for a gutter (one regulation's title beside its first two lines)
finds the notes by their smaller type, set apart to the right of the body (margin_edge).

Not handled: three or more columns, columns of unequal height that continue across a crossing
line, and tables (read column by column, like text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from statistics import median

from .pages import Line

MIN_JUMPS = 3  # lines that must jump a gutter
MAX_CROSSING = 0.15  # the share of the page's lines that may cross it (titles, headers)
MARGIN_WIDTH = 0.35  # a right column narrower than this share of the left one may be margin notes
NOTE_SIZE = 0.9  # margin notes are set smaller than this share of the body's font size
NOTE_GAP = 0.5  # and apart from the body's right edge by at least this share of it (a superscript is not)


def find_gutter(lines: Sequence[Line]) -> float | None:
    """The x of the page's column gutter, or None when the page is one column."""
    if len(lines) < MIN_JUMPS + 1:
        return None
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    width = right - left
    gaps = [(a.x1, b.x0) for line in lines for a, b in zip(line.pieces, line.pieces[1:], strict=False)]
    if width <= 0 or not gaps:
        return None
    candidates = {round((a + b) / 2, 1) for a, b in gaps} | {round(a + 0.5, 1) for a, _ in gaps}
    best: tuple[int, int, float] | None = None
    for x in sorted(candidates):
        if not left + 0.1 * width < x < right - 0.05 * width:
            continue
        jumps = sum(1 for line in lines if _jumps(line, x))
        crosses = sum(1 for line in lines if _crosses(line, x))
        if jumps < MIN_JUMPS or crosses > max(1.0, MAX_CROSSING * len(lines)) or crosses >= jumps:
            continue
        if best is None or (jumps, -crosses) > (best[0], best[1]):
            best = (jumps, -crosses, x)
    return best[2] if best else None


def _jumps(line: Line, x: float) -> bool:
    return any(a.x1 <= x <= b.x0 for a, b in zip(line.pieces, line.pieces[1:], strict=False))


def _crosses(line: Line, x: float) -> bool:
    return any(p.x0 < x < p.x1 for p in line.pieces)


def margin_edge(lines: Sequence[Line]) -> float | None:
    """Where a page's margin notes begin when too few of its lines hold one for find_gutter to see a column: the
    x between the body's right edge and words in a smaller font set apart to the right of it (a regulation's
    marginal title beside its first line or two). None when the page has no such words."""
    pieces = [p for line in lines for p in line.pieces]
    if not pieces:
        return None
    body = median(p.size for p in pieces)
    normal = [p for p in pieces if p.size >= NOTE_SIZE * body]
    if not normal:
        return None
    edge = max(p.x1 for p in normal)
    notes = [p for p in pieces if p.size < NOTE_SIZE * body and p.x0 >= edge + NOTE_GAP * body]
    if not notes or not all(sum(c.isalpha() for c in p.text) >= 3 for p in notes):
        return None
    return (edge + min(p.x0 for p in notes)) / 2


def read_columns(lines: Sequence[Line]) -> list[Line]:
    """The page's lines in reading order, split at the gutter and tagged with their column."""
    gutter = find_gutter(lines)
    if gutter is None:
        gutter = margin_edge(lines)
    if gutter is None:
        return list(lines)
    stretches: list[list[Line]] = [[]]
    crossing: list[Line | None] = []
    for line in lines:
        if _crosses(line, gutter):
            crossing.append(line)
            stretches.append([])
        else:
            stretches[-1].append(line)
    halves = [_halves(stretch, gutter) for stretch in stretches]
    margin = _is_margin([line for _, right in halves for line in right], [line for left, _ in halves for line in left])
    ordered: list[Line] = []
    for index, (left, right) in enumerate(halves):
        if margin:
            ordered.extend(_beside([replace(line, margin=True) for line in right], left))
        else:
            ordered.extend(left)
            ordered.extend(right)
        if index < len(crossing) and crossing[index] is not None:
            ordered.append(crossing[index])  # type: ignore[arg-type]
    return ordered


def _halves(stretch: Sequence[Line], gutter: float) -> tuple[list[Line], list[Line]]:
    left: list[Line] = []
    right: list[Line] = []
    for line in stretch:
        pieces_left = tuple(p for p in line.pieces if p.x1 <= gutter)
        pieces_right = tuple(p for p in line.pieces if p.x0 >= gutter)
        if pieces_left:
            left.append(Line(line.y, _size(pieces_left), pieces_left, column=1))
        if pieces_right:
            right.append(Line(line.y, _size(pieces_right), pieces_right, column=2))
    return left, right


def _size(pieces: Sequence[object]) -> float:
    return float(max(pieces, key=lambda p: len(p.text)).size)  # type: ignore[attr-defined]


def _is_margin(right: Sequence[Line], left: Sequence[Line]) -> bool:
    """Whether the right column is margin notes: narrow, in a smaller font, beside a wider body."""
    if not right or not left:
        return False
    right_width = max(line.x1 - line.x0 for line in right)
    left_width = max(line.x1 - line.x0 for line in left)
    smaller = median(line.size for line in right) < 0.95 * median(line.size for line in left)
    return right_width < MARGIN_WIDTH * left_width and smaller


def _beside(notes: Sequence[Line], body: Sequence[Line]) -> list[Line]:
    """Body lines with each margin note (its lines kept together) just before the body line it starts next to."""
    groups: list[list[Line]] = []
    for note in notes:
        if groups and groups[-1][-1].y - note.y <= 1.6 * note.size:
            groups[-1].append(note)
        else:
            groups.append([note])
    merged: list[Line] = []
    for line in body:
        while groups and groups[0][0].y >= line.y - 0.5 * line.size:
            merged.extend(groups.pop(0))
        merged.append(line)
    for group in groups:
        merged.extend(group)
    return merged
