"""Passages that are not prose a question could be answered by: kept for the document view, not searched.

Every rule reads layout and wording, never a list of strings from particular files:

- fragment: no sentence at all ("THE YEAR OF", "INTERNALLY", a lone footnote number, "Fee paid:").
- signature: "Done at ...", "IN WITNESS WHEREOF ...", and what follows them in the same section (the names
  of the signatories, the list of States that ratified).
- form: fields to fill in (dot or underscore leaders, "(Y/N)", "dd/mm/yyyy", "Name:"), and everything under a
  form's heading ("Form 1", "REGISTRATION FORM FOR ...") up to the next unit or division.
- table: rows of numbers or cross-references with no sentence between them (a correlation table's
  "Article 20(1)(b) Article 25(1)"), cells joined by " | ".
- front-matter: cover and back-cover pages (no sentence of prose on them, at either end of a paged document),
  publisher's notes (copyright, ISBN, P.O. Box) and running titles (the same short text on three or more
  places of a document); a short line repeated word for word three times or more (the Dutch treaty database's
  "Treedt in werking op een nader te bepalen tijdstip" under each article, a form's "Comments on implementation
  status: (Time 2)") is found earlier, by `repeated_notes`, so that it neither joins a unit's text nor stands as
  the unit ("Repeated text" in the document view).

- lead-in: a clause that only opens what follows ("States Parties shall ensure that:", "The States Parties to
  the present Convention,", "Have agreed as follows:"): kept and cited, but alone it answers nothing; the items
  it opens read it in their context (index/context.py). It ends open (":", "—", "that"; "," only where it opens
  its section, as a preamble's opening does: the considerations after it, "Having regard to ...,", "Whereas
  ...,", end with a comma too and say something), holds no sentence end, has at most LEAD_IN_WORDS words, and
  is followed by what it opens: its sub-units ("Article 5" by "Article 5(a)"), list items, the rest of its
  section (a comma), or a heading (":", the enacting formula before the articles). LEAD_IN_WORDS = 15: the
  library's chapeaux run from 4 words ("Have agreed as follows:") to 15 ("In the case of a Federal or
  non-unitary State, the following provisions shall apply:"), while provisions ending ":" that oblige on their
  own run from 18 up (the Smuggling Protocol's Article 17, "... shall consider the conclusion of ... agreements
  ... aimed at:"; CEDAW's Article 13, 38). A depositary's "The Secretary-General ... shall inform ... of:"
  (17-23 words) is left searched: missing a lead-in costs less than hiding an obligation. Found once a
  document is cited (`set_aside_lead_ins`), so its citation and those after it stay what they were.

Tables of contents are found earlier, while the numbering is built (`contents`), because their headings
must not open sections. Numbered units (articles, numbered paragraphs, footnotes) are prose by position:
they are set aside only when empty of words, inside a form or a signature block, or a form field, and a footnote
of fewer than three words ("Ibid.", "Headline added.") is a fragment.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from index.records import Passage, parent_label

from .headings import ARTICLE, OBJECTIVE, division

_WORD = re.compile(r"[^\W\d_]+")
_TERMINAL = re.compile(r"[.!?;:,…][\"'”’)\]]*$")
_SIGNATURE = re.compile(
    r"^(?:(?:done|fait|gedaan|hecho|feito|geschehen|fatto)\s+(?:at|in|à|a|te|zu|en|em)\b"
    r"|in\s+(?:witness|faith)\s+where(?:of|to)|en\s+foi\s+de\s+quoi|ten\s+blijke\s+waarvan"
    r"|\(signed\)|signed\s+(?:by|for|on\s+behalf\s+of)\b|for\s+the\s+(?:government|president|council|parliament)\s+of\b)",
    re.IGNORECASE,
)
_FIELD = re.compile(
    r"\.{8,}|…{3,}|_{3,}|[☐□■]|\((?:y/n|yes/no|m/f)\)|\byes/no\b|dd/mm/yy|mm/yyyy|\(tick\b|\(delete as appropriate\)",
    re.IGNORECASE,
)
_LABEL = re.compile(r"(?:^|\s)[A-Z][\w’'/.()-]*(?:\s+[\w’'/.()-]+){0,3}:(?=\s|$)")
_FORM_HEADING = re.compile(r"^form\s+[\w.-]{1,6}$|\bform\b(?:\s+(?:for|of)\b.*)?$", re.IGNORECASE)
_REFERENCE = re.compile(
    r"\b(?:articles?|art\.|annex|points?|paragraphs?)\s+[\dIVXLC]+[a-z]?(?:\([\w]+\))*", re.IGNORECASE
)
_PUBLISHER = re.compile(
    r"©|\bcopyright\b|\bISBN\b|\bISSN\b|all rights reserved|\bP\.\s?O\.\s?Box\b|cover photo",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+\.\w+|\b\S+\.(?:org|int|com|net|eu|gov)\b\S*")
_SEARCHED = frozenset(("paragraph", "footnote", "article", "list-item", "text"))
_LEADS = frozenset(("paragraph", "article", "list-item", "text"))  # a footnote introduces nothing that follows
LEAD_IN_WORDS = 15  # a chapeau is at most this long; see the module's docstring
_OPEN = re.compile(r"(?:[:,—–]|\bthat)[\"'”’)\]]*$")
_INNER_END = re.compile(r"[a-z][.!?;][\"'”’)\]]*\s+[A-Z“\"]")  # "... persons. States Parties shall:" is two
_NUMBERED = frozenset(("paragraph", "footnote", "article"))
_FORM_ENDS = frozenset(("chapter", "annex", "schedule", "appendix", "protocol", "title", "preamble"))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def sentence(text: str) -> bool:
    """Whether `text` reads as at least one sentence: enough words, most not capitalised, and an ending.

    Words in a script without capitals count as lower case; a run of such text is a sentence by its length.
    A sentence that opens a list of names ("... were represented: Argentina, Australia, ...") still counts.
    """
    found = words(_ADDRESS.sub(" ", text))  # "www.echr.coe.int" is not four lower-case words
    caseless = sum(len(w) for w in found if not any(c.isupper() or c.islower() for c in w))
    if caseless >= 25:
        return True
    return _reads(found, text) or (len(found) > 20 and _reads(found[:20], ""))


def _reads(found: list[str], text: str) -> bool:
    lower = sum(1 for w in found if not w[0].isupper())
    if len(found) < 3 or lower < 0.3 * len(found):
        return False
    # a clause a page or a column cut off still reads as one: many words, mostly lower case
    return bool(_TERMINAL.search(text.rstrip())) or len(found) >= 12 or (len(found) >= 8 and lower >= 0.5 * len(found))


def prose(text: str) -> bool:
    """A sentence of some length that ends as a sentence does: what a page of real text has at least one of."""
    return len(words(text)) >= 8 and sentence(text) and re.search(r"[.!?;][\"'”’)\]]*$", text.rstrip()) is not None


def form_field(text: str) -> bool:
    """Blanks to fill in ("Nationality ......", "(Y/N)", "dd/mm/yyyy"): a form whatever its numbering."""
    return _FIELD.search(text) is not None


def field_labels(text: str) -> bool:
    """Labels with nothing after them: "Office: Principal Applicant Derivative:"."""
    return len(_LABEL.findall(text)) >= 2 and not sentence(_LABEL.sub(" ", text))


# the words a correlation table's cells are made of besides numbers: "Article 2, point (j), introductory wording",
# "Article 17(2), second subparagraph", "Directive 2011/95/EU", "Annex II", "—"
_CROSS_REFERENCE_WORDS = frozenset(
    [
        "article",
        "articles",
        "art",
        "point",
        "points",
        "paragraph",
        "paragraphs",
        "subparagraph",
        "subparagraphs",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "introductory",
        "wording",
        "indent",
        "indents",
        "and",
        "annex",
        "annexes",
        "this",
        "regulation",
        "directive",
        "eu",
        "ec",
        "no",
        "sentence",
        "letter",
        "part",
        "chapter",
        "section",
        "recital",
        "recitals",
        "deleted",
        "new",
        "repealed",
    ]
)
CORRELATION_SHARE = 0.15  # at most this share of a correlation table's words are anything else


def correlation_table(text: str) -> bool:
    """A run of cross-references and nothing else ("Article 30(1) and (2) Article 30(3) Article 31(1), first
    subparagraph ..."): a regulation's correlation table, even where its column lands under an article's label."""
    if len(_REFERENCE.findall(text)) < 4:
        return False
    found = words(text)
    other = [
        w
        for w in found
        if len(w) > 1 and w.lower() not in _CROSS_REFERENCE_WORDS and not set(w.upper()) <= set("IVXLC")
    ]
    return len(other) <= CORRELATION_SHARE * len(found)


def table_row(text: str) -> bool:
    """Cells or cross-references with no sentence between them."""
    if text.count(" | ") >= 1 and not sentence(text.replace(" | ", " ")):
        return True
    found = words(text)
    if not found:
        return False
    numbers = len(re.findall(r"(?<![\w.])[\d.,%]+(?![\w])", text))
    if numbers >= 3 and numbers >= len(found) and not sentence(text):
        return True
    references = _REFERENCE.findall(text)
    rest = _REFERENCE.sub(" ", text)
    if references and not words(rest):
        return True  # "— Article 24", "Article 24(1) —"
    return len(references) >= 2 and len(words(rest)) <= len(found) / 2 and not sentence(rest)


NOTE_WORDS = 12  # an editor's note is short
NOTE_REPEATS = 3  # and comes back as a whole paragraph this many times or more (as a running title does)


def repeated_notes(texts: Sequence[str]) -> frozenset[str]:
    """The short paragraphs, not ending as a sentence, that a document repeats word for word NOTE_REPEATS times
    or more: an editor's note on each unit ("Treedt in werking op een nader te bepalen tijdstip"), not text."""
    counts = Counter(" ".join(t.split()) for t in texts)
    return frozenset(
        text
        for text, n in counts.items()
        if n >= NOTE_REPEATS
        and len([w for w in words(text) if len(w) > 1]) >= 3  # not a list's "(a)" printed apart from its text
        and len(words(text)) <= NOTE_WORDS
        and not _TERMINAL.search(text)
    )


def set_aside(passages: Sequence[Passage], pages: int | None = None) -> list[Passage]:
    """The passages with a noise kind where they are not prose; the others unchanged."""
    covers = _cover_pages(passages, pages)
    repeated = _repeated(passages)
    out: list[Passage] = []
    form = signature = False
    for p in passages:
        if p.kind == "heading":
            form = _opens_form(p.text) or (form and not _closes_form(p.text))
            signature = False
            out.append(p)
            continue
        if p.kind not in _SEARCHED:
            out.append(p)
            continue
        signature = signature or bool(_SIGNATURE.match(p.text))
        kind = _kind(p, form, signature, p.page in covers, _flat(p.text) in repeated)
        out.append(p if kind is None else replace(p, kind=kind))
    return out


def set_aside_lead_ins(passages: Sequence[Passage]) -> list[Passage]:
    """The passages with kind "lead-in" where they only open what follows; the others unchanged.

    Run on a document's final passages, once they are cited (a lead-in keeps the citation its text had, and the
    text after it keeps its own) and their sections are final (a preamble's opening is the first of its section).
    """
    out: list[Passage] = []
    opened: set[tuple[str, ...]] = set()  # sections whose first passage has been seen
    for i, p in enumerate(passages):
        first = p.kind != "heading" and p.section not in opened
        if p.kind != "heading":
            opened.add(p.section)
        follower = passages[i + 1] if i + 1 < len(passages) else None
        out.append(replace(p, kind="lead-in") if lead_in(p, follower, first) else p)
    return out


def lead_in(p: Passage, follower: Passage | None, first: bool) -> bool:
    """Whether `p` only opens what `follower` begins (see the module's docstring); `first`: p opens its section."""
    text = p.text.rstrip()
    if p.kind not in _LEADS or follower is None or not _OPEN.search(text) or _INNER_END.search(text):
        return False
    if len(words(text)) > LEAD_IN_WORDS:
        return False
    if text.rstrip("\"'”’)]").endswith(","):
        return first and follower.section == p.section and follower.kind != "heading"
    if follower.kind == "heading":
        return text.endswith(":")
    return follower.section == p.section and (follower.kind == "list-item" or sub_unit(p, follower))


def sub_unit(parent: Passage, item: Passage) -> bool:
    """Whether `item` is cited as a part of `parent`: "Article 5(a)" of "Article 5", "41(a)" of "41"."""
    return parent_label(item.label) == parent.label


def _kind(p: Passage, form: bool, signature: bool, cover: bool, repeated: bool) -> str | None:
    text = p.text
    if not words(text):
        return "fragment"
    if form or form_field(text):
        return "form"
    if signature:
        return "signature"
    if p.kind == "footnote" and len(words(text)) < 3:
        # an editor's "Ibid." or "Headline added.": nothing to answer, and a document's name in its context line
        # would lift it for every question that names the document
        return "fragment"
    if correlation_table(text):  # even under a numbered unit's label: a table's column is no unit of the text
        return "table"
    if p.kind in _NUMBERED:
        return None
    if table_row(text):
        return "table"
    if cover or (_PUBLISHER.search(text) and len(words(text)) <= 60):
        return "front-matter"
    if field_labels(text):
        return "form"
    if sentence(text):
        return None
    return "front-matter" if repeated else "fragment"


def _opens_form(heading: str) -> bool:
    return len(words(heading)) <= 8 and _FORM_HEADING.search(heading.strip()) is not None


def _closes_form(heading: str) -> bool:
    if ARTICLE.match(heading) or OBJECTIVE.match(heading):
        return True
    match = division(heading)
    return match is not None and match.group("word").lower() in _FORM_ENDS


def _cover_pages(passages: Sequence[Passage], pages: int | None) -> set[int]:
    """Pages at either end of a paged document with no prose on them: covers, title pages, back covers."""
    numbered = sorted({p.page for p in passages if p.page is not None})
    if pages is None or pages < 4 or not numbered:
        return set()
    with_prose = {p.page for p in passages if p.kind in _SEARCHED and prose(p.text)}
    covers: set[int] = set()
    for run in (numbered[:3], numbered[-1:]):
        for page in run:
            if page in with_prose:
                break
            covers.add(page)
    return covers


def _repeated(passages: Sequence[Passage]) -> set[str]:
    """Short texts that come back three times or more: running titles the page furniture did not catch."""
    counts = Counter(_flat(p.text) for p in passages if p.kind in _SEARCHED and len(words(p.text)) <= 20)
    return {text for text, n in counts.items() if n >= NOTE_REPEATS and text}


def _flat(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))
