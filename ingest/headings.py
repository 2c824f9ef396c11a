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
# Words a title does not end with: a line ending with one carries on into the next ("We, the Heads of
# State and Government of the" / "Member States of the African Union;"), in the languages of `language`.
_FUNCTION = """a an and as at by for from in into its of on or our than that the their this to which who whose
with au aux de des du en et la le les ou par pour sur un une het een van voor met door te op der den die das
und von zu el los las del con para y e o do da dos das em"""
FUNCTION_WORDS = frozenset(_FUNCTION.split())
_LAST_WORD = re.compile(r"([^\W\d_]+)\W*$")


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


def unfinished(text: str) -> bool:
    """Whether a line cannot be a whole title: it ends with a function word or a comma, or starts as a list item."""
    stripped = text.strip()
    if stripped.endswith((",", "-", "\u00ad")) or stripped[:1] in "—–-•▪◦":
        return True
    last = _LAST_WORD.search(stripped)
    return last is not None and stripped[last.end(1) :].strip() == "" and last.group(1).lower() in FUNCTION_WORDS


def lone_mark(text: str) -> bool:
    """A line that is only a letter or a roman numeral ("B", "c", "IV."): a unit's mark set on its own line."""
    return re.fullmatch(r"[A-Za-z]|[IVXivx]{1,4}\.?", text.strip()) is not None


def small_caps_title(text: str) -> bool:
    """A short line with no capital at all: small capitals that the text layer gives in lower case ("final act")."""
    words = text.split()
    return 0 < len(words) <= 8 and not any(c.isupper() for c in text) and any(c.isalpha() for c in text)


_NUMBERED_TITLE = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+(?P<title>[^\W\d_].*)$")
_PROTOCOL = re.compile(r"^(?:(?P<adjective>[^\W\d_]+)\s+)?protocol\b(?:\s+no\.?\s*(?P<num>\d{1,3})\b)?", re.IGNORECASE)
_DATELINE = re.compile(
    r"^[A-Z][^\W\d_][\w .'’-]{0,30},\s+(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)?[. ]?\s?)?"
    r"(?:[IVX]{1,4}|[A-Z][a-z]{2,8})[. ]\s?\d{4}\.?$"
)


def numbered_title(text: str, single: bool) -> str | None:
    """The number of a numbered section title ("2.1 The EU citizen", "4.3.2. Findings"), else None.

    The title is a short line with no sentence ending that starts with a capital. A single number
    ("1. Introduction") counts only when `single` (where it cannot be a numbered paragraph's).
    """
    match = _NUMBERED_TITLE.match(text.strip())
    if match is None or (not single and "." not in match.group("num")):
        return None
    title = match.group("title")
    if len(title.split()) > 14 or not title[0].isupper() or re.search(r"[.;:!?,]$", title) or unfinished(title):
        return None
    return match.group("num")


def protocol_name(text: str) -> str | None:
    """ "Protocol No. 4", "Optional Protocol", "Protocol" for a heading that starts a protocol; else None."""
    match = _PROTOCOL.match(text.strip())
    if match is None or len(text.split()) > 20:
        return None
    adjective = match.group("adjective")
    if adjective is not None and adjective.lower() in FUNCTION_WORDS:
        return None  # "the Protocol ..." is prose, "Text of the 1967 Protocol" a title of something else
    name = f"{adjective.capitalize()} Protocol" if adjective else "Protocol"
    return f"{name} No. {match.group('num')}" if match.group("num") else name


def dateline(text: str) -> bool:
    """A place and a date under a title ("Rome, 4.XI.1950", "Geneva, 28 July 1951"): not a section."""
    return _DATELINE.match(text.strip()) is not None


def is_structural(text: str) -> bool:
    """Whether a line is a unit's or a division's heading ("Article 33", "CHAPTER I")."""
    return bool(ARTICLE.match(text) or OBJECTIVE.match(text) or division(text))
