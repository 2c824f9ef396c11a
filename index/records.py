"""Frozen records shared by the pipeline: documents, passages and the citation they carry.

`ingest` builds these records, `index` stores and ranks them, `service` shows them. A passage's
`text` is what a reader sees and what the model embeds; offsets into it are 0-based, pages and
paragraph labels are the document's own (1-based pages, "7", "33(1)").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

# What a passage is. The first six are the document's text; the rest are kept for the document view
# but set aside from search: they are not prose a question could be answered by.
KINDS = (
    "paragraph",
    "footnote",
    "article",
    "list-item",
    "heading",
    "text",
    "contents",  # a table of contents
    "front-matter",  # cover, title page, back cover, publisher's notes, running titles
    "form",  # form fields and blank schedules
    "signature",  # signature blocks, "Done at ...", lists of signatories
    "table",  # tables of numbers and correlation tables
    "fragment",  # no sentence: a lone number, a stray word
    "lead-in",  # a clause that only opens what follows: "States Parties shall ensure that:" (ingest/noise.py)
)
SEARCHABLE_KINDS = frozenset(("paragraph", "footnote", "article", "list-item", "text"))
SET_ASIDE_KINDS = tuple(k for k in KINDS if k not in SEARCHABLE_KINDS and k != "heading")


def sha256_text(text: str) -> str:
    """Hex sha256 of a string's UTF-8 bytes: the only hash used for ids and versions."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class FootnoteCall:
    """A call such as a superscript "6" at `offset` in a passage's text, naming footnote `number`."""

    offset: int
    number: str


@dataclass(frozen=True, slots=True)
class Passage:
    """One citable unit of a document: a numbered paragraph, a footnote, an article, a list item.

    `anchor` is unique within the document and stable while the unit keeps its label, so
    `id` ("iom-approach-to-protection#para-7") survives re-indexing.
    """

    document_id: str
    anchor: str
    kind: str
    text: str
    label: str
    paragraph: str | None = None
    section: tuple[str, ...] = ()
    page: int | None = None
    page_label: str | None = None
    order: int = 0
    language: str | None = None
    footnote_calls: tuple[FootnoteCall, ...] = ()
    called_from: str | None = None  # for a footnote: the anchor of the passage that calls it

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown passage kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if not self.anchor:
            raise ValueError("a passage needs a non-empty anchor")

    @property
    def id(self) -> str:
        return f"{self.document_id}#{self.anchor}"

    @property
    def searchable(self) -> bool:
        return self.kind in SEARCHABLE_KINDS

    @property
    def section_path(self) -> str | None:
        return " > ".join(self.section) if self.section else None

    @property
    def content_hash(self) -> str:
        """sha256 of the text: two passages with the same hash share an embedding."""
        return sha256_text(self.text)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["section"] = list(self.section)
        data["footnote_calls"] = [[c.offset, c.number] for c in self.footnote_calls]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        values = dict(data)
        values["section"] = tuple(values.get("section") or ())
        values["footnote_calls"] = tuple(
            FootnoteCall(int(offset), str(number)) for offset, number in values.get("footnote_calls") or ()
        )
        return cls(**values)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What is known about a document as a whole; `sha256` is the version of its source bytes."""

    id: str
    title: str
    source: str
    sha256: str
    format: str
    body: str | None = None
    session: str | None = None
    symbol: str | None = None
    date: str | None = None
    year: int | None = None
    language: str | None = None
    source_url: str | None = None
    status: str | None = None
    publisher: str | None = None
    pages: int | None = None
    short_title: str | None = None  # what people call it: "GCM", "1951 Refugee Convention"
    aliases: tuple[
        str, ...
    ] = ()  # other names a question may use: "Global Compact for Migration", "Refugee Convention"
    set_aside: tuple[tuple[str, int], ...] = ()  # (reason, passages) left out of the index, e.g. by the sidecar
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name of the document: title, short title and aliases."""
        return tuple(n for n in (self.title, self.short_title, *self.aliases) if n)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        data["set_aside"] = [list(pair) for pair in self.set_aside]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentInfo:
        values = dict(data)
        values["extra"] = dict(values.get("extra") or {})
        values["aliases"] = tuple(values.get("aliases") or ())
        values["set_aside"] = tuple((str(r), int(n)) for r, n in values.get("set_aside") or ())
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed document: its metadata and its passages in reading order (headings included)."""

    info: DocumentInfo
    passages: tuple[Passage, ...]

    @property
    def id(self) -> str:
        return self.info.id

    def searchable(self) -> tuple[Passage, ...]:
        return tuple(p for p in self.passages if p.kind in SEARCHABLE_KINDS)

    def set_aside(self) -> dict[str, int]:
        """Passages kept for the document view but not searched, by kind; and those the sidecar excluded."""
        counts: dict[str, int] = {}
        for p in self.passages:
            if p.kind in SET_ASIDE_KINDS:
                counts[p.kind] = counts.get(p.kind, 0) + 1
        for reason, n in self.info.set_aside:
            counts[reason] = counts.get(reason, 0) + n
        return counts


_LAST_PART = re.compile(r"\([^()]+\)$")  # "(a)" of "Article 5(a)"


def parent_label(label: str) -> str | None:
    """The label of the unit that `label` is a part of: "Article 5" for "Article 5(a)", "Article 5(a)" for
    "Article 5(a)(i)"; None for a label with no part ("Article 5")."""
    return _LAST_PART.sub("", label) if _LAST_PART.search(label) else None


def citation_label(passage: Passage, title: str) -> str:
    """The citation a person would write: "IOM's Approach ..., para. 7, p. 2".

    When the printed page number differs from the PDF's page, both are given:
    "..., Article 33(1), p. 30 (PDF p. 32)".
    """
    parts = [title, passage.label]
    label, page = passage.page_label, passage.page
    if label is not None and page is not None and label != str(page):
        parts.append(f"p. {label} (PDF p. {page})")
    elif page is not None:
        parts.append(f"p. {page}")
    elif label is not None:
        parts.append(f"p. {label}")
    return ", ".join(parts)
