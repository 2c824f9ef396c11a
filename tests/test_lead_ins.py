"""Lead-ins: clauses that only open what follows ("States Parties shall ensure that:") are kept and cited, not
searched, and the items they open read them in what the ranking sees. By example, then on corpus/ itself."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from index.context import MAX_CONTEXT_TOKENS, fit_context, lead_ins
from index.embedder import Embedder
from index.records import Passage
from index.search import Searcher
from index.snapshot import Snapshot
from index.store import Store
from ingest.noise import set_aside_lead_ins


def made(*items: tuple[str, str, str, tuple[str, ...]]) -> list[Passage]:
    """Passages of one made-up document from (kind, label, text, section)."""
    return [
        Passage(document_id="d", anchor=f"p{i}", kind=kind, label=label, text=text, section=section, order=i)
        for i, (kind, label, text, section) in enumerate(items)
    ]


def kinds(*items: tuple[str, str, str, tuple[str, ...]]) -> list[str]:
    return [p.kind for p in set_aside_lead_ins(made(*items))]


ARTICLE = ("Article 5",)


def test_the_lead_in_rule_by_example() -> None:
    # a chapeau before its own lettered items; the items are not lead-ins, whatever they end with
    chapeau = kinds(
        ("article", "Article 5", "States Parties shall ensure that:", ARTICLE),
        ("article", "Article 5(a)", "No child is detained arbitrarily;", ARTICLE),
        ("article", "Article 5(b)", "Every child may appeal:", ARTICLE),
    )
    assert chapeau == ["lead-in", "article", "article"]
    # the same words with nothing of their own after them: a clause a page cut off, kept as it was
    assert kinds(("article", "Article 5", "States Parties shall ensure that:", ARTICLE)) == ["article"]
    assert kinds(
        ("article", "Article 5", "States Parties shall ensure that:", ARTICLE),
        ("article", "Article 6", "No child is detained arbitrarily.", ARTICLE),
    ) == ["article", "article"]
    # a provision that obliges on its own before its list stays searched: more than LEAD_IN_WORDS words
    long = (
        "States Parties shall take all appropriate measures to eliminate discrimination against women in order to "
        "ensure, on a basis of equality of men and women, the same rights, in particular:"
    )
    assert kinds(
        ("article", "Article 5", long, ARTICLE), ("article", "Article 5(a)", "The right to work;", ARTICLE)
    ) == [
        "article",
        "article",
    ]
    # so does one with a sentence of its own before the chapeau
    two = "States Parties shall act. They shall ensure that:"
    assert kinds(("article", "Article 5", two, ARTICLE), ("article", "Article 5(a)", "No child is hurt;", ARTICLE)) == [
        "article",
        "article",
    ]


def test_a_preambles_opening_and_its_closing_formula_are_lead_ins_its_considerations_are_not() -> None:
    preamble = kinds(
        ("heading", "Convention", "Convention", ()),
        ("text", "Preamble, para. 1", "The States Parties to the present Convention,", ()),
        ("text", "Preamble, para. 2", "Having regard to the proposal from the Commission,", ()),
        ("text", "Preamble, para. 3", "Whereas it is essential to promote friendly relations between nations,", ()),
        ("text", "Preamble, para. 4", "Have agreed as follows:", ()),
        ("heading", "Article 1", "Article 1", ("Article 1",)),
        ("article", "Article 1", "Everyone has the right to life.", ("Article 1",)),
    )
    assert preamble == ["heading", "lead-in", "text", "text", "lead-in", "heading", "article"]


def words_as_tokens(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]


def test_an_item_reads_its_lead_in_after_its_label_and_it_is_cut_before_the_headings() -> None:
    passages = made(
        ("heading", "Article 5", "Article 5", ARTICLE),
        ("lead-in", "Article 5", "States Parties shall take all appropriate measures:", ARTICLE),
        ("article", "Article 5(a)", "To modify the social and cultural patterns of conduct;", ARTICLE),
        ("article", "Article 5(b)", "To ensure that family education includes maternity;", ARTICLE),
        ("article", "Article 6", "States Parties shall suppress trafficking.", ("Article 6",)),
        ("article", "Article 6(a)", "Everyone has a remedy.", ("Article 6",)),  # its parent introduces nothing
    )
    leads = lead_ins(passages)
    assert leads == {"d#p2": passages[1].text, "d#p3": passages[1].text}
    item = passages[2]
    context = fit_context(item, None, words_as_tokens, 512, lead_in=leads[item.id])
    assert context == "Article 5. Article 5(a). States Parties shall take all appropriate measures:"
    # little room: the headings stay whole and the lead-in is cut at a word
    short = fit_context(item, None, words_as_tokens, 4 * 12, lead_in=leads[item.id])
    assert short == "Article 5. Article 5(a). States Parties shall", short
    assert fit_context(item, None, words_as_tokens, 512) == "Article 5. Article 5(a)."
    # a word the model reads in pieces is not cut between them ("Stat" of "States")
    pieces = lambda text: [(m.start(), m.end()) for m in re.finditer(r"\w{1,4}|[^\w\s]", text)]  # noqa: E731
    assert fit_context(item, None, pieces, 4 * 12, lead_in=leads[item.id]) == "Article 5. Article 5(a)."
    assert fit_context(item, None, pieces, 4 * 15, lead_in=leads[item.id]).endswith("5(a). States Parties")


# Every passage of corpus/ that the rule marks, for review: (document, citation, text).
MARKED = [
    ("cedaw", "Preamble, para. 1", "The States Parties to the present Convention,"),
    ("cedaw", "Preamble, para. 17", "Have agreed on the following:"),
    ("cedaw", "Article 5", "States Parties shall take all appropriate measures:"),
    ("crc", "Article 37", "States Parties shall ensure that:"),
    ("crpd", "Preamble, para. 1", "Preamble The States Parties to the present Convention,"),
    ("crpd", "Article 3", "The principles of the present Convention shall be:"),
    ("dublin-iii-regulation", "Article 2", "For the purposes of this Regulation:"),
    (
        "dublin-iii-regulation",
        "Article 42",
        "Any period of time prescribed in this Regulation shall be calculated as follows:",
    ),
    ("echr", "Preamble, para. 1", "The Governments signatory hereto , being members of the Council of Europe,"),
    ("echr", "Preamble, para. 7", "Have agreed as follows:"),
    ("echr", "Protocol, para. 1", "The Governments signatory hereto , being members of the Council of Europe,"),
    ("echr", "Protocol, para. 3", "Have agreed as follows:"),
    ("echr", "Protocol No. 4, para. 1", "The Governments signatory hereto , being members of the Council of Europe,"),
    ("echr", "Protocol No. 6, para. 4", "Have agreed as follows:"),
    ("echr", "Protocol No. 7, para. 1", "The member s Tates of The c ouncil of e urope , signatory hereto,"),
    ("echr", "Protocol No. 7, para. 3", "Have agreed as follows:"),
    ("echr", "Protocol No. 12, para. 1", "The member s Tates of The c ouncil of e urope , signatory hereto,"),
    ("echr", "Protocol No. 13, para. 1", "The member s Tates of The c ouncil of e urope , signatory hereto,"),
    ("icescr", "Article 10", "The States Parties to the present Covenant recognize that:"),
    ("kampala-convention", "Preamble, para. 17", "HAVE AGREED as follows:"),
    ("kampala-convention", "Article I", "For the purpose of the present Convention:"),
    ("kampala-convention", "Article II", "The objectives of this Convention are to:"),
    (
        "kenya-refugees-general-regulations-2024",
        "regulation 16",
        "A Commissioner may accelerate the procedures, for refugee status—",
    ),
    (
        "kenya-refugees-general-regulations-2024",
        "regulation 35",
        "An assessment of the cancelation of the recognition of refugee status shall include—",
    ),
    ("kenya-refugees-general-regulations-2024", "regulation 41", "A cessation assessment shall include—"),
    ("qualification-regulation-2024", "Article 1", "This Regulation lays down standards for:"),
    (
        "qualification-regulation-2024",
        "Article 3",
        "For the purposes of this Regulation, the following definitions apply:",
    ),
    ("qualification-regulation-2024", "Article 6", "Actors of persecution or serious harm can be:"),
    ("qualification-regulation-2024", "Article 15", "Serious harm as referred to in Article 3(6) consists of:"),
    ("qualification-regulation-2024", "Article 40", "Directive 2003/109/EC is amended as follows:"),
    (
        "refugee-convention",
        "Article 41",
        "In the case of a Federal or non-unitary State, the following provisions shall apply:",
    ),
    (
        "refugee-convention",
        "Protocol, Article VI",
        "In the case of a Federal or non-unitary State, the following provisions shall apply:",
    ),
    ("smuggling-protocol", "Article 3", "For the purposes of this Protocol:"),
    (
        "smuggling-protocol",
        "Article 12",
        "Each State Party shall take such measures as may be necessary, within available means:",
    ),
    (
        "statelessness-convention-1954",
        "Article 37",
        "In the case of a Federal or non-unitary State, the following provisions shall apply:",
    ),
    ("statelessness-convention-1961", "Preamble, para. 2", "Have agreed as follows:"),
    ("trafficking-protocol", "Article 2", "The purposes of this Protocol are:"),
    ("trafficking-protocol", "Article 3", "For the purposes of this Protocol:"),
    (
        "trafficking-protocol",
        "Article 12",
        "Each State Party shall take such measures as may be necessary, within available means:",
    ),
]


@pytest.fixture(scope="module")
def snapshot(library_index: Path) -> Snapshot:
    return Snapshot.load(Store(library_index).current())


@pytest.mark.slow
def test_the_lead_ins_of_the_library_are_these_kept_cited_and_not_searched(snapshot: Snapshot) -> None:
    marked = [(p.document_id, p.label, p.text) for p in snapshot.passages if p.kind == "lead-in"]
    assert marked == MARKED
    searched = {p.id for p in snapshot.searchable}
    assert not [p.label for p in snapshot.passages if p.kind == "lead-in" and p.id in searched]


@pytest.mark.slow
def test_the_set_aside_report_counts_the_lead_ins_per_document(library_index: Path) -> None:
    documents = Store(library_index).current().manifest.documents
    counts = Counter(document for document, _, _ in MARKED)
    assert {d: e.set_aside.get("lead-in", 0) for d, e in documents.items() if e.set_aside.get("lead-in")} == counts


@pytest.mark.slow
@pytest.mark.parametrize(
    ("document", "label"),
    [
        ("cedaw", "Article 13"),  # "... the same rights, in particular:" (38 words)
        ("crpd", "Article 20"),  # "... to ensure personal mobility ..., including by:" (21 words)
        ("smuggling-protocol", "Article 17"),  # "... shall consider the conclusion of ... agreements ... aimed at:"
        ("iccpr", "Article 25"),  # "Every citizen shall have the right and the opportunity, ...:"
        ("dublin-iii-regulation", "Text, para. 3"),  # "Having regard to the proposal from the European Commission,"
        ("udhr", "Preamble, para. 4"),  # "Whereas it is essential to promote the development of friendly relations ..."
    ],
)
def test_a_provision_that_says_something_of_its_own_before_its_list_stays_searched(
    snapshot: Snapshot, document: str, label: str
) -> None:
    [passage] = [p for p in snapshot.searchable if (p.document_id, p.label) == (document, label)]
    assert re.search(r"[:,]$", passage.text), passage.text


@pytest.mark.slow
@pytest.mark.parametrize("question", [text for _, _, text in MARKED[:6]])
def test_a_lead_in_is_never_an_answer(snapshot: Snapshot, embedder: Embedder, question: str) -> None:
    hits = Searcher(snapshot, embedder).search(question, k=20)
    assert hits and not [h.passage.label for h in hits if h.passage.kind == "lead-in" or h.passage.text == question]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("document", "label", "lead_in"),
    [
        ("cedaw", "Article 5(a)", "States Parties shall take all appropriate measures:"),
        ("crc", "Article 37(a)", "States Parties shall ensure that:"),
        ("crpd", "Article 3(b)", "The principles of the present Convention shall be:"),
        # an informative chapeau that stays searched is read by its items too, cut to the budget
        ("cedaw", "Article 13(a)", "States Parties shall take all appropriate measures to eliminate discrimination"),
    ],
)
def test_an_item_reads_its_lead_in_and_shows_its_own_text(
    snapshot: Snapshot, embedder: Embedder, document: str, label: str, lead_in: str
) -> None:
    [row] = [r for r, p in enumerate(snapshot.searchable) if (p.document_id, p.label) == (document, label)]
    context = snapshot.contexts[row]
    assert lead_in in context and label in context, context
    assert context.index(label) < context.index(lead_in)  # after the name, heading and label
    assert len(embedder.token_spans(context)) <= MAX_CONTEXT_TOKENS
    assert lead_in not in snapshot.searchable[row].text  # what is shown and highlighted stays the item's own
