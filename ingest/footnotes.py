"""Footnotes of a printed page: found at its foot, separated from the body, linked by their calls.

A footnote zone is the run of lines at the bottom of a column set in a smaller font than the
body, starting with a footnote number ("(1)", "( 1 )", "1", or a superscript). The body calls a
footnote with its number: a superscript the extraction marked, "( 1 )" (the EU Official
Journal's style), "today.(1)" glued to the word before, or "Union1" glued to a word; the
textual forms count only when that footnote is printed on the same pages, so "Article 78(2)"
keeps its "(2)". Calls are taken out of the reader's text and kept as offsets, as the Markdown
parser does, and each footnote is linked to the nearest passage before it that calls it.

The Official Journal raises a note's number and closing bracket above the baseline of its "(": when
a line just above catches the raised part, the "(" is left alone on a line of its own below
"1 ) OJ L ..." (rejoin_brackets puts it back). Two notes printed side by side, one per column, can
come out as one line across the gutter: a note's line that holds the next number's marker after a
finished sentence holds two notes (split_zone cuts it there).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from index.records import FootnoteCall, Passage

from .pages import CALL_CLOSE, CALL_OPEN, Line, Piece

SMALL = 0.92  # a footnote's font is at most this share of the body's
ZONE_GAP = 2.0  # a gap wider than this many body sizes parts small print above from the notes below
_SUP = (
    rf"(?:\(\s?{CALL_OPEN}(?P<psup>[^{CALL_CLOSE}]+){CALL_CLOSE}\s?\)|{CALL_OPEN}(?P<sup>[^{CALL_CLOSE}]+){CALL_CLOSE})"
)
_MARKER = re.compile(rf"^(?:{_SUP}|\(\s?(?P<paren>\d{{1,3}})\s?\)|(?P<bare>\d{{1,3}}|[*†‡]{{1,3}})\.?(?=\s))\s*")
_SUPERSCRIPT = re.compile(rf"\s*{_SUP}")
_SPACED = re.compile(r"\s*\(\s(\d{1,3})\s\)")
_GLUED_PAREN = re.compile(r"(?<=[^\s\d(])\((\d{1,3})\)")
_TRAILING = re.compile(r"\s\((\d{1,3})\)(?=\s*$)", re.MULTILINE)  # "(Facilitation of travels) (1)"
_GLUED = re.compile(r"(?<=[A-Za-z)\].,;:”’])(\d{1,3})(?=[\s,.;:)]|$)")
_RAISED = re.compile(r"\d{1,3}\s?\)\s")  # "1 ) OJ L 132": a marker whose "(" stayed on the baseline below
_NEXT_NOTE = re.compile(r"(?<=[.;)])\s+(?=\(\s?(\d{1,3})\s?\)\s)")  # "... Journal. (4 ) See page 60"


@dataclass(frozen=True, slots=True)
class FootLine:
    """What footnote detection needs of a line: its text, font size, left edge and height on the page."""

    text: str
    size: float
    x0: float
    y: float


def footnote_marker(text: str) -> tuple[str, str] | None:
    """(number, text after it) when `text` starts with a footnote number."""
    match = _MARKER.match(text)
    if match is None:
        return None
    number = match.group("psup") or match.group("sup") or match.group("paren") or match.group("bare")
    return number, text[match.end() :]


def zone_start(lines: Sequence[FootLine], body_size: float, body_text: str) -> int:
    """Index of the first line of the footnote zone at the end of `lines` (len(lines) when there is none).

    The zone is the trailing run of lines in a smaller font than the body, set close together (small
    print further up, such as a signatory's name or a table above a gap, is not part of it); it must
    start with a footnote number (or with at most three lines carried over from the page before),
    and its numbers must be superscripts or called in `body_text`: a small-print numbered list at
    the foot of a page is not footnotes.
    """
    start = len(lines)
    while start > 0 and lines[start - 1].size <= SMALL * body_size:
        if start < len(lines) and lines[start - 1].y - lines[start].y > ZONE_GAP * body_size:
            break
        start -= 1
    zone = lines[start:]
    marked = [footnote_marker(line.text) for line in zone]
    numbers = {m[0] for m in marked if m is not None}
    if not numbers:
        return len(lines)
    superscript = any(_SUPERSCRIPT.match(line.text) for line in zone)
    if not superscript and not numbers & _called(body_text, numbers):
        return len(lines)
    first = next(i for i, m in enumerate(marked) if m is not None)
    return start if first == 0 or _continues_note(zone[:first]) else len(lines)


def _called(text: str, numbers: Collection[str]) -> set[str]:
    found = {m.group("psup") or m.group("sup") for m in _SUPERSCRIPT.finditer(text)}
    for pattern in (_SPACED, _GLUED_PAREN, _GLUED, _TRAILING):
        found.update(m.group(1) for m in pattern.finditer(text) if m.group(1) in numbers)
    return found


def _continues_note(lines: Sequence[FootLine]) -> bool:
    """Small lines before the zone's first number: a footnote carried over from the page before."""
    return len(lines) <= 3


def split_zone(lines: Sequence[FootLine]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """A zone's lines -> (lines before the first marker, [(number, lines) ...]).

    A line that holds the next note's marker after a finished sentence ("... Journal. (4 ) See
    page 60") is two notes printed side by side, cut there.
    """
    leading: list[str] = []
    notes: list[tuple[str, list[str]]] = []
    left = min((line.x0 for line in lines), default=0.0)
    for line in lines:
        marker = footnote_marker(line.text)
        if marker is not None and line.x0 <= left + 0.6 * line.size:
            notes.append((marker[0], [marker[1]]))
        elif notes:
            notes[-1][1].append(line.text)
        else:
            leading.append(line.text)
            continue
        while (cut := _next_note(notes[-1][1][-1], notes[-1][0])) is not None:
            text = notes[-1][1][-1]
            notes[-1][1][-1] = text[:cut].rstrip()
            after = footnote_marker(text[cut:].lstrip())
            assert after is not None  # _NEXT_NOTE matched a marker there
            notes.append((after[0], [after[1]]))
    return leading, notes


def _next_note(text: str, number: str) -> int | None:
    """Where the marker of the note after `number` starts in `text`, if a sentence ends just before it."""
    if not number.isdigit():
        return None
    return next((m.start() for m in _NEXT_NOTE.finditer(text) if int(m.group(1)) == int(number) + 1), None)


def rejoin_brackets(lines: Sequence[Line]) -> list[Line]:
    """A page's lines with each lone "(" put back before the raised "N )" of its footnote marker.

    The digit and ")" sit higher than the "(", so a line just above can take them and leave the
    "(" alone on the line below, at the same left edge ("1 ) OJ L 132 ..." over "(").
    """
    out = list(lines)
    for index, line in enumerate(lines):
        for bracket in (p for p in line.pieces if p.text == "("):
            for above in range(index - 1, -1, -1):
                if out[above].y - line.y > line.size:
                    break
                joined = _rejoined(out[above], bracket)
                if joined is not None:
                    out[above] = joined
                    rest = tuple(p for p in out[index].pieces if p is not bracket)
                    out[index] = replace(out[index], pieces=rest)
                    break
    return [line for line in out if line.pieces]


def _rejoined(line: Line, bracket: Piece) -> Line | None:
    """`line` with `bracket` put before its piece that starts with a raised "N )" right of it, or None."""
    for i, piece in enumerate(line.pieces):
        if _RAISED.match(piece.text) and bracket.x0 <= piece.x0 <= bracket.x1 + bracket.size:
            joined = Piece(bracket.x0, piece.x1, f"( {piece.text}", piece.size)
            return replace(line, pieces=(*line.pieces[:i], joined, *line.pieces[i + 1 :]))
    return None


def take_calls(text: str, numbers: Collection[str]) -> tuple[str, tuple[FootnoteCall, ...]]:
    """Remove footnote calls from `text`; return the text and the calls with their offsets in it.

    Superscripts are always calls; the textual patterns only for numbers in `numbers` (the
    footnotes printed on the same pages), so "Article 78(2)" keeps its "(2)".
    """
    spans = [(m.start(), m.end(), m.group("psup") or m.group("sup")) for m in _SUPERSCRIPT.finditer(text)]
    for pattern in (_SPACED, _GLUED_PAREN, _GLUED):
        for m in pattern.finditer(text):
            if m.group(1) in numbers and not any(a < m.end() and m.start() < b for a, b, _ in spans):
                spans.append((m.start(), m.end(), m.group(1)))
    spans.sort()
    out: list[str] = []
    calls: list[FootnoteCall] = []
    position = 0
    length = 0
    for start, end, number in spans:
        piece = text[position:start]
        out.append(piece)
        length += len(piece)
        calls.append(FootnoteCall(length, number))
        position = end
    out.append(text[position:])
    cleaned = "".join(out)
    return cleaned, tuple(FootnoteCall(min(c.offset, len(cleaned)), c.number) for c in calls)


def strip_marks(text: str) -> str:
    """The text with superscript marks turned back into plain digits (for headings and footnote bodies)."""
    return re.sub(rf"{CALL_OPEN}([^{CALL_CLOSE}]*){CALL_CLOSE}", r"\1", text)


def link_footnotes(passages: Sequence[Passage]) -> list[Passage]:
    """Each footnote linked to the nearest passage before it that calls its number (else the first after)."""
    linked = list(passages)
    for index, passage in enumerate(passages):
        if passage.kind != "footnote":
            continue
        before = (p for p in reversed(passages[:index]) if _calls(p, passage.paragraph))
        after = (p for p in passages[index + 1 :] if _calls(p, passage.paragraph))
        caller = next(before, None) or next(after, None)
        if caller is not None:
            linked[index] = replace(passage, called_from=caller.anchor, section=caller.section)
    return linked


def _calls(passage: Passage, number: str | None) -> bool:
    return passage.kind != "footnote" and any(c.number == number for c in passage.footnote_calls)
