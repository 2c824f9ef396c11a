"""Units a question cites by number ("Article 33", "Objective 13(b)", "regulation 6", "recital 42").

A passage's label says which unit it is ("Article 33(1)" is unit ("article", 33)). A question that
cites a unit prefers that unit's passages, in the documents it names when it names any; a question
that cites a unit no such document has ("Article 47 of the 1951 Convention", which has 46) is asking
about something the library does not hold. Roman numerals count as their number (Article XX = Article 20).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

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
}
_NUMBER = r"(\d{1,4}|[IVXLC]{1,7})\b"
_CITED = re.compile(r"\b(" + "|".join(_UNITS) + r")\.?\s+" + _NUMBER, re.IGNORECASE)
# at the start of the label: "Protocol No. 1, Article 3" belongs to the protocol, not to the convention's Article 3
_LABEL = re.compile(r"^(" + "|".join(_UNITS) + r")\.?\s+" + _NUMBER, re.IGNORECASE)
_PART_LABEL = re.compile(r",\s*(" + "|".join(_UNITS) + r")\.?\s+" + _NUMBER, re.IGNORECASE)
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}

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
    """The units a question cites: "What does Article 13 of the ICCPR say?" -> {("article", 13)}."""
    found = set()
    for match in _CITED.finditer(question):
        number_text = match.group(2)
        if not number_text.isdigit() and number_text != number_text.upper():
            continue  # "article in" is not Article I
        number = _number(number_text.upper())
        if number is not None:
            found.add((_UNITS[match.group(1).lower()], number))
    return frozenset(found)


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


class UnitIndex:
    """For each (document, unit), the searchable rows that belong to it."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self._rows: dict[tuple[str, Unit], list[int]] = {}
        self._part_rows: dict[tuple[str, Unit], list[int]] = {}
        for row, passage in enumerate(passages):
            unit = unit_of(passage)
            if unit is not None:
                self._rows.setdefault((passage.document_id, unit), []).append(row)
            elif (part_unit := part_unit_of(passage)) is not None:
                self._part_rows.setdefault((passage.document_id, part_unit), []).append(row)
        self._documents = sorted({d for d, _ in self._rows})

    def rows(self, units: Iterable[Unit], documents: Iterable[str] | None = None) -> list[int]:
        """Rows of those units, in those documents (all documents when None)."""
        where = self._documents if documents is None else sorted(documents)
        return [row for unit in units for d in where for row in self._rows.get((d, unit), [])]

    def shadowed(self, units: Iterable[Unit], documents: Iterable[str] | None = None) -> list[int]:
        """Rows of a protocol's or annex's units that share a cited unit's number in a document whose main text
        has that unit: "Article 13 of the ICCPR" is not the Optional Protocol's Article 13."""
        where = self._documents if documents is None else sorted(documents)
        return [
            row
            for unit in units
            for d in where
            if (d, unit) in self._rows
            for row in self._part_rows.get((d, unit), [])
        ]

    def missing(self, units: Iterable[Unit], documents: Iterable[str]) -> frozenset[Unit]:
        """The cited units that none of `documents` has."""
        where = list(documents)
        return frozenset(u for u in units if not any((d, u) in self._rows for d in where))
