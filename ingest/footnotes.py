"""Footnotes of a printed page: found at its foot, separated from the body, linked by their calls.

A footnote zone is the run of lines at the bottom of a column set in a smaller font than the
body, starting with a footnote number ("(1)", "( 1 )", "1", or a superscript). The body calls a
footnote with its number: a superscript the extraction marked, "( 1 )" (the EU Official
Journal's style), "today.(1)" glued to the word before, or "Union1" glued to a word; the
textual forms count only when that footnote is printed on the same pages, so "Article 78(2)"
keeps its "(2)". Calls are taken out of the reader's text and kept as offsets, as the Markdown
parser does, and each footnote is linked to the nearest passage before it that calls it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from index.records import FootnoteCall, Passage

from .pages import CALL_CLOSE, CALL_OPEN

SMALL = 0.92  # a footnote's font is at most this share of the body's
_SUP = (
    rf"(?:\(\s?{CALL_OPEN}(?P<psup>[^{CALL_CLOSE}]+){CALL_CLOSE}\s?\)|{CALL_OPEN}(?P<sup>[^{CALL_CLOSE}]+){CALL_CLOSE})"
)
_MARKER = re.compile(rf"^(?:{_SUP}|\(\s?(?P<paren>\d{{1,3}})\s?\)|(?P<bare>\d{{1,3}}|[*†‡]{{1,3}})\.?(?=\s))\s*")
_SUPERSCRIPT = re.compile(rf"\s*{_SUP}")
_SPACED = re.compile(r"\s*\(\s(\d{1,3})\s\)")
_GLUED_PAREN = re.compile(r"(?<=[^\s\d(])\((\d{1,3})\)")
_TRAILING = re.compile(r"\s\((\d{1,3})\)(?=\s*$)", re.MULTILINE)  # "(Facilitation of travels) (1)"
_GLUED = re.compile(r"(?<=[A-Za-z)\].,;:”’])(\d{1,3})(?=[\s,.;:)]|$)")


@dataclass(frozen=True, slots=True)
class FootLine:
    """What footnote detection needs of a line: its text, font size and left edge."""

    text: str
    size: float
    x0: float


def footnote_marker(text: str) -> tuple[str, str] | None:
    """(number, text after it) when `text` starts with a footnote number."""
    match = _MARKER.match(text)
    if match is None:
        return None
    number = match.group("psup") or match.group("sup") or match.group("paren") or match.group("bare")
    return number, text[match.end() :]


def zone_start(lines: Sequence[FootLine], body_size: float, body_text: str) -> int:
    """Index of the first line of the footnote zone at the end of `lines` (len(lines) when there is none).

    The zone is the trailing run of lines in a smaller font than the body; it must start with a
    footnote number (or with at most three lines carried over from the page before), and its
    numbers must be superscripts or called in `body_text`: a small-print numbered list at the
    foot of a page is not footnotes.
    """
    start = len(lines)
    while start > 0 and lines[start - 1].size <= SMALL * body_size:
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
    """A zone's lines -> (lines before the first marker, [(number, lines) ...])."""
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
    return leading, notes


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
