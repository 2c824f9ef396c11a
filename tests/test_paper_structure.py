"""The paper's structure as recovered by ingest: paragraphs, footnotes, pages, sections, no markup."""

from __future__ import annotations

import re

import pytest

from index.records import Document, Passage
from ingest.library import discover, load

from .conftest import PAPER, PAPER_ID

TITLE = "IOM's Approach to the Protection of Migrants and Displaced Persons"


@pytest.fixture(scope="module")
def paper() -> Document:
    sources, failures = discover([PAPER])
    assert failures == []
    (source,) = [s for s in sources if s.document_id == PAPER_ID]
    return load(source)


def by_anchor(document: Document) -> dict[str, Passage]:
    return {p.anchor: p for p in document.passages}


def test_metadata_comes_from_the_sidecar(paper: Document) -> None:
    info = paper.info
    assert info.id == PAPER_ID
    assert info.title == TITLE
    assert info.body == "Standing Committee on Programmes and Finance"
    assert info.session == "Thirty-fifth session"
    assert info.year == 2024
    assert info.format == "markdown"
    assert len(info.sha256) == 64


def test_twenty_one_numbered_paragraphs_in_order(paper: Document) -> None:
    paragraphs = [p for p in paper.passages if p.kind == "paragraph"]
    assert [p.paragraph for p in paragraphs] == [str(n) for n in range(1, 22)]
    assert [p.label for p in paragraphs][:2] == ["para. 1", "para. 2"]
    assert all(p.anchor == f"para-{p.paragraph}" for p in paragraphs)
    assert all(p.id == f"{PAPER_ID}#para-{p.paragraph}" for p in paragraphs)


@pytest.mark.parametrize(
    ("number", "start", "middle", "end"),
    [
        (
            "6",
            "The role of IOM as a global protection actor",
            "called for United Nations agencies to mainstream human rights into their work.",
            "how it understood the concept of protection.",
        ),
        (
            "11",
            "IOM has evolved from an operational logistics agency",
            "human mobility governance. This evolution demands a consistent",
            "role for IOM in protection across all contexts.",
        ),
    ],
)
def test_paragraphs_cut_by_a_page_break_come_back_whole(
    paper: Document, number: str, start: str, middle: str, end: str
) -> None:
    passage = next(p for p in paper.passages if p.kind == "paragraph" and p.paragraph == number)
    assert passage.text.startswith(start)
    assert middle in passage.text
    assert passage.text.endswith(end)
    # the footnotes printed between the two halves are not in the paragraph
    assert "Internal Displacement Monitoring Centre" not in passage.text
    assert "Inter-Agency Standing Committee, Policy" not in passage.text


def test_eight_footnotes_each_linked_to_the_paragraph_that_calls_it(paper: Document) -> None:
    footnotes = [p for p in paper.passages if p.kind == "footnote"]
    assert [f.paragraph for f in footnotes] == [str(n) for n in range(1, 9)]
    assert [f.label for f in footnotes][:1] == ["footnote 1"]
    callers = {f.paragraph: f.called_from for f in footnotes}
    assert callers == {
        "1": "para-1",
        "2": "para-1",
        "3": "para-5",
        "4": "para-6",
        "5": "para-6",
        "6": "para-7",
        "7": "para-9",
        "8": "para-19",
    }
    footnote_6 = next(f for f in footnotes if f.paragraph == "6")
    assert footnote_6.text.startswith("Inter-Agency Standing Committee, Policy Paper: Protection of Internally")
    assert footnote_6.text.endswith("An update is foreseen by 30 September 2024.")


def test_footnote_calls_keep_their_place_in_the_text(paper: Document) -> None:
    passages = by_anchor(paper)
    para_7 = passages["para-7"]
    (call,) = para_7.footnote_calls
    assert call.number == "6"
    assert para_7.text[: call.offset].endswith("adopted in 1999 by the Inter-Agency Standing Committee.")
    para_6 = passages["para-6"]
    assert [c.number for c in para_6.footnote_calls] == ["4", "5"]
    # the call after the page break is shifted into the joined text
    assert para_6.text[: para_6.footnote_calls[0].offset].endswith("into their work.")


def test_pages_follow_the_page_breaks(paper: Document) -> None:
    pages = {p.anchor: p.page for p in paper.passages}
    assert pages["para-1"] == 1
    assert pages["para-6"] == 1  # starts on page 1 and runs onto page 2
    assert pages["para-7"] == 2
    assert pages["para-11"] == 2
    assert pages["para-12"] == 3
    assert pages["para-21"] == 3
    # footnotes printed under the rule at a page's foot belong to that page
    assert pages["fn-1"] == pages["fn-3"] == 1
    assert pages["fn-4"] == pages["fn-7"] == 2
    assert pages["fn-8"] == 3
    assert paper.info.pages == 3


def test_sections_are_the_heading_path(paper: Document) -> None:
    passages = by_anchor(paper)
    assert passages["para-1"].section == ("Introduction",)
    assert passages["para-7"].section == ("Protection and rights throughout the history of IOM",)
    assert passages["para-11"].section == ("IOM's institutional approach to protection: a collective effort",)
    assert passages["para-21"].section == ("Conclusion and next steps",)
    # a footnote sits in the section of the paragraph that calls it
    assert passages["fn-6"].section == passages["para-7"].section


def test_recommendations_for_member_states_are_six_list_items(paper: Document) -> None:
    items = [p for p in paper.passages if p.kind == "list-item"]
    assert len(items) == 6
    assert [p.label for p in items] == [f"Recommendations for Member States, item {n}" for n in range(1, 7)]
    assert all(p.section == ("Conclusion and next steps", "Recommendations for Member States") for p in items)
    assert items[0].text.startswith("Join the upcoming Friends of Protection platform")
    assert items[-1].text == "Advocate for enhanced financing for protection programming."
    assert len({p.anchor for p in items}) == 6


def test_no_markup_left_in_any_text(paper: Document) -> None:
    for passage in paper.passages:
        assert "<sup>" not in passage.text and "</sup>" not in passage.text, passage.anchor
        assert not re.search(r"\]\(", passage.text), passage.anchor
        assert "**" not in passage.text and "\\(" not in passage.text, passage.anchor
        assert "  " not in passage.text, passage.anchor
    passages = by_anchor(paper)
    assert "The IOM Strategic Plan (2024–2028), which is aligned" in passages["para-2"].text
    assert "Migrants' Rights – IOM Policy and Activities" in passages["para-6"].text


def test_every_word_of_the_paper_body_is_in_some_passage(paper: Document) -> None:
    """Nothing is dropped: each word of the source (markup aside) appears in the passages."""
    source = PAPER.read_text(encoding="utf-8")
    source = re.sub(r"<sup>\d+</sup>|\]\(#\)|[\[\]*\\#]", " ", source)
    words = set(re.findall(r"[A-Za-z]{4,}", source))
    text = " ".join(p.text for p in paper.passages)
    missing = {w for w in words if w not in text}
    assert missing == set()


def test_anchors_are_unique(paper: Document) -> None:
    anchors = [p.anchor for p in paper.passages]
    assert len(anchors) == len(set(anchors))
