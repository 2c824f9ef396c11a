"""The paper printed as a PDF (numbered paragraphs, footnotes at the foot of each page, a running header,
page numbers) gives the same 21 paragraphs and 8 footnotes, labels and text, as its Markdown.

Also hypothesis tests over generated PDFs: every passage's text is found in its pages' cleaned text
(provenance) and passages never overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.records import Document, FootnoteCall, Passage
from ingest.extraction import extract_pdf
from ingest.headings import FUNCTION_WORDS
from ingest.library import discover, load
from ingest.pdf import page_lines, structure

from .conftest import PAPER


class PrintedPaper(FPDF):
    """A4, Helvetica 10 pt, numbered paragraphs with a hanging indent, footnotes in 7.5 pt at the foot."""

    def __init__(self, running_header: str, notes: dict[str, str]) -> None:
        super().__init__(format="A4", unit="pt")
        self.core_fonts_encoding = "cp1252"
        self.running_header = running_header
        self.notes = notes
        self.notes_on_page: dict[int, list[str]] = {}
        self.set_margins(56, 60, 56)
        self.set_auto_page_break(True, margin=190)

    def header(self) -> None:
        self.set_font("Helvetica", "", 8)
        self.set_xy(56, 30)
        self.cell(0, 10, self.running_header)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        y = self.h - 180
        for number in self.notes_on_page.get(self.page_no(), []):
            self.set_xy(56, y)
            self.set_font("Helvetica", "", 7.5)
            self.char_vpos = "SUP"
            self.cell(8, 9, number)
            self.char_vpos = "LINE"
            self.set_font("Helvetica", "", 7.5)
            self.set_xy(66, y)
            self.multi_cell(self.w - 122, 9, self.notes[number])
            y = self.get_y() + 2
        self.set_font("Helvetica", "", 9)
        self.set_xy(0, self.h - 34)
        self.cell(self.w, 10, str(self.page_no()), align="C")

    def passage(self, marker: str, text: str, calls: Sequence[FootnoteCall]) -> None:
        self.set_font("Helvetica", "", 10)
        self.set_x(56)
        self.write(14, marker)
        self.set_left_margin(80)
        self.set_x(80)
        position = 0
        for call in calls:
            self.write(14, text[position : call.offset])
            self.char_vpos = "SUP"
            self.write(14, call.number)
            self.char_vpos = "LINE"
            self.notes_on_page.setdefault(self.page_no(), []).append(call.number)
            position = call.offset
        self.write(14, text[position:])
        self.set_left_margin(56)
        self.ln(22)

    def heading(self, text: str) -> None:
        self.set_font("Helvetica", "B", 12)
        self.set_x(56)
        self.multi_cell(0, 16, text)
        self.ln(6)


def print_paper(paper: Document, path: Path) -> Path:
    notes = {p.paragraph or "": p.text for p in paper.passages if p.kind == "footnote"}
    printed = PrintedPaper(paper.info.title, notes)
    printed.add_page()
    for p in paper.passages:
        if p.kind == "heading":
            printed.heading(p.text)
        elif p.kind == "paragraph":
            printed.passage(f"{p.paragraph}.", p.text, p.footnote_calls)
        elif p.kind == "list-item":
            printed.passage("\u2022", p.text, p.footnote_calls)
    printed.output(str(path))
    return path


@pytest.fixture(scope="module")
def markdown_paper() -> Document:
    sources, failures = discover([PAPER])
    assert failures == []
    return load(sources[0])


@pytest.fixture(scope="module")
def pdf_paper(markdown_paper: Document, tmp_path_factory: pytest.TempPathFactory) -> list[Passage]:
    path = print_paper(markdown_paper, tmp_path_factory.mktemp("paper") / "paper.pdf")
    return structure(extract_pdf((str(path), 100)), "paper", None).passages


def _units(passages: Sequence[Passage]) -> list[tuple[str, str, str, list[tuple[int, str]]]]:
    return [
        (p.kind, p.label, p.text, [(c.offset, c.number) for c in p.footnote_calls])
        for p in passages
        if p.kind in ("paragraph", "footnote")
    ]


def test_the_printed_paper_gives_the_markdowns_paragraphs_and_footnotes(
    markdown_paper: Document, pdf_paper: list[Passage]
) -> None:
    expected = _units(markdown_paper.passages)
    found = _units(pdf_paper)
    assert sorted(found) == sorted(expected)
    assert sum(1 for unit in found if unit[0] == "paragraph") == 21
    assert sum(1 for unit in found if unit[0] == "footnote") == 8


def test_the_printed_papers_footnotes_link_to_their_paragraphs(pdf_paper: list[Passage]) -> None:
    by_anchor = {p.anchor: p for p in pdf_paper}
    for note in (p for p in pdf_paper if p.kind == "footnote"):
        caller = by_anchor[note.called_from or ""]
        assert note.paragraph in [c.number for c in caller.footnote_calls]
        assert caller.page is not None and note.page is not None
        assert note.page in (caller.page, caller.page + 1)  # at the foot of the page where the call fell


def test_the_running_header_and_page_numbers_are_not_text(pdf_paper: list[Passage], markdown_paper: Document) -> None:
    title = markdown_paper.info.title
    assert not any(p.text == title for p in pdf_paper)  # the header is dropped on every page
    pages = sorted({p.page for p in pdf_paper if p.page})
    assert pages == list(range(1, len(pages) + 1)) and len(pages) >= 3
    assert all(p.page_label == str(p.page) for p in pdf_paper)  # printed numbers match the physical ones


HEADER = "Generated Report on Protection"
WORDS = st.sampled_from(
    [
        *("refugee", "state", "protection", "migrant", "border", "asylum", "right", "person", "law", "duty"),
        *("return", "fear", "country", "camp", "shelter", "water", "family", "child", "court", "office"),
        *("report", "the", "of", "and", "to", "in", "a", "for", "on", "with"),
    ]
)
SENTENCE = st.lists(WORDS, min_size=4, max_size=22).map(lambda words: " ".join(words).capitalize() + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=4).map(" ".join)
BLOCK = st.tuples(st.sampled_from(["numbered", "plain", "heading"]), PARAGRAPH)


def _mostly_text(blocks: Sequence[tuple[str, str]]) -> bool:
    """Body text must outweigh headings, or nothing tells the body's font size from the headings'."""
    body = sum(len(text) for kind, text in blocks if kind != "heading")
    headings = sum(len(title(text)) for kind, text in blocks if kind == "heading")
    return body >= 2 * headings and body > 0


def title(text: str) -> str:
    """A generated heading: the paragraph's first words, ending on a content word as titles do."""
    words = text.split()[:5]
    while len(words) > 1 and words[-1].lower().rstrip(".") in FUNCTION_WORDS:
        words.pop()
    return " ".join(words).rstrip(".")


def print_blocks(blocks: Sequence[tuple[str, str]], path: Path) -> Path:
    printed = PrintedPaper(HEADER, {})
    printed.add_page()
    number = 0
    for kind, text in blocks:
        if kind == "heading":
            printed.heading(title(text))
        elif kind == "numbered":
            number += 1
            printed.passage(f"{number}.", text, ())
        else:
            printed.passage("", text, ())
    printed.output(str(path))
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks=st.lists(BLOCK, min_size=1, max_size=30).filter(_mostly_text))
def test_passages_come_from_their_pages_text_in_order_without_overlap(
    blocks: list[tuple[str, str]], tmp_path: Path
) -> None:
    pdf = extract_pdf((str(print_blocks(blocks, tmp_path / "generated.pdf")), 100))
    passages = [p for p in structure(pdf, "generated", None).passages if p.kind != "heading"]
    pages, _, _ = page_lines(pdf)
    cleaned = [" ".join(line.text for line in lines) for lines in pages]
    whole = " ".join(cleaned)
    starts = [sum(len(text) + 1 for text in cleaned[:index]) for index in range(len(cleaned))]
    position = 0
    for p in passages:
        found = whole.find(p.text, position)
        assert found >= 0, p.text  # provenance: a verbatim slice of the cleaned pages
        assert p.page is not None and starts[p.page - 1] <= found < starts[p.page - 1] + len(cleaned[p.page - 1]) + 1
        position = found + len(p.text)  # the next passage starts after this one ends: no overlap
    texts = [text for kind, text in blocks if kind != "heading"]
    # a one-page PDF has no repetition to tell its header and page number from text: they stay
    assert [p.text for p in passages if p.text != HEADER and not p.text.isdigit()] == texts
