"""Footnotes of the EU Official Journal's two-column pages, on the real Dublin III Regulation in corpus/.

The Journal prints a note's marker as "( 1 )" with the number and ")" raised above the "(", sets the two
columns' notes side by side at the page's foot, and signs the act in small capitals just above the last
page's notes. The notes' texts below were checked by eye against the PDF (pages 2, 4, 15 and 23).
"""

from __future__ import annotations

import re

import pytest

from index.records import Document, Passage
from ingest.footnotes import FootLine, split_zone

from .conftest import CORPUS
from .ingest_support import real

pytestmark = pytest.mark.slow

DUBLIN = CORPUS / "dublin-iii-regulation.pdf"
MARKER = re.compile(r"\(\s\d{1,3}\s?\)|\(\d{1,3}\s\)")  # "( 4 )", "(4 )": a marker left in a text, not "78(2)"

# (page, number): the note's whole text
CHECKED = {
    (2, "1"): "OJ L 132, 29.5.2010, p. 11.",
    (2, "2"): "OJ L 337, 20.12.2011, p. 9.",
    (2, "3"): "See page 96 of this Official Journal.",
    (2, "4"): "See page 60 of this Official Journal.",
    (4, "1"): "OJ L 281, 23.11.1995, p. 31.",
    (4, "2"): "See page 1 of this Official Journal.",
    (4, "3"): "OJ L 218, 13.8.2008, p. 60.",
    (4, "4"): "OJ L 55, 28.2.2011, p. 13.",
    (15, "1"): "OJ L 348, 24.12.2008, p. 98.",
    (23, "1"): "OJ L 199, 31.7.2007, p. 23.",
}


def _notes(document: Document) -> list[Passage]:
    return [p for p in document.passages if p.kind == "footnote"]


def test_each_dublin_note_has_its_own_number_and_only_its_own_text() -> None:
    notes = {(p.page, p.paragraph): p.text for p in _notes(real(DUBLIN))}
    assert {key: notes.get(key) for key in CHECKED} == CHECKED
    pages = sorted({page for page, _ in notes})
    assert pages == [1, 2, 3, 4, 10, 15, 23]
    for page in pages:  # every page numbers its notes 1, 2, 3 ... with none missing, merged or repeated
        numbers = [number for p, number in notes if p == page]
        assert numbers == [str(n) for n in range(1, len(numbers) + 1)], page


def test_no_dublin_note_holds_a_piece_of_a_marker_or_another_note() -> None:
    for note in _notes(real(DUBLIN)):
        assert not note.text.startswith(")") and not note.text.endswith("("), note.text
        assert not MARKER.search(note.text), note.text


def test_the_signatories_names_stay_in_the_signature_not_in_a_note() -> None:
    document = real(DUBLIN)
    assert not any("SCHULZ" in p.text or "SHATTER" in p.text for p in _notes(document))
    signed = [p for p in document.passages if "The President M. SCHULZ" in p.text]
    assert len(signed) == 1 and signed[0].text.endswith("The President A. SHATTER")


def test_every_dublin_note_is_linked_to_a_passage_that_calls_it_and_no_marker_is_left_in_the_body() -> None:
    document = real(DUBLIN)
    by_anchor = {p.anchor: p for p in document.passages}
    for note in _notes(document):
        caller = by_anchor[note.called_from or ""]
        assert note.paragraph in [c.number for c in caller.footnote_calls], (note.page, note.paragraph)
    callers = {(n.page, n.paragraph): by_anchor[n.called_from or ""].label for n in _notes(document)}
    assert (callers[(2, "3")], callers[(2, "4")]) == ("recital 11", "recital 12")
    body = [p for p in document.passages if p.kind != "footnote"]
    assert not any(MARKER.search(p.text) or re.search(r"(^|\s)\((\s|$)", p.text) for p in body)
    recital = next(p for p in body if p.label == "recital 12")
    [call] = recital.footnote_calls
    assert call.number == "4"
    assert recital.text[: call.offset].endswith("granting and withdrawing international protection")


def test_a_line_is_cut_only_at_the_next_notes_marker_after_a_finished_sentence() -> None:
    def zone(*texts: str) -> list[tuple[str, list[str]]]:
        lines = [FootLine(text, 7.0, 0.0, 100.0 - 9 * i) for i, text in enumerate(texts)]
        return split_zone(lines)[1]

    assert zone("( 3 ) See page 96. (4 ) See page 60.") == [("3", ["See page 96."]), ("4", ["See page 60."])]
    assert zone("( 3 ) As in Article 78. (2) of the Treaty.") == [("3", ["As in Article 78. (2) of the Treaty."])]
    assert zone("( 3 ) Under Article 78 (4) of the Treaty.") == [("3", ["Under Article 78 (4) of the Treaty."])]
