"""Units a question cites by number ("Article 33", "Objective 13(b)", "regulation 6", "recital 42", "Protocol No. 6",
"para. 7" of a paper whose paragraphs are numbered; beside another unit, "paragraph 2 of Article 33" is the article's).

A passage's label says which unit it is ("Article 33(1)" is unit ("article", 33)). A question that
cites a unit prefers that unit's passages, in the documents it names when it names any; a question
that cites a unit no such document has ("Article 47 of the 1951 Convention", which has 46) is asking
about something the library does not hold. Roman numerals count as their number (Article XX = Article 20).
A numbered protocol printed after a convention's text ("Protocol No. 6, Article 1") is a unit too: "Article 1 of
Protocol No. 6" is that protocol's Article 1, not the convention's; a protocol that no document prints nor
writes of ("Protocol No. 17" of the ECHR, which has 16) is not in the library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from .records import Passage

_UNITS = {
    "article": "article",
    "art": "article",
    "arts": "article",
    "articles": "article",
    "objective": "objective",
    "objectives": "objective",
    "regulation": "regulation",
    "reg": "regulation",
    "recital": "recital",
    "recitals": "recital",
    "rule": "rule",
    "principle": "principle",
    "paragraph": "paragraph",
    "paragraphs": "paragraph",
    "para": "paragraph",
    "paras": "paragraph",
}
PARAGRAPH = "paragraph"
# "604/2013" after "Regulation" is a regulation's number, not its regulation 604
_NUMBER = r"(\d{1,4}|[IVXLC]{1,7})\b(?![/.]\d)"
# the paragraphs and points that follow a unit's number: "Article 29(2)", "Article 10(1)(d)", "regulation 6 (1)"
_SUBDIVISIONS = r"((?:\s?\(\s*(?:\d{1,3}|[a-z]{1,4})\s*\))*)"
_SUBDIVISION = re.compile(r"\(\s*(\d{1,3}|[a-z]{1,4})\s*\)", re.IGNORECASE)
_CITED = re.compile(r"\b(" + "|".join(_UNITS) + r")\.?\s+" + _NUMBER + _SUBDIVISIONS, re.IGNORECASE)
# at the start of the label: "Protocol No. 1, Article 3" belongs to the protocol, not to the convention's Article 3
_LABEL = re.compile(r"^(" + "|".join(_UNITS) + r")\.?\s+" + _NUMBER + _SUBDIVISIONS, re.IGNORECASE)
_PART_LABEL = re.compile(r",\s*(" + "|".join(_UNITS) + r")\.?\s+" + _NUMBER, re.IGNORECASE)
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
_CITED_PROTOCOL = re.compile(r"\bprotocol\s+(?:no\.?\s*)?(\d{1,2})\b(?![.,]\d)", re.IGNORECASE)  # not "Protocol 14bis"
# a protocol's part of a document: "Protocol No. 6, Article 1", "Protocol No. 6, para. 3"; an unnumbered "Protocol"
# before numbered ones is the first (the ECHR prints Protocol No. 1 as "Protocol")
_PROTOCOL_LABEL = re.compile(r"^protocol(?:\s+no\.?\s*(\d{1,2}))?\s*,", re.IGNORECASE)
PROTOCOL = "protocol"

Unit = tuple[str, int]


def roman(text: str) -> int | None:
    """The value of a Roman numeral in upper case, None when it is not one."""
    if not text or any(c not in _ROMAN for c in text):
        return None
    total = 0
    for i, c in enumerate(text):
        value = _ROMAN[c]
        total += -value if i + 1 < len(text) and _ROMAN[text[i + 1]] > value else value
    return total


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else roman(text)


def cited_units(question: str) -> frozenset[Unit]:
    """The units a question cites: "What does Article 13 of the ICCPR say?" -> {("article", 13)}; "Article 1 of
    Protocol No. 6" -> {("article", 1), ("protocol", 6)}."""
    found = {(PROTOCOL, int(m.group(1))) for m in _CITED_PROTOCOL.finditer(question)}
    found.update(unit for unit, _ in _citations(question))
    if any(kind not in (PARAGRAPH, PROTOCOL) for kind, _ in found):
        # "paragraph 2 of Article 33" is the article's paragraph, not a numbered paragraph of a paper
        found = {unit for unit in found if unit[0] != PARAGRAPH}
    return frozenset(found)


def cited_subdivisions(question: str) -> frozenset[tuple[Unit, tuple[str, ...]]]:
    """The paragraphs and points a question cites within a unit: "Article 29(2) of Dublin III" -> {(("article",
    29), ("2",))}; a unit cited without one ("Article 29") gives nothing here."""
    return frozenset((unit, parts) for unit, parts in _citations(question) if parts)


def _citations(question: str) -> Iterator[tuple[Unit, tuple[str, ...]]]:
    """Each unit the question cites by a unit word and number, with the paragraphs and points cited within it."""
    for match in _CITED.finditer(question):
        number_text = match.group(2)
        if not number_text.isdigit() and number_text != number_text.upper():
            continue  # "article in" is not Article I
        number = _number(number_text.upper())
        if number is not None:
            yield (_UNITS[match.group(1).lower()], number), _subdivisions(match.group(3))


def subdivisions_of(passage: Passage) -> tuple[str, ...]:
    """The paragraphs and points of a passage's label: "Article 10(1)(d)" -> ("1", "d"); "Article 10" -> ()."""
    match = _LABEL.search(passage.label)
    return _subdivisions(match.group(3)) if match is not None else ()


def _subdivisions(text: str | None) -> tuple[str, ...]:
    return tuple(part.lower() for part in _SUBDIVISION.findall(text or ""))


def without_citations(question: str) -> str:
    """The question less the units it cites: "What does Article 33 say?" -> "What does  say?"."""
    return _CITED_PROTOCOL.sub(" ", _CITED.sub(" ", question))


def unit_of(passage: Passage) -> Unit | None:
    """The unit a passage belongs to, read from its label ("Article 3(2)" -> ("article", 3)); a unit of a protocol
    or annex printed after the main text ("Protocol No. 1, Article 3") is not the main text's unit."""
    return _unit(_LABEL.search(passage.label))


def part_unit_of(passage: Passage) -> Unit | None:
    """The unit of a protocol or annex printed after the main text ("Optional Protocol, Article 13" ->
    ("article", 13)): it shares the main text's numbers, but a question citing "Article 13" means the main one."""
    return _unit(_PART_LABEL.search(passage.label))


def _unit(match: re.Match[str] | None) -> Unit | None:
    if match is None:
        return None
    number = _number(match.group(2).upper())
    return (_UNITS[match.group(1).lower()], number) if number is not None else None


def _protocols(passages: Sequence[Passage]) -> list[int | None]:
    """For each passage, the number of the protocol it is part of (None: none, or a protocol without a number)."""
    matches = [_PROTOCOL_LABEL.match(p.label) for p in passages]
    numbered = {p.document_id for p, m in zip(passages, matches, strict=True) if m is not None and m.group(1)}
    return [
        None if m is None else int(m.group(1)) if m.group(1) else 1 if p.document_id in numbered else None
        for p, m in zip(passages, matches, strict=True)
    ]


class UnitIndex:
    """For each (document, unit), the searchable rows that belong to it; and for each (document, protocol), the rows
    of the protocol and of each of its units."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self._rows: dict[tuple[str, Unit], list[int]] = {}
        self._subdivisions = [subdivisions_of(p) for p in passages]
        self._part_rows: dict[tuple[str, Unit], list[int]] = {}
        self._protocol_rows: dict[tuple[str, int, Unit | None], list[int]] = {}  # (document, protocol, unit or None)
        for row, (passage, protocol) in enumerate(zip(passages, _protocols(passages), strict=True)):
            unit = unit_of(passage)
            part_unit = part_unit_of(passage) if unit is None else None
            if unit is not None:
                self._rows.setdefault((passage.document_id, unit), []).append(row)
            elif part_unit is not None:
                self._part_rows.setdefault((passage.document_id, part_unit), []).append(row)
            if protocol is not None:
                self._protocol_rows.setdefault((passage.document_id, protocol, None), []).append(row)
                if part_unit is not None:
                    self._protocol_rows.setdefault((passage.document_id, protocol, part_unit), []).append(row)
        self._documents = sorted({d for d, _ in self._rows} | {d for d, _, _ in self._protocol_rows})

    def rows(self, units: Iterable[Unit], documents: Iterable[str] | None = None) -> list[int]:
        """Rows of those units, in those documents (all documents when None). With a protocol cited, the units
        cited beside it are the protocol's ("Article 1 of Protocol No. 6"), and the protocol alone is all of it."""
        where = self._documents if documents is None else sorted(documents)
        protocols, others = _split(units)
        if protocols:
            inside: list[Unit | None] = list(others) or [None]
            return [
                row
                for protocol in protocols
                for d in where
                for unit in inside
                for row in self._protocol_rows.get((d, protocol, unit), [])
            ]
        return [row for unit in others for d in where for row in self._rows.get((d, unit), [])]

    def exact(self, cited: Iterable[tuple[Unit, tuple[str, ...]]], documents: Iterable[str] | None = None) -> list[int]:
        """Rows of the paragraphs and points cited within a unit ("Article 29(2)": the passages labelled "Article
        29(2)", "Article 29(2)(a)" ...), in those documents (all when None); not a protocol's."""
        where = self._documents if documents is None else sorted(documents)
        return [
            row
            for unit, parts in cited
            for d in where
            for row in self._rows.get((d, unit), [])
            if self._subdivisions[row][: len(parts)] == parts
        ]

    def shadowed(self, units: Iterable[Unit], documents: Iterable[str] | None = None) -> list[int]:
        """Rows of a protocol's or annex's units that share a cited unit's number in a document whose main text
        has that unit: "Article 13 of the ICCPR" is not the Optional Protocol's Article 13 (none when the question
        cites a protocol: then the protocol's units are the ones asked about)."""
        where = self._documents if documents is None else sorted(documents)
        protocols, others = _split(units)
        if protocols:
            return []
        return [
            row
            for unit in others
            for d in where
            if (d, unit) in self._rows
            for row in self._part_rows.get((d, unit), [])
        ]

    def missing(self, units: Iterable[Unit], documents: Iterable[str]) -> frozenset[Unit]:
        """The cited units that none of `documents` has (a cited protocol's units: that none of its protocols has).
        A protocol that no document prints may still be written of ("as amended by Protocol No. 14"): the searcher
        asks the text before it calls one missing."""
        where = list(documents)
        protocols, others = _split(units)
        if protocols:
            found = [(d, p) for d in where for p in protocols if (d, p, None) in self._protocol_rows]
            lacking = {(PROTOCOL, p) for p in protocols if not any(q == p for _, q in found)}
            if not found:
                return frozenset(lacking)
            return frozenset(lacking) | frozenset(
                u for u in others if not any((d, p, u) in self._protocol_rows for d, p in found)
            )
        return frozenset(u for u in others if not any((d, u) in self._rows for d in where))


def _split(units: Iterable[Unit]) -> tuple[list[int], list[Unit]]:
    """The cited protocols' numbers, and the other cited units."""
    protocols = sorted(n for kind, n in units if kind == PROTOCOL)
    return protocols, sorted(u for u in units if u[0] != PROTOCOL)
