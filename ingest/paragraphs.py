"""A PDF's lines, page by page, -> blocks: paragraphs, headings, margin notes and footnotes.

A line starts a new paragraph when it starts with a numbering marker, after a wider vertical gap
than the text's leading, or after a short line that ended a sentence. A line is a heading when it
is a structural title ("Article 33", "CHAPTER I"), set larger than the body, or centred and not
ending a sentence. A paragraph left open at the foot of a page or a column carries on with the
next one unless that starts a new unit. Footnote zones become footnote blocks, placed after the
paragraph that was open when their page ended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

from .blocks import Block, split_markers
from .contents import is_contents_heading
from .footnotes import FootLine, split_zone, strip_marks, take_calls, zone_start
from .headings import is_structural, lone_mark, small_caps_title, unfinished
from .pages import CALL_CLOSE, CALL_OPEN, Line
from .typography import fix_drop_cap, fix_small_caps, join_lines, normalise, unspace

_TERMINAL = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_CALL = re.compile(f"{CALL_OPEN}[^{CALL_CLOSE}]*{CALL_CLOSE}")  # a footnote call ends no sentence
_LEADER = re.compile(r"(\.\s?){4,}\s*\d{1,4}$|…{2,}\s*\d{1,4}$")
_OPEN_ENDINGS = frozenset(
    [
        "of",
        "in",
        "to",
        "under",
        "by",
        "with",
        "see",
        "paragraph",
        "paragraphs",
        "article",
        "articles",
        "section",
        "sections",
        "point",
        "points",
        "regulation",
    ]
)


@dataclass(frozen=True, slots=True)
class TextLine:
    """A line ready for paragraphing: clean text and the geometry that matters."""

    text: str
    y: float
    x0: float
    x1: float
    size: float
    column: int = 0
    margin: bool = False


def text_line(line: Line) -> TextLine | None:
    """Clean a line's text: letter-spacing, ligatures, small caps; a lone number before text becomes "N."."""
    texts = [unspace(p.text) for p in line.pieces]
    if len(texts) > 1 and re.fullmatch(r"\d{1,3}", texts[0].strip()):
        texts[0] = texts[0].strip() + "."
    text = fix_small_caps(normalise(" ".join(texts)))
    if not text or _LEADER.search(text):
        return None  # empty, or a table-of-contents line
    return TextLine(text, line.y, line.x0, line.x1, line.size, line.column, line.margin)


@dataclass
class _Draft:
    kind: str
    lines: list[str]
    page: int
    label: str | None
    pages: set[int] = field(default_factory=set)
    margin: bool = False
    number: str | None = None
    titled: bool = False  # a text draft that came right after a heading: its one line may be a title


@dataclass(frozen=True, slots=True)
class _Frame:
    left: float
    right: float
    leading: float

    @property
    def width(self) -> float:
        return max(self.right - self.left, 1.0)


class Paragrapher:
    """Collects a document's pages and returns its blocks; `body_size` is the body text's font size."""

    def __init__(self, body_size: float, words: frozenset[str]) -> None:
        self.body_size = body_size
        self.words = words
        self.drafts: list[_Draft] = []
        self.open: _Draft | None = None
        self.notes_by_page: dict[int, set[str]] = {}

    def add_page(self, number: int, label: str | None, lines: Sequence[TextLine]) -> None:
        body = "\n".join(line.text for line in lines if not line.margin)
        for sequence in _sequences(lines):
            margin = [line for line in sequence if line.margin]
            if margin:
                self._margin(margin, number, label)
                continue
            cut = zone_start([FootLine(t.text, t.size, t.x0, t.y) for t in sequence], self.body_size, body)
            self._body(sequence[:cut], number, label)
            self._footnotes(sequence[cut:], number, label)

    def _margin(self, lines: Sequence[TextLine], number: int, label: str | None) -> None:
        self.open = None
        self.drafts.append(_Draft("heading", [line.text for line in lines], number, label, {number}, margin=True))

    def _footnotes(self, lines: Sequence[TextLine], number: int, label: str | None) -> None:
        if not lines:
            return
        leading, notes = split_zone([FootLine(t.text, t.size, t.x0, t.y) for t in lines])
        previous = next((d for d in reversed(self.drafts) if d.kind == "footnote"), None)
        if leading and previous is not None:
            previous.lines.extend(leading)  # a footnote carried over from the page before
        for note_number, note_lines in notes:
            self.drafts.append(_Draft("footnote", note_lines, number, label, {number}, number=note_number))
            self.notes_by_page.setdefault(number, set()).add(note_number)

    def _body(self, lines: Sequence[TextLine], number: int, label: str | None) -> None:
        if not lines:
            return
        frame = _frame(lines)
        previous: TextLine | None = None
        for line in lines:
            if self._is_heading(line, previous, frame):
                self._heading(line, previous, number, label)
            elif self.open is not None and self.open.kind == "text" and not self._starts(line, previous, frame):
                self.open.lines.append(line.text)
                self.open.pages.add(number)
            else:
                titled = bool(self.drafts) and self.drafts[-1].kind == "heading"
                self.open = _Draft("text", [line.text], number, label, {number}, titled=titled)
                self.drafts.append(self.open)
            previous = line

    def _heading(self, line: TextLine, previous: TextLine | None, number: int, label: str | None) -> None:
        last = self.drafts[-1] if self.drafts else None
        if _title_start(last, previous, line) and last is not None:
            last.kind = "heading"  # "African Union Convention for the ... of" + "Internally Displaced Persons"
            last.lines.append(line.text)
            return
        joinable = (
            last is not None
            and last is self.open
            and last.kind == "heading"
            and previous is not None
            and not is_structural(line.text)
            and not is_structural(last.lines[-1])
            and (abs(previous.size - line.size) < 0.5 or line.text[:1].islower())  # "final act" / "of the ..."
            and previous.y - line.y <= 1.6 * max(line.size, previous.size)
        )
        if joinable and last is not None:
            last.lines.append(line.text)
            return
        self.open = _Draft("heading", [line.text], number, label, {number})
        self.drafts.append(self.open)

    def _is_heading(self, line: TextLine, previous: TextLine | None, frame: _Frame) -> bool:
        text = line.text
        if len(text) > 160 or split_markers(text)[0]:
            return False
        after_break = (
            previous is None
            or _TERMINAL.search(_CALL.sub("", previous.text)) is not None
            or self._gap(previous, line, frame)
        )
        after_heading = self.open is not None and self.open.kind == "heading"
        if is_structural(text) and len(text) < 120:
            return after_break or after_heading
        if is_contents_heading(text):
            return True  # "ARRANGEMENT OF REGULATIONS" under a title that ends without a stop
        if _TERMINAL.search(text) or (unfinished(text) and not (after_heading and text[:1].islower())):
            # "We, the Heads of State and Government of the" carries on; "of the United ..." under a title joins it
            return False
        if line.size >= 1.15 * self.body_size and len(text) < 140:
            return True
        centred = _centred(line, frame)
        if lone_mark(text) and centred:
            return True  # "B" or small-caps "c" over a recommendation's title
        if text[0].islower() and not after_heading and not (centred and after_break and small_caps_title(text)):
            return False  # a line carrying on a sentence; small-caps titles under "Article 33" are the exception
        capitals = sum(1 for c in text if c.isalpha()) >= 3 and text.upper() == text
        if capitals and len(text) <= 90 and (after_break or after_heading):
            return True  # "TRANSITIONAL PROVISIONS", "DIGNITY"
        return centred and (after_break or after_heading)

    def _gap(self, previous: TextLine, line: TextLine, frame: _Frame) -> bool:
        return previous.column == line.column and previous.y - line.y > 1.45 * frame.leading

    def _starts(self, line: TextLine, previous: TextLine | None, frame: _Frame) -> bool:
        """Whether `line` starts a new paragraph rather than carrying on the open one."""
        last = _CALL.sub("", previous.text if previous is not None else (self.open.lines[-1] if self.open else ""))
        ended = _TERMINAL.search(last) is not None
        if split_markers(line.text)[0]:
            # "a." or "5." at a line's start numbers a paragraph only after a clause ended; after
            # "... the right" it is a word that wrapped ("... right a. Refugee", "... under article 5.")
            words = last.split()
            listed = len(words) > 1 and words[-1].lower() in ("and", "or") and words[-2].endswith((";", ","))
            clause = ended or last.endswith((",", "—", "–", "-")) or listed  # "...; or" before "(b)"
            gap = previous is not None and self._gap(previous, line, frame)
            if self.open is not None and self.open.titled and len(self.open.lines) <= 3:
                return True  # "Article 3" / "Access to the procedure ..." / "1. Member States ..."
            return gap or (bool(clause) and not (words and words[-1].rstrip(",").lower() in _OPEN_ENDINGS))
        if previous is None or previous.column != line.column:
            return ended and not line.text[:1].islower()
        if self._gap(previous, line, frame):
            return True
        room = frame.right - previous.x1
        first_word = len(line.text.split(" ", 1)[0]) + 1
        short = room > max(1.5 * first_word * 0.5 * line.size, 0.2 * frame.width)  # the next word would have fit
        indented = (
            line.x0 > frame.left + 1.5 * line.size
            and previous.x0 <= frame.left + 0.5 * line.size
            and not split_markers(previous.text)[0]  # a numbered paragraph's hanging indent is not a new one
        )
        return ended and (short or indented)

    def blocks(self) -> list[Block]:
        """The finished blocks: lines joined, calls taken out of the text, drop caps joined."""
        out: list[Block] = []
        for draft in self.drafts:
            numbers = set().union(*(self.notes_by_page.get(p, set()) for p in draft.pages))
            text = join_lines(draft.lines, self.words)
            if draft.kind == "text":
                text, calls = take_calls(text, numbers)
                _, rest = split_markers(text)
                prefix = text[: len(text) - len(rest)]
                text = prefix + fix_drop_cap(rest, self.words)
            else:
                text, calls = strip_marks(text), ()
            text = normalise(text)
            if text:
                kind = "footnote" if draft.kind == "footnote" else ("heading" if draft.kind == "heading" else "text")
                out.append(
                    Block(kind, text, draft.page, draft.label, draft.number, calls, margin=draft.margin)  # type: ignore[arg-type]
                )
        return out


def _title_start(last: _Draft | None, previous: TextLine | None, line: TextLine) -> bool:
    """Whether the one-line text just before a heading line is the unfinished start of that heading."""
    return (
        last is not None
        and last.kind == "text"
        and len(last.lines) == 1
        and unfinished(last.lines[0])
        and previous is not None
        and previous.text == last.lines[0]
        and abs(previous.size - line.size) < 0.5
        and previous.y - line.y <= 1.6 * line.size
    )


def _centred(line: TextLine, frame: _Frame) -> bool:
    middle = (line.x0 + line.x1) / 2
    return (
        abs(middle - (frame.left + frame.right) / 2) < 0.08 * frame.width
        and line.x1 - line.x0 < 0.84 * frame.width
        and line.x0 > frame.left + 0.08 * frame.width
    )


def _sequences(lines: Sequence[TextLine]) -> list[list[TextLine]]:
    """Runs of consecutive lines in the same column (margin notes apart)."""
    runs: list[list[TextLine]] = []
    for line in lines:
        key = (line.column, line.margin)
        if runs and (runs[-1][-1].column, runs[-1][-1].margin) == key:
            runs[-1].append(line)
        else:
            runs.append([line])
    return runs


def _frame(lines: Sequence[TextLine]) -> _Frame:
    """The column's edges and its leading: the smallest gap between lines in its usual font size.

    The smallest, not the median: a page of one-line paragraphs has more paragraph gaps than line gaps.
    """
    size = median(line.size for line in lines)
    gaps = [
        a.y - b.y
        for a, b in pairwise(lines)
        if abs(a.size - size) < 0.5 and abs(b.size - size) < 0.5 and 0.8 * size <= a.y - b.y < 3 * size
    ]
    usual = 1.3 * size
    # with only a few lines, all may be paragraph gaps (one-line paragraphs): trust the usual leading then
    leading = min(gaps) if len(gaps) >= 4 else min([usual, *gaps])
    return _Frame(min(line.x0 for line in lines), max(line.x1 for line in lines), leading)


def body_size(lines: Sequence[Line]) -> float:
    """The font size most of a document's text is set in (weighted by characters)."""
    weights: dict[float, int] = {}
    for line in lines:
        for piece in line.pieces:
            size = round(piece.size * 2) / 2
            weights[size] = weights.get(size, 0) + len(piece.text)
    return max(weights, key=lambda s: weights[s]) if weights else 10.0
