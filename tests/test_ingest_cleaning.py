"""Each cleaning rule alone, then furniture, columns, footnotes and page labels on PDFs made here."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.columns import read_columns
from ingest.extraction import assemble_line, extract_pdf
from ingest.footnotes import take_calls
from ingest.furniture import strip_furniture
from ingest.pages import CALL_CLOSE, CALL_OPEN, Line, PageText, Piece
from ingest.pdf import structure
from ingest.typography import fix_drop_cap, fix_small_caps, join_lines, normalise, unspace, vocabulary

from .ingest_support import paragraph_lines, write_pdf


def test_ligatures_and_no_break_spaces_are_normalised() -> None:
    assert normalise("eﬀective ﬁnancial\u00a0protection  of\tﬂows") == "effective financial protection of flows"


def test_letter_spaced_text_is_joined_by_its_word_gaps() -> None:
    assert unspace("c  o  n  v  e  n  t  i  o  n    a  n  d    p  r  o  t  o  c  o  l") == "convention and protocol"
    assert unspace("r e l a t i n g  t o  t h e") == "relating to the"
    assert unspace("s tat u s  o f") == "status of"
    assert unspace("Article 1 A and B") == "Article 1 A and B"  # ordinary text is left alone


def test_small_caps_are_lowered_but_acronyms_stay() -> None:
    assert fix_small_caps("prohiBition of expulsion") == "prohibition of expulsion"
    assert fix_small_caps("The high ConTraCTing parTies") == "The high Contracting parties"
    assert fix_small_caps("ECtHR case law on IDPs and UNHCR's role") == "ECtHR case law on IDPs and UNHCR's role"


def test_drop_caps_are_joined_at_a_paragraphs_start() -> None:
    words = vocabulary(["a refugee is a person", "he shall"])
    assert fix_drop_cap("T he Contracting States", words) == "The Contracting States"
    assert fix_drop_cap("N o Contracting State", words) == "No Contracting State"
    assert fix_drop_cap("A s a result of events", words) == "As a result of events"
    assert fix_drop_cap("A refugee is a person", words) == "A refugee is a person"  # "A" is a word


def test_hyphenation_is_undone_with_the_documents_vocabulary() -> None:
    words = vocabulary(["the principle of non-refoulement", "a well-founded fear", "relating to refugees"])
    assert join_lines(["instruments relat-", "ing to refugees"], words) == "instruments relating to refugees"
    assert (
        join_lines(["the principle of non-", "refoulement applies"], words)
        == "the principle of non-refoulement applies"
    )
    assert join_lines(["owing to well-", "founded fear"], words) == "owing to well-founded fear"
    assert join_lines(["applications for inter\u00ad", "national protection"], words) == (
        "applications for international protection"  # a soft hyphen always joins
    )
    assert join_lines(["the Func-", "tioning of the Union"]) == "the Functioning of the Union"
    assert join_lines(["the United Nations", "High Commissioner"]) == "the United Nations High Commissioner"


def test_a_small_lone_number_on_a_line_is_marked_as_a_footnote_call() -> None:
    line = assemble_line(500, [(0, 60, 10, "protection"), (60, 64, 6, "3"), (66, 90, 10, " today")])
    assert line is not None
    assert line.text == f"protection{CALL_OPEN}3{CALL_CLOSE} today"
    text, calls = take_calls(line.text, {"3"})
    assert text == "protection today" and [(c.offset, c.number) for c in calls] == [(10, "3")]


def test_textual_calls_are_taken_only_when_their_footnote_is_on_the_page() -> None:
    text, calls = take_calls("protection today.(1) The Committee ( 2 ), under Article 78(2)", {"1", "2"})
    assert text == "protection today. The Committee, under Article 78(2)"
    assert [c.number for c in calls] == ["1", "2"]
    assert take_calls("see Article 78(2) and (3)", set())[0] == "see Article 78(2) and (3)"


def _page(number: int, *texts: tuple[float, str]) -> PageText:
    return PageText(number, tuple(Line(y, 10, (Piece(72, 400, text, 10),)) for y, text in texts))


def test_running_header_is_dropped_but_a_real_line_that_reads_the_same_stays() -> None:
    pages = [
        _page(n, (800, "Annual Protection Report"), (760, f"Body text of page {word}."), (40, str(n + 2)))
        for n, word in zip(range(1, 6), ["one", "two", "three", "four", "five"], strict=True)
    ]
    # page 3's first body line happens to read exactly like the running header
    pages[2] = _page(3, (800, "Annual Protection Report"), (760, "Annual Protection Report"), (40, "5"))
    furnished = strip_furniture(pages)
    kept = [[line.text for line in lines] for lines in furnished.lines]
    assert kept[0] == ["Body text of page one."]
    assert kept[2] == ["Annual Protection Report"]
    assert furnished.labels == ("3", "4", "5", "6", "7")


def test_running_header_in_a_real_pdf_made_here(tmp_path: Path) -> None:
    bodies = ["Refugees have rights", "States cooperate with UNHCR", "Protection is a shared duty", "Nothing else"]
    pages = []
    for number, body in enumerate(bodies, 1):
        placed = [(72.0, 800.0, 8.0, "Annual Protection Report"), (290.0, 40.0, 9.0, str(number + 10))]
        if number == 2:  # this page's title happens to read exactly like the running header
            placed.append((72, 770, 16, "Annual Protection Report"))
        placed += paragraph_lines(f"{body} under the law of every State, as this page says. " * 3, 72, 740)
        pages.append(placed)
    pdf = extract_pdf((str(write_pdf(tmp_path / "report.pdf", pages)), 100))
    passages = structure(pdf, "report", None).passages
    headers = [(p.kind, p.page, p.page_label) for p in passages if p.text == "Annual Protection Report"]
    assert headers == [("heading", 2, "12")]
    assert [p.page for p in passages if p.kind == "text"] == [1, 2, 3, 4]
    assert all("Annual Protection Report" not in p.text for p in passages if p.kind == "text")


def test_two_columns_are_read_left_column_first() -> None:
    lines = [
        Line(800, 10, (Piece(50, 540, "A TITLE ACROSS BOTH COLUMNS", 10),)),
        *[
            Line(760 - 12 * i, 10, (Piece(50, 280, f"left {i}", 10), Piece(310, 540, f"right {i}", 10)))
            for i in range(6)
        ],
    ]
    ordered = [line.text for line in read_columns(lines)]
    assert ordered == ["A TITLE ACROSS BOTH COLUMNS"] + [f"left {i}" for i in range(6)] + [
        f"right {i}" for i in range(6)
    ]


def test_a_narrow_column_in_a_smaller_font_is_margin_notes_beside_their_paragraph() -> None:
    body = [Line(700 - 12 * i, 10, (Piece(40, 290, f"body line {i}", 10),)) for i in range(8)]
    notes = [Line(700 - 12 * i, 8, (Piece(300, 350, f"note {i}", 8),)) for i in (3, 4, 5)]
    merged = sorted(body + notes, key=lambda line: -line.y)
    joined = [Line(b.y, 10, b.pieces + n.pieces) if n else b for b, n in _pair(merged)]
    ordered = read_columns(joined)
    assert [line.text for line in ordered][2:7] == ["body line 2", "note 3", "note 4", "note 5", "body line 3"]
    assert [line.margin for line in ordered if line.text.startswith("note")] == [True, True, True]


def test_a_margin_note_beside_two_lines_is_a_margin_note_and_a_superscript_is_not() -> None:
    # two lines with a note beside them are too few for a gutter: the note is found by its smaller type, apart
    body = [Line(700 - 12 * i, 10, (Piece(40, 290 - (i % 3), f"body line {i}", 10),)) for i in range(8)]
    lines = list(body)
    lines[3] = Line(body[3].y, 10, (*body[3].pieces, Piece(300, 350, "Relocation", 8)))
    lines[4] = Line(body[4].y, 10, (*body[4].pieces, Piece(300, 340, "order.", 8)))
    ordered = read_columns(lines)
    assert [line.text for line in ordered][2:6] == ["body line 2", "Relocation", "order.", "body line 3"]
    assert [line.margin for line in ordered][3:5] == [True, True]
    # a footnote call set small right after the longest line's last word is no margin note
    called = list(body)
    called[0] = Line(body[0].y, 10, (*body[0].pieces, Piece(290.5, 294, "12", 6)))
    assert [line.text for line in read_columns(called)] == [line.text for line in called]
    assert not any(line.margin for line in read_columns(called))


def _pair(lines: list[Line]) -> list[tuple[Line, Line | None]]:
    out: list[tuple[Line, Line | None]] = []
    for line in lines:
        if out and out[-1][0].y == line.y:
            out[-1] = (out[-1][0], line)
        else:
            out.append((line, None))
    return out


def test_a_rotated_page_is_turned_upright(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "rotated.pdf", [paragraph_lines("Upside down text still reads.", 72, 760)], rotate=180)
    pdf = extract_pdf((str(path), 10))
    assert [line.text for line in pdf.pages[0].lines] == ["Upside down text still reads."]


@pytest.mark.parametrize("rotation", [90, 270])
def test_quarter_turned_pages_are_read(tmp_path: Path, rotation: int) -> None:
    path = write_pdf(tmp_path / "turned.pdf", [paragraph_lines("Landscape page of text.", 72, 760)], rotate=rotation)
    assert "Landscape page of text." in " ".join(line.text for line in extract_pdf((str(path), 10)).pages[0].lines)
