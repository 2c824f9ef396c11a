"""Markdown-like policy text -> citable passages.

Understands what the IOM paper uses: numbered paragraphs ("7. ..."), headings ("###"), footnotes
("<sup>N</sup> ..." at page ends), page breaks ("---"), bullet lists and inline links. A numbered
paragraph cut by a page break and a block of footnotes comes back whole; footnotes come back as
their own passages, linked to the paragraph that calls them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from index.records import FootnoteCall, Passage

from .inline import clean_inline, join_parts, normalise, slug, strip_emphasis, unique

BlockKind = Literal["break", "heading", "footnote", "item", "numbered", "text"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FOOTNOTE = re.compile(r"^<sup>\s*([0-9A-Za-z*†‡]+)\s*</sup>\s*(.*)$")
_ITEM = re.compile(r"^\s{0,3}[-*+•]\s+(.*)$")
_NUMBERED = re.compile(r"^(\d{1,4})\.\s+(.*)$")
_BREAK = re.compile(r"^\s{0,3}(-{3,}|\*{3,}|_{3,}|\f)\s*$")
_BOLD_LINE = re.compile(r"^\s*\*\*.*\*\*\s*$")
_TERMINAL = re.compile(r"[.!?:;…\"”’)\]]$")
_SUBITEM = re.compile(r"^\(?[a-z0-9]{1,4}\)\s")


@dataclass
class Block:
    kind: BlockKind
    page: int
    lines: list[str] = field(default_factory=list)
    number: str | None = None
    level: int = 0

    @property
    def raw(self) -> str:
        return " ".join(line.strip() for line in self.lines)


def split_blocks(text: str) -> list[Block]:
    """Group lines into blocks (a paragraph, a heading, a footnote, a list item, a page break).

    A "---" line ends a page's body. Footnotes right after it are printed at the foot of that same
    page, so the page number moves on only when body text resumes.
    """
    blocks: list[Block] = []
    page = 1
    pending_break = False
    current: Block | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            current = None
            continue
        if _BREAK.match(line):
            if pending_break:
                page += 1
            pending_break = True
            blocks.append(Block("break", page))
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
            blocks.append(Block("heading", page, [heading.group(2)], level=len(heading.group(1))))
            current = None
        elif started is not None:
            started.page = page
            current = started
            blocks.append(current)
        elif current is not None:
            current.lines.append(line)
        else:
            current = Block("text", page, [line])
            blocks.append(current)
    return blocks


def _start_block(line: str) -> Block | None:
    if m := _FOOTNOTE.match(line.strip()):
        return Block("footnote", 0, [m.group(2)], number=m.group(1))
    if m := _ITEM.match(line):
        return Block("item", 0, [m.group(1)])
    if m := _NUMBERED.match(line.strip()):
        return Block("numbered", 0, [m.group(2)], number=m.group(1))
    return None


@dataclass
class _Open:
    """A numbered paragraph still accepting text that a page break cut off."""

    index: int
    text: str
    calls: tuple[FootnoteCall, ...]
    after_break: bool = False


class _Builder:
    def __init__(self, document_id: str, title: str | None) -> None:
        self.document_id = document_id
        self.title_key = _key(title) if title else None
        self.passages: list[Passage] = []
        self.section: list[tuple[int, str]] = []
        self.anchors: set[str] = set()
        self.open: _Open | None = None
        self.items_in_section = 0
        self.texts_in_section = 0
        self.seen_heading = False

    def anchor(self, base: str) -> str:
        return unique(base, self.anchors)

    def add(self, **values: object) -> int:
        values.setdefault("section", tuple(text for _, text in self.section))
        passage = Passage(document_id=self.document_id, order=len(self.passages), **values)  # type: ignore[arg-type]
        self.passages.append(passage)
        return len(self.passages) - 1

    def heading(self, block: Block) -> None:
        self.open = None
        text = normalise(strip_emphasis(block.raw)).strip("* ")
        if self.title_key is not None and _key(text) == self.title_key:
            self.add(kind="heading", anchor=self.anchor("title"), text=text, label=text, page=block.page, section=())
            self.seen_heading = True
            return
        self.section = [(lvl, t) for lvl, t in self.section if lvl < block.level] + [(block.level, text)]
        self.items_in_section = 0
        self.texts_in_section = 0
        self.seen_heading = True
        self.add(kind="heading", anchor=self.anchor(slug(text)), text=text, label=text, page=block.page)

    def numbered(self, block: Block) -> None:
        text, calls = clean_inline(block.raw)
        number = block.number or ""
        index = self.add(
            kind="paragraph",
            anchor=self.anchor(f"para-{number}"),
            text=text,
            label=f"para. {number}",
            paragraph=number,
            page=block.page,
            footnote_calls=calls,
        )
        self.open = _Open(index, text, calls)

    def text(self, block: Block) -> None:
        if not self.seen_heading and _BOLD_LINE.match(block.raw):
            text = normalise(strip_emphasis(block.raw))
            self.add(kind="heading", anchor=self.anchor(f"cover-{slug(text)}"), text=text, label=text, page=block.page)
            return
        text, calls = clean_inline(block.raw)
        if self.open is not None and _continues(self.open, text):
            self._extend_open(text, calls)
            return
        self.open = None
        self.texts_in_section += 1
        where = self.section[-1][1] if self.section else "text"
        base = f"{slug(where)}-text-{self.texts_in_section}" if self.section else f"text-{self.texts_in_section}"
        self.add(kind="text", anchor=self.anchor(base), text=text, label=where, page=block.page, footnote_calls=calls)

    def _extend_open(self, text: str, calls: tuple[FootnoteCall, ...]) -> None:
        assert self.open is not None
        joined_text, joined_calls = join_parts((self.open.text, self.open.calls), (text, calls))
        old = self.passages[self.open.index]
        self.passages[self.open.index] = replace(old, text=joined_text, footnote_calls=joined_calls)
        self.open = _Open(self.open.index, joined_text, joined_calls)

    def item(self, block: Block) -> None:
        self.open = None
        text, calls = clean_inline(block.raw)
        self.items_in_section += 1
        where = self.section[-1][1] if self.section else "List"
        self.add(
            kind="list-item",
            anchor=self.anchor(f"{slug(where)}-{self.items_in_section}"),
            text=text,
            label=where,
            page=block.page,
            footnote_calls=calls,
        )

    def footnote(self, block: Block) -> None:
        if self.open is not None:
            self.open.after_break = True
        text, calls = clean_inline(block.raw)
        number = block.number or ""
        self.add(
            kind="footnote",
            anchor=self.anchor(f"fn-{number}"),
            text=text,
            label=f"footnote {number}",
            paragraph=number,
            page=block.page,
            footnote_calls=calls,
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


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", normalise(text).lower().replace("’", "'"))


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
    """Parse Markdown-like text into passages in reading order (headings included, kind "heading")."""
    builder = _Builder(document_id, title)
    for block in split_blocks(text):
        if block.kind == "break":
            builder.page_break()
        elif block.kind == "heading":
            builder.heading(block)
        elif block.kind == "numbered":
            builder.numbered(block)
        elif block.kind == "footnote":
            builder.footnote(block)
        elif block.kind == "item":
            builder.item(block)
        else:
            builder.text(block)
    return builder.link_footnotes()
