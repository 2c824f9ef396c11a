"""Markdown-like policy text -> citable passages.

Understands what the IOM paper uses: numbered paragraphs ("7. ..."), headings ("###"), footnotes
("<sup>N</sup> ..." at page ends), page breaks ("---"), bullet lists and inline links. A numbered
paragraph cut by a page break and a block of footnotes comes back whole; footnotes come back as
their own passages, linked to the paragraph that calls them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from index.records import FootnoteCall, Passage

from .blocks import Block, PassageBuilder
from .inline import clean_inline, join_parts, normalise, slug, strip_emphasis, title_key

_LineKind = Literal["break", "heading", "footnote", "item", "numbered", "text"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FOOTNOTE = re.compile(r"^<sup>\s*([0-9A-Za-z*†‡]+)\s*</sup>\s*(.*)$")
_ITEM = re.compile(r"^\s{0,3}[-*+•]\s+(.*)$")
_NUMBERED = re.compile(r"^(\d{1,4})\.\s+(.*)$")
_BREAK = re.compile(r"^\s{0,3}(-{3,}|\*{3,}|_{3,}|\f)\s*$")
_BOLD_LINE = re.compile(r"^\s*\*\*.*\*\*\s*$")
_TERMINAL = re.compile(r"[.!?:;…\"”’)\]]$")
_SUBITEM = re.compile(r"^\(?[a-z0-9]{1,4}\)\s")
# a comma between a word and a capitalised word with no space: a line break the source lost, as between the
# clauses of the Dutch Treaty Series' preambles ("The States Parties to the present Convention,Noting that ...")
_GLUED = re.compile(r"(?<=[a-z],)(?=[A-Z][a-z]+[\s,])")


@dataclass
class _Lines:
    """The source lines of one block while they are being gathered."""

    kind: _LineKind
    page: int
    lines: list[str] = field(default_factory=list)
    number: str | None = None
    level: int = 0

    def block(self) -> Block:
        """The block these lines make: clean text, a numbered paragraph's marker kept in it ("7. ...")."""
        raw = " ".join(line.strip() for line in self.lines)
        if self.kind == "break":
            return Block("break", "", self.page)
        if self.kind == "heading":
            return Block("heading", normalise(strip_emphasis(raw)).strip("* "), self.page, level=self.level)
        text, calls = clean_inline(raw)
        if self.kind == "numbered":
            marker = f"{self.number}. "
            calls = tuple(replace(c, offset=c.offset + len(marker)) for c in calls)
            return Block("text", marker + text, self.page, number=self.number, calls=calls)
        if self.kind == "footnote":
            return Block("footnote", text, self.page, number=self.number, calls=calls)
        return Block("text", text, self.page, calls=calls, item=self.kind == "item", bold=bool(_BOLD_LINE.match(raw)))


def split_blocks(text: str) -> list[Block]:
    """Group lines into blocks (a paragraph, a heading, a footnote, a list item, a page break "break").

    A "---" line ends a page's body. Footnotes right after it are printed at the foot of that same
    page, so the page number moves on only when body text resumes.
    """
    groups: list[_Lines] = []
    page = 1
    pending_break = False
    current: _Lines | None = None
    for line in _unglued(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if not line.strip():
            current = None
            continue
        if _BREAK.match(line):
            if pending_break:
                page += 1
            pending_break = True
            groups.append(_Lines("break", page))
            current = None
            continue
        heading = _HEADING.match(line)
        started = None if heading else _start_block(line)
        is_footnote = started is not None and started.kind == "footnote"
        continues = current is not None and started is None and heading is None
        if pending_break and not is_footnote and not continues:
            page += 1
            pending_break = False
        if heading:
            groups.append(_Lines("heading", page, [heading.group(2)], level=len(heading.group(1))))
            current = None
        elif started is not None:
            started.page = page
            current = started
            groups.append(current)
        elif current is not None:
            current.lines.append(line)
        else:
            current = _Lines("text", page, [line])
            groups.append(current)
    return [group.block() for group in groups]


def _unglued(lines: list[str]) -> Iterable[str]:
    """The lines, a line of text whose clauses are glued at a comma (_GLUED) given as paragraphs of their own."""
    for line in lines:
        if _HEADING.match(line) or not _GLUED.search(line):
            yield line
            continue
        for part in _GLUED.split(line):
            yield part
            yield ""


def _start_block(line: str) -> _Lines | None:
    if m := _FOOTNOTE.match(line.strip()):
        return _Lines("footnote", 0, [m.group(2)], number=m.group(1))
    if m := _ITEM.match(line):
        return _Lines("item", 0, [m.group(1)])
    if m := _NUMBERED.match(line.strip()):
        return _Lines("numbered", 0, [m.group(2)], number=m.group(1))
    return None


@dataclass
class _Open:
    """A numbered paragraph still accepting text that a page break cut off."""

    index: int
    text: str
    calls: tuple[FootnoteCall, ...]
    after_break: bool = False


class Paper(PassageBuilder):
    """Builds a paper's passages: numbered paragraphs ("para. 7") whole across page breaks, headings,
    list items and unnumbered text labelled by their section, footnotes linked to their first caller."""

    def __init__(self, document_id: str, title: str | None) -> None:
        super().__init__(document_id)
        self.title_key = title_key(title) if title else None
        self.outline: list[tuple[int, str]] = []  # the headings the next passage is under, with their levels
        self.open: _Open | None = None
        self.items_in_section = 0
        self.texts_in_section = 0
        self.seen_heading = False

    def feed(self, blocks: Iterable[Block]) -> list[Passage]:
        for block in blocks:
            if block.kind == "break":
                self.page_break()
            elif block.kind == "heading":
                self.heading(block)
            elif block.kind == "footnote":
                self.footnote(block)
            elif block.number is not None:
                self.numbered(block)
            elif block.item:
                self.item(block)
            else:
                self.text(block)
        return self.link_footnotes()

    def section(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.outline)

    def heading(self, block: Block) -> None:
        self.open = None
        text = block.text
        if self.title_key is not None and title_key(text) == self.title_key:
            self.add(block, kind="heading", anchor=self.anchor("title"), text=text, label=text, section=())
            self.seen_heading = True
            return
        self.outline = [(lvl, t) for lvl, t in self.outline if lvl < block.level] + [(block.level, text)]
        self.items_in_section = 0
        self.texts_in_section = 0
        self.seen_heading = True
        self.add(block, kind="heading", anchor=self.anchor(slug(text)), text=text, label=text)

    def numbered(self, block: Block) -> None:
        number = block.number or ""
        cut = len(number) + 2  # the marker "7. " the block's text starts with
        text = block.text[cut:]
        calls = tuple(replace(c, offset=c.offset - cut) for c in block.calls)
        index = self.add(
            block,
            kind="paragraph",
            anchor=self.anchor(f"para-{number}"),
            text=text,
            label=f"para. {number}",
            paragraph=number,
            footnote_calls=calls,
        )
        self.open = _Open(index, text, calls)

    def text(self, block: Block) -> None:
        if not self.seen_heading and block.bold:
            text = block.text
            self.add(block, kind="heading", anchor=self.anchor(f"cover-{slug(text)}"), text=text, label=text)
            return
        text, calls = block.text, block.calls
        if self.open is not None and _continues(self.open, text):
            self._extend_open(text, calls)
            return
        self.open = None
        self.texts_in_section += 1
        where = self.outline[-1][1] if self.outline else "text"
        base = f"{slug(where)}-text-{self.texts_in_section}" if self.outline else f"text-{self.texts_in_section}"
        self.add(block, kind="text", anchor=self.anchor(base), text=text, label=where, footnote_calls=calls)

    def _extend_open(self, text: str, calls: tuple[FootnoteCall, ...]) -> None:
        assert self.open is not None
        joined_text, joined_calls = join_parts((self.open.text, self.open.calls), (text, calls))
        old = self.passages[self.open.index]
        self.passages[self.open.index] = replace(old, text=joined_text, footnote_calls=joined_calls)
        self.open = _Open(self.open.index, joined_text, joined_calls)

    def item(self, block: Block) -> None:
        self.open = None
        self.items_in_section += 1
        where = self.outline[-1][1] if self.outline else "List"
        self.add(
            block,
            kind="list-item",
            anchor=self.anchor(f"{slug(where)}-{self.items_in_section}"),
            text=block.text,
            label=where,
            footnote_calls=block.calls,
        )

    def footnote(self, block: Block) -> None:
        if self.open is not None:
            self.open.after_break = True
        number = block.number or ""
        self.add(
            block,
            kind="footnote",
            anchor=self.anchor(f"fn-{number}"),
            text=block.text,
            label=f"footnote {number}",
            paragraph=number,
            footnote_calls=block.calls,
        )

    def page_break(self) -> None:
        if self.open is not None:
            self.open.after_break = True

    def link_footnotes(self) -> list[Passage]:
        callers: dict[str, str] = {}
        for p in self.passages:
            if p.kind == "footnote":
                continue
            for call in p.footnote_calls:
                callers.setdefault(call.number, p.anchor)
        linked = []
        by_anchor = {p.anchor: p for p in self.passages}
        for p in self.passages:
            if p.kind == "footnote" and p.paragraph in callers:
                caller = by_anchor[callers[p.paragraph]]
                linked.append(replace(p, called_from=caller.anchor, section=caller.section))
            else:
                linked.append(p)
        return linked


def _continues(open_paragraph: _Open, text: str) -> bool:
    """Whether an unnumbered block carries on the open numbered paragraph."""
    if not text:
        return False
    unfinished = not _TERMINAL.search(open_paragraph.text)
    lower_start = text[0].islower()
    if open_paragraph.after_break:
        return unfinished or lower_start
    return lower_start or bool(_SUBITEM.match(text))


def parse_markdown(text: str, document_id: str, title: str | None = None) -> list[Passage]:
    """Parse Markdown-like text into passages in reading order (headings included, kind "heading").

    Pages are counted from the "---" breaks a paper's conversion keeps; a file with none has no pages, and its
    passages none ("Article 1", not "Article 1, p. 1").
    """
    return paged(text, Paper(document_id, title).feed(split_blocks(text)))


def paged(text: str, passages: list[Passage]) -> list[Passage]:
    """The passages as they are where `text` has page breaks; else without pages (a file with none has none)."""
    if any(_BREAK.match(line) for line in text.replace("\r", "\n").split("\n")):  # not splitlines: "\f" is a break
        return passages
    return [replace(p, page=None) for p in passages]
