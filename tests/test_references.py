"""Units a question cites by number, and the passages that are those units."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from index.lookup import looks_up
from index.records import Passage
from index.references import (
    PROTOCOL,
    UnitIndex,
    cited_subdivisions,
    cited_units,
    roman,
    subdivisions_of,
    unit_of,
    without_citations,
)


def passage(document: str, label: str) -> Passage:
    return Passage(document_id=document, anchor=label.lower().replace(" ", "-"), kind="article", text="x", label=label)


def test_questions_cite_articles_objectives_regulations_and_recitals() -> None:
    assert cited_units("What does Article 13 of the ICCPR say about expelling aliens?") == {("article", 13)}
    assert cited_units("GCM objective 13(h) on child detention") == {("objective", 13)}
    assert cited_units("Under regulation 6(1), how long is the pass valid?") == {("regulation", 6)}
    assert cited_units("Dublin recital 42 and Art. 3") == {("recital", 42), ("article", 3)}
    assert cited_units("Kampala Convention Article XX on asylum") == {("article", 20)}


def test_words_that_only_look_like_citations_are_not() -> None:
    assert cited_units("Which article guarantees asylum?") == frozenset()
    assert cited_units("the article in question") == frozenset()  # "in" is no Roman numeral
    assert cited_units("13 objectives of the compact") == frozenset()


def test_a_regulations_own_number_is_no_unit_of_it() -> None:
    assert cited_units("Article 29(2) of Regulation 604/2013") == {("article", 29)}  # not its regulation 604
    assert cited_units("Regulation (EU) 2024/1347") == frozenset()
    assert cited_units("under regulation 19 of the Kenyan rules") == {("regulation", 19)}


def test_questions_cite_paragraphs_and_points_within_a_unit() -> None:
    assert cited_subdivisions("Article 29(2) of the Dublin III Regulation") == {(("article", 29), ("2",))}
    assert cited_subdivisions("What does Article 10(1)(d) say?") == {(("article", 10), ("1", "d"))}
    assert cited_subdivisions("regulation 6 (1)") == {(("regulation", 6), ("1",))}
    assert cited_subdivisions("Article XX(1) of Kampala") == {(("article", 20), ("1",))}
    assert cited_subdivisions("What does Article 29 say?") == frozenset()  # the whole article
    assert without_citations("What does Article 10(1)(d) say?") == "What does   say?"
    assert looks_up("What does Article 10(1)(d) say?")


def test_the_index_finds_the_cited_paragraph_and_its_points() -> None:
    labels = ["Article 10(1)(c)", "Article 10(1)(d)", "Article 10(2)", "Article 10", "Article 1(1)"]
    units = UnitIndex([passage("a", label) for label in labels])
    assert [subdivisions_of(passage("a", label)) for label in labels[:3]] == [("1", "c"), ("1", "d"), ("2",)]
    assert units.exact({(("article", 10), ("1",))}) == [0, 1]
    assert units.exact({(("article", 10), ("1", "d"))}) == [1]
    assert units.exact({(("article", 1), ("1",))}) == [4]  # Article 1(1), not Article 10(1)
    assert units.exact({(("article", 10), ("2",))}, ["b"]) == []


def test_labels_name_their_unit_protocols_and_sub_paragraphs_included() -> None:
    assert unit_of(passage("d", "Article 33(1)")) == ("article", 33)
    assert unit_of(passage("d", "Protocol No. 1, Article 3")) is None  # the protocol's, not the convention's
    assert unit_of(passage("d", "Article XVII(1)")) == ("article", 17)
    assert unit_of(passage("d", "Objective 13(b)")) == ("objective", 13)
    assert unit_of(passage("d", "para. 7")) == ("paragraph", 7)  # a paper's numbered paragraph
    assert unit_of(passage("d", "Preamble, para. 3")) is None  # a part's paragraph, not the paper's


def test_questions_cite_a_papers_paragraphs_unless_another_unit_holds_them() -> None:
    assert cited_units("What does para. 7 of IOM's paper say?") == {("paragraph", 7)}
    assert cited_units("paragraph 12") == {("paragraph", 12)}
    assert cited_units("What does paragraph 2 of Article 33 say?") == {("article", 33)}  # the article's paragraph
    assert cited_units("Which paragraph defines protection?") == frozenset()


def test_the_index_finds_a_unit_in_the_named_documents_and_says_what_is_missing() -> None:
    units = UnitIndex([passage("a", "Article 33(1)"), passage("a", "Article 33(2)"), passage("b", "Article 33")])
    assert units.rows({("article", 33)}) == [0, 1, 2]
    assert units.rows({("article", 33)}, ["b"]) == [2]
    assert units.missing({("article", 47), ("article", 33)}, ["a"]) == {("article", 47)}
    assert units.missing({("article", 33)}, ["c"]) == {("article", 33)}


def test_a_lookup_asks_for_the_cited_units_and_nothing_else() -> None:
    assert without_citations("What does Article 1 of Protocol No. 6 say?") == "What does   of   say?"
    assert looks_up("What does Article 33 say?") and looks_up("Article 12") and looks_up("What does art. 5 provide?")
    assert not looks_up("What does Article 33 say about expulsion?")
    assert not looks_up("Which article guarantees asylum?")


def test_questions_cite_numbered_protocols() -> None:
    assert cited_units("What does Article 1 of Protocol No. 6 say?") == {("article", 1), (PROTOCOL, 6)}
    assert cited_units("Protocol 16 advisory opinions") == {(PROTOCOL, 16)}
    assert cited_units("What did Protocol No. 14bis change?") == frozenset()  # not Protocol No. 14
    assert cited_units("the 1967 Protocol and the Optional Protocol") == frozenset()


def test_a_protocols_units_are_its_own_and_a_protocol_nobody_prints_is_missing() -> None:
    echr = [
        passage("echr", "Article 1"),
        passage("echr", "Protocol, Article 1"),  # printed unnumbered before numbered ones: Protocol No. 1
        passage("echr", "Protocol No. 6, para. 1"),
        passage("echr", "Protocol No. 6, Article 1"),
        passage("echr", "Protocol No. 6, Article 2"),
        passage("other", "Protocol, Article 1"),  # the only protocol of its document: no number
    ]
    units = UnitIndex(echr)
    assert units.rows({("article", 1), (PROTOCOL, 6)}) == [3]
    assert units.rows({(PROTOCOL, 6)}) == [2, 3, 4]
    assert units.rows({("article", 1), (PROTOCOL, 1)}) == [1]
    assert units.rows({("article", 1)}) == [0]
    assert units.shadowed({("article", 1)}) == [1, 3]  # "Article 1" alone is the convention's
    assert units.shadowed({("article", 1), (PROTOCOL, 6)}) == []
    assert units.missing({(PROTOCOL, 17)}, ["echr"]) == {(PROTOCOL, 17)}
    assert units.missing({("article", 9), (PROTOCOL, 6)}, ["echr"]) == {("article", 9)}
    assert units.missing({("article", 2), (PROTOCOL, 6)}, ["echr"]) == frozenset()


@given(st.integers(min_value=1, max_value=399))
def test_roman_numerals_read_as_their_value(n: int) -> None:
    numerals = [(100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    text, rest = "", n
    for value, letters in numerals:
        while rest >= value:
            text, rest = text + letters, rest - value
    assert roman(text) == n
    assert roman(text.lower()) is None
