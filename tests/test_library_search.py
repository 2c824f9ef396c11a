"""The real model over the default library: questions that name a document, a heading or a unit find it.

These are the issue's own examples, asked of corpus/ as `make run` serves it; the library question set
(bench/library.py) measures the same over many more questions and documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.search import Hit, Searcher
from index.snapshot import Snapshot
from index.store import Store
from service.app import create_app
from service.settings import Settings

from .conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def searcher(library_index: Path, embedder: Embedder) -> Searcher:
    return Searcher(Snapshot.load(Store(library_index).current()), embedder)


@pytest.fixture(scope="module")
def client(library_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    app = create_app(Settings(index_dir=library_index, load_in_background=False), embedder=embedder)
    with TestClient(app) as client:
        yield client


def cited(hits: list[Hit]) -> list[tuple[str, str]]:
    return [(h.passage.document_id, h.passage.label) for h in hits]


def test_a_question_that_names_the_gcm_finds_objective_13_and_says_it_preferred_the_gcm(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "What does the GCM say about detention?", "k": 3}).json()
    top = body["passages"]
    assert all(p["citation"]["document_id"] == "gcm" for p in top), [p["citation_text"] for p in top]
    assert any(p["citation"]["label"].startswith("Objective 13") for p in top), [p["citation_text"] for p in top]
    assert all(p["explain"]["document_named"] for p in top)
    assert body["not_in_corpus"] is False


def test_the_eu_charter_article_on_asylum_is_found_by_its_subject(searcher: Searcher) -> None:
    hits = searcher.search("Which article of the EU Charter guarantees the right to asylum?", k=3)
    assert ("eu-charter", "Article 18") in cited(hits), cited(hits)


def test_who_is_a_refugee_finds_a_definition_article(searcher: Searcher) -> None:
    """The library holds two definitions of the term: the 1951 Convention's Article 1A and, in EU law, the
    Qualification Regulation's Article 3(5) ("'refugee' means ..."); either is the answer."""
    hits = searcher.search("Who is a refugee?", k=3)
    definitions = {
        ("refugee-convention", "Article 1A"),
        ("refugee-convention", "Article 1"),
        ("qualification-regulation-2024", "Article 3(5)"),
    }
    assert definitions & set(cited(hits)), cited(hits)
    named = searcher.search("Who is a refugee under the 1951 Convention?", k=1)
    assert cited(named) == [("refugee-convention", "Article 1A")]


def test_non_refoulement_finds_article_33_with_its_printed_and_physical_page(searcher: Searcher) -> None:
    question = "Can a state send a refugee back to a country where their life would be threatened?"
    hits = searcher.search(question, k=3)
    assert ("refugee-convention", "Article 33(1)") in cited(hits), cited(hits)
    article = next(h.passage for h in hits if h.passage.label == "Article 33(1)")
    assert (article.page, article.page_label, article.kind) == (32, "30", "article")


def test_a_unit_cited_by_number_is_found_in_the_document_named(searcher: Searcher) -> None:
    hits = searcher.search("What does Article 13 of the ICCPR say?", k=3)
    assert cited(hits)[0][0] == "iccpr" and cited(hits)[0][1].startswith("Article 13"), cited(hits)
    assert hits[0].cited and hits[0].named


def test_a_question_that_asks_for_a_unit_and_nothing_else_gets_that_unit_first(searcher: Searcher) -> None:
    # without the lookup rule Article 33 came 14th and 25th: every article of the Convention reads as much like
    # "What does Article 33 say?" as Article 33 does, and a cited unit's boost was a tenth of a point
    for question, unit, paragraphs in (
        ("What does Article 33 of the 1951 Convention say?", "Article 33(", 2),
        ("Article 33 of the 1951 Convention", "Article 33(", 2),
        ("What does Article 1 of Protocol No. 6 say?", "Protocol No. 6, Article 1", 1),
        ("ICCPR Article 12", "Article 12(", 4),
    ):
        hits = searcher.search(question, k=paragraphs)
        assert all(h.passage.label.startswith(unit) and h.cited for h in hits), (question, cited(hits))
    # a question about something in the unit is not a lookup: the boost stays a tenth
    hits = searcher.search("What does Article 33 of the 1951 Convention say about national security?", k=1)
    assert cited(hits) == [("refugee-convention", "Article 33(2)")], cited(hits)


def test_a_looked_up_unit_reads_in_order(searcher: Searcher) -> None:
    hits = searcher.search("What does Article 33 of the 1951 Convention say?", k=2)
    assert [label for _, label in cited(hits)] == ["Article 33(1)", "Article 33(2)"], cited(hits)
    hits = searcher.search("ICCPR Article 12", k=4)
    assert [label for _, label in cited(hits)] == [f"Article 12({n})" for n in range(1, 5)], cited(hits)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # the outside tester's: each put a stub ("For the purposes of this Regulation:"), a footnote or a
        # correlation table first, reading "(2)" as a word and "Regulation 604" as a regulation numbered 604
        ("Article 29(2) of the Dublin III Regulation", ("dublin-iii-regulation", "Article 29(2)")),
        ("Article 29(2) of Regulation 604/2013", ("dublin-iii-regulation", "Article 29(2)")),
        ("Article 17(2) of the Dublin III Regulation", ("dublin-iii-regulation", "Article 17(2)")),
        ("Article 24(4) of the Qualification Regulation", ("qualification-regulation-2024", "Article 24(4)")),
        (
            "What does regulation 6(1) of the Refugees (General) Regulations say?",
            ("kenya-refugees-general-regulations-2024", "regulation 6(1)"),
        ),
        ("What does Article 33(1) of the 1951 Convention say?", ("refugee-convention", "Article 33(1)")),
    ],
)
def test_a_paragraph_cited_within_a_unit_comes_first(
    client: TestClient, question: str, expected: tuple[str, str]
) -> None:
    body = client.get("/api/search", params={"q": question, "k": 3}).json()
    first = body["passages"][0]["citation"]
    assert (first["document_id"], first["label"]) == expected, [p["citation_text"] for p in body["passages"]]
    assert body["not_in_corpus"] is False, body["confidence"]


def test_a_unit_the_library_does_not_have_is_not_in_the_corpus(client: TestClient) -> None:
    for question in (
        "What does Objective 24 of the Global Compact for Migration say?",
        "What does Article 47 of the 1951 Refugee Convention say?",
    ):
        body = client.get("/api/search", params={"q": question, "k": 3}).json()
        assert body["not_in_corpus"] is True, (question, body["confidence"])


def test_a_protocols_article_is_that_protocols_and_a_protocol_the_library_lacks_is_not_in_it(
    searcher: Searcher, client: TestClient
) -> None:
    hits = searcher.search("Article 1 of Protocol No. 6 death penalty", k=3)
    assert cited(hits)[0] == ("echr", "Protocol No. 6, Article 1"), cited(hits)
    assert hits[0].cited
    hits = searcher.search("Does Protocol No. 6 to the ECHR still allow capital punishment in wartime?", k=3)
    assert [label.split(",")[0] for _, label in cited(hits)] == ["Protocol No. 6"] * 3, cited(hits)
    assert all(h.named for h in hits)  # the protocol is named as a document within the convention
    hits = searcher.search("Article 2 of Protocol No. 1 right to education", k=3)
    assert cited(hits)[0] == ("echr", "Protocol, Article 2"), cited(hits)  # the ECHR prints No. 1 as "Protocol"
    assert searcher.unresolved("When did Protocol No. 14 enter into force?") == frozenset()  # its notes write of it
    body = client.get("/api/search", params={"q": "What does Protocol No. 17 to the ECHR say?", "k": 3}).json()
    assert "it cites Protocol No. 17, which the corpus does not have" in body["doubts"], body["doubts"]
    assert body["not_in_corpus"] is True, body["confidence"]


def test_the_papers_golden_set_over_the_whole_library(searcher: Searcher) -> None:
    golden = [json.loads(line) for line in (ROOT / "tests/data/golden.jsonl").read_text().splitlines() if line]
    missed = []
    first = 0
    for item in golden:
        hits = searcher.search(item["question"], k=3)
        anchors = [h.passage.anchor for h in hits if h.passage.document_id == "iom-approach-to-protection"]
        first += bool(hits) and hits[0].passage.anchor == item["expect"]
        if item["expect"] not in anchors:
            missed.append((item["question"], cited(hits)))
    print(
        f"\ngolden set over the library: top-1 {first}/{len(golden)}, top-3 {len(golden) - len(missed)}/{len(golden)}"
    )
    # Over the paper alone every answer is within three (test_golden.py). Over the default library, "What is the
    # purpose of this paper?" cannot know which paper is meant, and others lose their answer to a neighbour: convex
    # fusion missed 2, the learned ranker (the default since 2026-12-07, ahead on every library question set) 3
    assert len(missed) <= 3, [question for question, _ in missed]


def test_a_question_that_names_a_heading_finds_that_headings_passages(paper_index: Path, embedder: Embedder) -> None:
    app = create_app(Settings(index_dir=paper_index, load_in_background=False), embedder=embedder)
    with TestClient(app) as client:
        body = client.get("/api/search", params={"q": "What are the recommendations for Member States?", "k": 3}).json()
    labels = [p["citation"]["label"] for p in body["passages"]]
    assert sum(label.startswith("Recommendations for Member States") for label in labels) >= 2, labels
    assert body["not_in_corpus"] is False


def test_the_heading_a_question_names_is_evidence_that_the_library_answers_it(client: TestClient) -> None:
    # the items under "Recommendations for Member States" do not repeat the heading's words; the confidence counts
    # the question's words in the heading and label as well as the text, as BM25 does
    body = client.get("/api/search", params={"q": "What are the recommendations for Member States?", "k": 3}).json()
    labels = [p["citation"]["label"] for p in body["passages"]]
    assert all(label.startswith("Recommendations for Member States") for label in labels), labels
    assert body["not_in_corpus"] is False, body["confidence"]


@pytest.mark.parametrize(
    ("question", "document", "label", "moved"),
    [
        # Article 3(a) alone is now the definition (items b and c are their own passages), found either way
        (
            "How does the Smuggling Protocol define 'smuggling of migrants'?",
            "smuggling-protocol",
            "Article 3(a)",
            False,
        ),
        # "define" is not a word of Article 1 of the CRC: the preference moves it up (with the model
        # alone it was not within three without it; with the adapter it is second, behind Article 2(1))
        ("How does the Convention on the Rights of the Child define a child?", "crc", "Article 1", True),
    ],
)
def test_a_question_that_asks_for_a_definition_finds_the_article_that_states_it(
    searcher: Searcher, question: str, document: str, label: str, moved: bool
) -> None:
    hits = searcher.search(question, k=3)
    # within the first two: the Smuggling Protocol's Article 2, its statement of purpose, reads much the same
    assert (document, label) in cited(hits)[:2], cited(hits)
    assert next(h for h in hits if h.passage.label == label).definition
    plain = Searcher(searcher.snapshot, searcher.embedder, replace(searcher.fusion, definition_boost=0.0))
    without = cited(plain.search(question, k=10))
    rank_without = without.index((document, label)) + 1 if (document, label) in without else 11
    rank_with = cited(hits).index((document, label)) + 1
    if moved:
        # up, or first either way where the runtime's vectors put it first alone (ONNX Runtime's int8 on AVX2 does)
        assert rank_with < rank_without or rank_with == rank_without == 1, (cited(hits), without)
    else:
        assert rank_without <= 3, without


def test_explain_says_the_definition_was_preferred(client: TestClient) -> None:
    question = "How does the Smuggling Protocol define 'smuggling of migrants'?"
    found = client.get("/api/search", params={"q": question, "k": 3}).json()["passages"]
    flags = {p["citation"]["label"]: p["explain"]["definition"] for p in found}
    assert flags.get("Article 3(a)") is True and flags.get("Article 2") is False, flags
    other = client.get("/api/search", params={"q": "What does the GCM say about detention?", "k": 3}).json()
    assert not any(p["explain"]["definition"] for p in other["passages"])


def test_an_instrument_the_library_does_not_hold_is_not_in_the_corpus(client: TestClient, searcher: Searcher) -> None:
    for question, name in (
        ("What is the maximum period of detention under the EU Return Directive?", "EU Return Directive"),
        ("What did the ECtHR decide in Soering v. United Kingdom?", "Soering v. United Kingdom"),
        ("What does the UN Convention against Torture say about refoulement?", "UN Convention against Torture"),
        ("What does the OAU Refugee Convention say about who is a refugee?", "OAU Refugee Convention"),
        # a part of a held document that its text never writes: CEDAW's Optional Protocol is not in the library
        ("What inquiry procedure does the Optional Protocol to CEDAW set up?", "Optional Protocol to CEDAW"),
    ):
        assert searcher.unfamiliar(question) == (name,)
        body = client.get("/api/search", params={"q": question, "k": 3}).json()
        assert body["not_in_corpus"] is True, (question, body["confidence"])
    # a document of the library, by any of its names, or an instrument its text writes, is familiar
    for question in (
        "What does the European Convention on Human Rights say about torture?",
        "Can a refugee be expelled under the Refugee Convention?",
        "What does the Cartagena Declaration say about who is a refugee?",  # UNHCR's introductory note cites it
        "What does the Children's Convention say about family reunification?",  # the CRC's title in other words
        "What does the African Union Convention on IDPs say about the obligations of States?",  # Kampala's
        "What does the Preamble of the Universal Declaration of Human Rights say about human dignity?",  # the UDHR's
        # a part of a held document, by that document's name: the ICCPR's document holds its Optional Protocol
        "Who is told of new accessions to the Optional Protocol to the ICCPR?",
    ):
        assert searcher.unfamiliar(question) == (), question
        body = client.get("/api/search", params={"q": question, "k": 3}).json()
        assert body["not_in_corpus"] is False, (question, body["confidence"])


def test_a_part_named_before_the_instrument_names_the_instrument(client: TestClient, searcher: Searcher) -> None:
    # "the Preamble of the Universal Declaration of Human Rights" was read as one unknown name: it named no
    # document, and the Disability Convention's preamble came first
    question = "What does the Preamble of the Universal Declaration of Human Rights say about human dignity?"
    named, _ = searcher.names.find(question)
    assert any(searcher.snapshot.documents[d].short_title == "UDHR" for d in named), named
    first = client.get("/api/search", params={"q": question, "k": 3}).json()["passages"][0]["citation"]
    assert first["document_id"] in named and first["label"].startswith("Preamble"), first


def test_something_particular_that_the_passages_never_write_is_not_in_the_corpus(
    client: TestClient, searcher: Searcher
) -> None:
    """Statistics, national practice and other bodies' work: the library has passages on the subject, none that
    writes the country, the year or the body the question names."""
    for question, strangers in (
        ("How many asylum applications were lodged in Germany in 2023?", ("Germany", "2023")),
        ("What did Norway's 2019 white paper say about resettling Syrians?", ("Norway", "2019", "Syrians")),
        ("How many staff does Frontex employ at the Bulgarian border?", ("Frontex", "Bulgarian")),
    ):
        hits = searcher.search(question, k=3)
        found = searcher.strangers(question, hits[0])  # a document may write one of them (the 1961 Convention
        assert found and set(found) <= set(strangers), (question, found, cited(hits))  # names Germany)
        body = client.get("/api/search", params={"q": question, "k": 3}).json()
        assert body["not_in_corpus"] is True, (question, body["confidence"])
        said = [d for d in body["doubts"] if "first passage and its document never write" in d]
        assert len(said) == 1 and all(w in said[0] for w in found), body["doubts"]
    # particular words that the answer or its document writes are no evidence against it
    for question in (
        "What does Article 33 of the 1951 Convention say about expulsion or return?",
        "How does IOM define protection?",
        "What does the Kampala Convention say about the African Union's role?",
    ):
        hits = searcher.search(question, k=3)
        assert searcher.strangers(question, hits[0]) == (), (question, cited(hits))
        assert searcher.doubts(question, hits[0]).flags() == (False, False, False), question
        assert client.get("/api/search", params={"q": question, "k": 3}).json()["doubts"] == [], question


def test_doubts_say_which_unit_or_instrument_the_library_lacks(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "What does Objective 24 of the GCM say?", "k": 3}).json()
    assert "it cites Objective 24, which the corpus does not have" in body["doubts"], body["doubts"]
    body = client.get("/api/search", params={"q": "What does the EU Return Directive say about detention?"}).json()
    assert "it names EU Return Directive, which no document is and none writes" in body["doubts"], body["doubts"]


def test_warming_counts_every_document_and_changes_no_doubt(library_index: Path, embedder: Embedder) -> None:
    """The service warms each generation before it serves it (service/follower.py): every document's common
    words are counted once, and the doubts are the same as when counted on first use."""
    cold = Searcher(Snapshot.load(Store(library_index).current()), embedder)
    warm = Searcher(cold.snapshot, embedder)
    warm.warm()
    assert set(warm.doubter._document_terms) == set(cold.snapshot.document_rows)
    for question in ("How many asylum applications were lodged in Germany in 2023?", "How does IOM define protection?"):
        top = cold.search(question, k=1)[0]
        assert warm.strangers(question, top) == cold.strangers(question, top)


def test_an_item_is_shown_with_the_lead_in_it_continues(client: TestClient) -> None:
    # "if the asylum seeker is in confinement;" means nothing alone: the answer carries, verbatim and cited, the
    # words it continues, which are set aside from search themselves (kind lead-in)
    params = {"q": "accelerated refugee status procedure for an asylum seeker in confinement", "k": 5}
    body = client.get("/api/search", params={**params, "document": "kenya-refugees-general-regulations-2024"}).json()
    item = next((p for p in body["passages"] if p["citation"]["label"] == "regulation 16(b)"), None)
    assert item is not None, [p["citation_text"] for p in body["passages"]]
    assert item["text"] == "if the asylum seeker is in confinement;"
    lead = item["lead_in"]
    assert lead is not None, item
    assert (lead["label"], lead["text"]) == (
        "regulation 16",
        "A Commissioner may accelerate the procedures, for refugee status—",
    )
    assert lead["id"].startswith("kenya-refugees-general-regulations-2024#")
    # a unit that continues nothing has none
    body = client.get("/api/search", params={"q": "What does Article 33 of the 1951 Convention say?", "k": 1}).json()
    assert body["passages"][0]["citation"]["label"] == "Article 33(1)", body["passages"][0]["citation_text"]
    assert body["passages"][0]["lead_in"] is None
