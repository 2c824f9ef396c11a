"""What a heading or a paragraph's opening says about a document's numbering.

"Article 33", "ARTICLE 5", "Article 13 – Right to an effective remedy", "Objective 8",
"CHAPTER I", "Part II — Reception": the headings that start units and divisions, shared by every
format's reader and by the numbering of passages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .blocks import Block, split_markers

ARTICLE = re.compile(
    r"^(?P<word>article|artikel|art\.|paragraph)\s+(?P<num>\d{1,3}[a-z]?|[ivxlcdm]{1,7})\b\.?"
    r"(?:\s*[-–—:.]\s*(?P<title>.+)|\s*)$",
    re.IGNORECASE,
)
OBJECTIVE = re.compile(r"^objective\s+(?P<num>\d{1,3})\b\.?(?:\s*[-–—:.]\s*(?P<title>.+)|\s*)$", re.IGNORECASE)
DIVISION = re.compile(
    r"^(?P<word>chapter|part|title|section|hoofdstuk|deel|annex|schedule|appendix|preamble)\b"
    r"(?:\s+(?P<num>[0-9]{1,3}|[ivxlcdm]{1,7}|[a-z]))?\.?(?:\s*[-–—:.]\s*(?P<title>.+)|\s*)$",
    re.IGNORECASE,
)
_NEEDS_NUMBER = frozenset({"chapter", "part", "title", "section", "hoofdstuk", "deel"})


def division(text: str) -> re.Match[str] | None:
    """A chapter, part, annex... heading ("CHAPTER I", "Part II — Reception"), not "Title: ..." prose."""
    match = DIVISION.match(text)
    if match is None or (match.group("word").lower() in _NEEDS_NUMBER and not match.group("num")):
        return None
    return match


_ROMAN = re.compile(r"^[ivxlcdm]+$", re.IGNORECASE)


def document_style(blocks: Sequence[Block], title: str | None) -> str:
    """ "article" when the document has article or objective headings, "regulation" for numbered regulations.

    `title` is whatever names the document (its title, its first page's text): a regulation's
    says "Regulations", and its paragraphs start "20. (1)".
    """
    headings = [b.text for b in blocks if b.kind == "heading"]
    if sum(1 for h in headings if ARTICLE.match(h) or OBJECTIVE.match(h)) >= 2:
        return "article"
    regulation_like = sum(1 for b in blocks if b.kind == "text" and _is_regulation_start(b.text))
    if title and re.search(r"\bregulations\b", title, re.IGNORECASE) and regulation_like >= 3:
        return "regulation"
    return "paragraph"


def _is_regulation_start(text: str) -> bool:
    markers, _ = split_markers(text)
    return len(markers) == 2 and markers[0].style == "dot" and markers[1].style == "paren"


def numeral(value: str) -> str:
    return value.upper() if _ROMAN.match(value) else value


def title_case(value: str | None) -> str | None:
    if not value:
        return None
    value = re.sub(r"^title:\s*", "", value.strip(), flags=re.IGNORECASE)
    return value[:1].upper() + value[1:] if value else None


def division_name(match: re.Match[str]) -> str:
    word = match.group("word").capitalize()
    number = match.group("num")
    name = f"{word} {numeral(number)}" if number else word
    title = title_case(match.group("title"))
    return f"{name}: {title}" if title else name


def is_structural(text: str) -> bool:
    """Whether a line is a unit's or a division's heading ("Article 33", "CHAPTER I")."""
    return bool(ARTICLE.match(text) or OBJECTIVE.match(text) or division(text))
