"""Markdown and plain text with articles or objectives -> passages in the document's own numbering.

Used for the UN treaties (English, then Dutch: "### Article  33" ... "### Artikel  33") and the
GCM objectives ("# Objective 8", "- a. ..."). Each passage is tagged with its language, so the
treaties' two halves are told apart (and can be filtered) without splitting the file. Markdown
without article or objective headings (the IOM paper) keeps its own parser, `markdown`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from index.records import Passage

from .articles import Numbering
from .blocks import Block
from .headings import ARTICLE, OBJECTIVE, document_style
from .language import detect, majority
from .markdown import paged, parse_markdown, split_blocks

_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$")
_TAG_LINE = re.compile(r"^\s*<(meta|!--|/?div|/?span|br)\b[^>]*>\s*$", re.IGNORECASE)


def has_units(text: str) -> bool:
    """Whether Markdown text is numbered by articles or objectives (at least two such headings)."""
    found = 0
    for line in text.splitlines():
        heading = _HEADING_LINE.match(line)
        if heading and (ARTICLE.match(heading.group(1).strip()) or OBJECTIVE.match(heading.group(1).strip())):
            found += 1
            if found >= 2:
                return True
    return False


def parse_text(text: str, document_id: str, title: str | None = None) -> list[Passage]:
    """Markdown or plain text -> passages: by articles/objectives when it has them, else as the paper's parser does."""
    if not has_units(text):
        return parse_markdown(text, document_id, title)
    blocks = markdown_blocks(text)
    passages = Numbering(document_id, document_style(blocks, title)).feed(blocks)
    return paged(text, with_neighbours_language(passages))


def with_neighbours_language(passages: list[Passage]) -> list[Passage]:
    """Passages too short to tell their language ("Een persoon kan opnieuw worden voorgedragen.") take the
    language of the nearest passage before them that tells it (after them at the start, else the document's):
    a bilingual treaty gives its halves one after the other."""
    fallback = majority(p.language for p in passages)
    following = next((p.language for p in passages if p.language), fallback)
    found: list[Passage] = []
    last: str | None = None
    for p in passages:
        if p.language:
            last = p.language
            found.append(p)
        elif p.kind == "heading":
            found.append(p)
        else:
            found.append(replace(p, language=last or following))
    return found


def markdown_blocks(text: str) -> list[Block]:
    """Markdown -> blocks, with "####Title" (no space) read as a heading and HTML tag lines dropped."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _TAG_LINE.match(line):
            continue
        lines.append(re.sub(r"^(\s{0,3}#{1,6})(?=[^#\s])", r"\1 ", line))
    # Page breaks only matter to the paper's reader. List items stay text here, as this reader has always
    # read them: as items, those outside any unit would become "list-item" passages with new anchors.
    return [
        block if block.kind == "heading" else replace(block, item=False, language=detect(block.text))
        for block in split_blocks("\n".join(lines))
        if block.kind != "break" and block.text
    ]
