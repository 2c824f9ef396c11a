"""Noise and citations on made-up documents: the rules by example, and as properties over generated ones."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from index.records import SEARCHABLE_KINDS, Passage, citation_label
from ingest.citations import caps_to_title, cite, section_name
from ingest.noise import correlation_table, form_field, repeated_notes, sentence, set_aside, table_row
from ingest.text import parse_text

from .conftest import SHARED_DATA, needs_shared_data

LOWER = st.sampled_from(
    ["refugee", "state", "protection", "border", "asylum", "right", "person", "law", "camp", "shelter", "court"]
)
GLUE = st.sampled_from(["the", "of", "and", "to", "in", "for", "with", "shall", "may", "has"])
WORDS = st.lists(st.one_of(LOWER, GLUE), min_size=3, max_size=25)
PROSE = WORDS.map(lambda words: " ".join(words).capitalize() + ".")
CAPS = st.lists(LOWER, min_size=1, max_size=6).map(lambda words: " ".join(words).upper())


def passage(kind: str, text: str, anchor: str, **values: object) -> Passage:
    return Passage(
        document_id="doc", anchor=anchor, kind=kind, text=text, label=str(values.pop("label", "x")), **values
    )  # type: ignore[arg-type]


def kinds(*items: tuple[str, str], pages: int | None = None, **values: object) -> list[str]:
    made = [passage(kind, text, f"p{i}", order=i, **values) for i, (kind, text) in enumerate(items)]
    return [p.kind for p in set_aside(made, pages)]


def test_the_rules_by_example() -> None:
    assert kinds(("text", "THE YEAR OF"), ("text", "INTERNALLY")) == ["fragment", "fragment"]
    assert kinds(("footnote", "12"), ("footnote", "Ibid."), ("footnote", "Headline added.")) == ["fragment"] * 3
    assert kinds(("footnote", "United Nations, Treaty Series, vol. 189 (1954), No. 2545.")) == ["footnote"]
    assert kinds(("article", "Everyone has the right to life.")) == ["article"]
    signed = kinds(
        ("text", "The Parties agree that this Convention binds them."),
        ("text", "Done at Kampala, this 23rd day of October 2009."),
        ("text", "Algeria Angola Benin Botswana Burkina Faso"),
        ("heading", "Annex"),
        ("text", "The annex lists the forms that the officers use."),
    )
    assert signed == ["text", "signature", "signature", "heading", "text"]
    assert kinds(("text", "Article 20(1)(b) Article 25(1)"), ("text", "— Article 24")) == ["table", "table"]
    assert kinds(("text", "| State | Date |"), ("text", "Nationality ....................")) == ["table", "form"]
    form = kinds(
        ("heading", "Form 1"),
        ("article", "I declare that the information I have given is true."),
        ("heading", "Article 9"),
        ("article", "The officer shall keep the form in the file."),
    )
    assert form == ["heading", "form", "heading", "article"]


def test_pages_without_prose_at_either_end_are_covers() -> None:
    made = [
        passage("text", "Kampala Convention", "a", page=1),
        passage("text", "The States Parties shall protect displaced persons in their territory.", "b", page=2),
        passage("text", "Publisher House Addis Ababa", "c", page=5),
        passage("text", "The States Parties shall report every year on what they did.", "d", page=4),
    ]
    assert [p.kind for p in set_aside(made, pages=5)] == ["front-matter", "text", "front-matter", "text"]
    assert [p.kind for p in set_aside(made, pages=None)] == ["fragment", "text", "fragment", "text"]


@given(PROSE)
def test_prose_is_a_sentence_and_not_a_table_or_a_form(text: str) -> None:
    assert sentence(text) and not table_row(text) and not form_field(text)


@given(CAPS)
def test_a_line_in_capitals_is_not_a_sentence(text: str) -> None:
    assert not sentence(text)


@given(PROSE, st.integers(min_value=8, max_value=60))
def test_dot_leaders_make_a_form_field(text: str, dots: int) -> None:
    assert form_field(f"{text.rstrip('.')}: {'.' * dots}")


@given(st.lists(st.tuples(st.integers(1, 60), st.integers(1, 9)), min_size=2, max_size=6))
def test_rows_of_cross_references_are_a_table(pairs: list[tuple[int, int]]) -> None:
    assert table_row(" ".join(f"Article {a}({b})" for a, b in pairs))


def test_a_correlation_table_is_a_table_even_under_an_articles_label() -> None:
    # the Qualification Regulation's correlation table, whose column pypdf reads under "Article 29"
    column = (
        "Article 30(1) and (2) Article 30(3) Article 31(1), first subparagraph Article 31(1), second subparagraph "
        "Article 31(2) Article 32 Article 33(1), first subparagraph Article 33(2), (3), (4), (5), (6) and (7) "
        "Article 34 Article 26 Article 35(1) Article 35(2) — —"
    )
    assert correlation_table(column)
    assert correlation_table(
        "Directive 2011/95/EU Article 1 Article 2, point (a) Article 2, point (j), introductory "
        "wording Article 2 point (j), first indent Annex II"
    )
    (kept,) = set_aside([Passage(document_id="d", anchor="a", kind="article", text=column, label="Article 29")])
    assert kept.kind == "table"
    # an article that cites many others is prose
    prose = (
        "Articles 30, 31 and 32, Article 33(2), Article 34 and Article 35(1) shall apply to beneficiaries of "
        "international protection."
    )
    assert not correlation_table(prose)
    (article,) = set_aside([Passage(document_id="d", anchor="a", kind="article", text=prose, label="Article 29")])
    assert article.kind == "article"


KIND = st.sampled_from(["heading", "text", "list-item", "article", "paragraph", "footnote"])
TEXT = st.one_of(PROSE, CAPS, st.sampled_from(["12", "(3)", "Done at Geneva", "Name: ..........", "| a | b |"]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(KIND, TEXT, st.integers(1, 4)), min_size=1, max_size=40), st.none() | st.integers(1, 6))
def test_setting_aside_changes_kinds_only(items: list[tuple[str, str, int]], pages: int | None) -> None:
    made = [passage(kind, text, f"p{i}", page=page, order=i) for i, (kind, text, page) in enumerate(items)]
    out = set_aside(made, pages)
    assert [(p.anchor, p.text, p.order, p.page) for p in out] == [(p.anchor, p.text, p.order, p.page) for p in made]
    for before, after in zip(made, out, strict=True):
        if before.kind == "heading" or after.kind in SEARCHABLE_KINDS:
            assert after.kind == before.kind
        if before.kind in ("article", "paragraph", "footnote") and after.kind != before.kind:
            assert after.kind in ("form", "signature", "fragment")  # numbered units are never tables or covers


SECTION = st.sampled_from(["Preamble", "Introduction", "RECOMMENDATIONS", "2.1 Scope", "Annex II", "Findings"])
ITEM = st.tuples(st.sampled_from(["text", "list-item", "paragraph", "footnote", "heading"]), SECTION, st.integers(1, 3))


@settings(max_examples=80, deadline=None)
@given(st.lists(ITEM, min_size=1, max_size=60))
def test_citations_are_distinct_and_anchors_untouched(items: list[tuple[str, str, int]]) -> None:
    """Sections that repeat, numbered paragraphs and footnotes whose numbers restart: every citation is one's own."""
    made = []
    for i, (kind, section, page) in enumerate(items):
        number = str(i % 3 + 1)
        label = {"paragraph": f"para. {number}", "footnote": f"footnote {number}"}.get(kind, section)
        made.append(
            passage(kind, f"Text number {i} of the {kind} here.", f"a{i}", label=label, section=(section,), page=page)
        )
    out = cite(made)
    citations = Counter(citation_label(p, "Doc") for p in out if p.searchable)
    assert all(n == 1 for n in citations.values()), citations
    assert [p.anchor for p in out] == [p.anchor for p in made]
    assert [p.label for p in out if p.kind == "heading"] == [p.label for p in made if p.kind == "heading"]


def test_section_names_in_citations() -> None:
    assert section_name(("Part IV: REFUGEE AND ASYLUM SEEKERS DOCUMENTS",)) == "Part IV"
    assert section_name(("Protocol No. 4: To the Convention",)) == "Protocol No. 4"
    assert section_name(("2.1.1 General rules",)) == "section 2.1.1"
    assert section_name(("Introductory note by the Office of the United Nations High Commissioner for Refugees",)) == (
        "Introductory note"
    )
    assert section_name(("Preamble", "We, the Heads of State and Government of the")) == "Preamble"
    assert section_name(("However, currently, data leadership at UNHCR is held",)) == "Text"
    assert section_name(("(Principle of unity of the family) (1)",)) == "Principle of unity of the family"
    # parentheses that open and close the title, not two asides inside it
    specimen = "(Cover of booklet) travel document (Convention of 28 July 1951)"
    assert section_name(("Annex: Specimen Travel Document", specimen)) == specimen
    # a byline is who wrote the section, not its name
    assert section_name(("Case study", "Author: Neil Dillon, Data Conscious Ltd")) == "Case study"


def test_capitals_become_title_case_but_acronyms_stay() -> None:
    vocabulary = {"charter", "fundamental", "rights", "european", "union", "central", "evaluation"}
    assert caps_to_title("CHARTER OF FUNDAMENTAL RIGHTS OF THE EUROPEAN UNION", vocabulary) == (
        "Charter of Fundamental Rights of the European Union"
    )
    assert caps_to_title("IOM CENTRAL EVALUATION", vocabulary) == "IOM Central Evaluation"
    assert caps_to_title("Already Mixed Case", vocabulary) == "Already Mixed Case"


TREATY = """### Article 1

####Purpose

Treedt in werking op een nader te bepalen tijdstip

The purpose of the present Convention is to protect refugees.

### Article 2

Treedt in werking op een nader te bepalen tijdstip

1. States Parties shall respect the rights of refugees.

2. States Parties shall cooperate with the Office.

### Article 3

Treedt in werking op een nader te bepalen tijdstip

No State shall expel a refugee.
"""


def test_an_editors_note_repeated_under_each_unit_is_set_aside_and_joins_no_text() -> None:
    passages = parse_text(TREATY, "treaty")
    notes = [p for p in passages if "Treedt" in p.text]
    assert len(notes) == 3 and {p.kind for p in notes} == {"front-matter"}
    searched = {p.label: p.text for p in passages if p.searchable}
    assert searched == {
        "Article 1": "The purpose of the present Convention is to protect refugees.",
        "Article 2(1)": "States Parties shall respect the rights of refugees.",
        "Article 2(2)": "States Parties shall cooperate with the Office.",
        "Article 3": "No State shall expel a refugee.",
    }


def test_only_short_open_paragraphs_repeated_three_times_are_notes() -> None:
    note = "Treedt in werking op een nader te bepalen tijdstip"
    assert repeated_notes([note, "x y z.", note, note]) == {note}
    assert repeated_notes([note, note]) == frozenset()  # twice is a coincidence
    assert repeated_notes(["(a)", "x x x", "(a)", "(a)", "x x x", "x x x"]) == frozenset()  # markers, cells
    assert repeated_notes(["Have agreed as follows:"] * 4) == frozenset()  # ends as a lead-in: text
    long = "the State Party shall report on the measures it has taken to give effect to the rights recognised"
    assert repeated_notes([long] * 3) == frozenset()  # too long for a note


@needs_shared_data
def test_the_dutch_treaty_database_note_is_searchable_nowhere() -> None:
    path = next(SHARED_DATA.glob("un-treaties-statengeneraal/**/BWBV0004045/README.md"))
    passages = parse_text(path.read_text(encoding="utf-8"), "crpd")
    assert sum("Treedt in werking" in p.text for p in passages) >= 60
    assert not [p.label for p in passages if p.searchable and "Treedt in werking" in p.text]
    article = next(p for p in passages if p.searchable and p.label == "Article 1" and p.language == "en")
    assert article.text.startswith("The purpose of the present Convention is to promote")
