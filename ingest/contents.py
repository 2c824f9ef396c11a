"""Tables of contents: found before the numbering is built, so that their entries open no sections.

A table of contents starts at a heading that names one ("Contents", "Table of Contents", "ARRANGEMENT OF
REGULATIONS", "List of figures", "Sommaire", "Inhoud" ...) and runs until the first block of prose: a
paragraph of sentences, which no entry is. Entries have no sentence ending; the lines with dot leaders
and page numbers are already gone (`paragraphs.text_line`). When the table ends on a later page than it
began, the blocks on the page where prose starts are that page's own headings ("1. Introduction"), not
entries, and are given back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from .blocks import Block
from .noise import prose

CONTENTS = re.compile(
    r"^(?:table\s+of\s+contents?|contents?|arrangement\s+of\s+(?:regulations|sections|rules|articles|paragraphs)"
    r"|list\s+of\s+(?:figures|tables|boxes|graphs|charts|annexes)|sommaire|table\s+des\s+mati[eè]res"
    r"|inhoud(?:sopgave|stafel)?|inhaltsverzeichnis|[íi]ndice(?:\s+general)?|sum[aá]rio)\s*:?$",
    re.IGNORECASE,
)
MAX_BLOCKS = 150  # no table is longer: a "Contents" heading with no prose after it ends here


def is_contents_heading(text: str) -> bool:
    return CONTENTS.match(text.strip()) is not None


def mark_contents(blocks: Sequence[Block]) -> list[Block]:
    """The blocks with every table-of-contents block's kind set to "contents"."""
    out = list(blocks)
    index = 0
    while index < len(out):
        if out[index].kind != "footnote" and is_contents_heading(out[index].text):
            end = _end(out, index)
            for position in range(index, end):
                if out[position].kind != "footnote":
                    out[position] = replace(out[position], kind="contents")
            index = max(end, index + 1)
            continue
        index += 1
    return out


def _end(blocks: Sequence[Block], start: int) -> int:
    """Index just past the table that starts at `start`."""
    limit = min(len(blocks), start + MAX_BLOCKS)
    end = next(
        (i for i in range(start + 1, limit) if blocks[i].kind == "text" and prose(blocks[i].text)),
        limit,
    )
    if end >= len(blocks):
        return end
    first = end
    if blocks[end].page is None:
        while first - 1 > start and blocks[first - 1].kind == "heading":
            first -= 1  # the headings right before the first paragraph
    elif blocks[end].page != blocks[start].page:
        while first - 1 > start and blocks[first - 1].page == blocks[end].page:
            first -= 1  # the prose page's own headings before its first paragraph
    return first
