"""Which questions ask for a definition, and which passages state one (index/intent.py)."""

from __future__ import annotations

import pytest

from index.intent import asks_for_definition, states_definition
from index.records import DocumentInfo, Passage

TREATY = DocumentInfo(
    id="t",
    title="Protocol against the Smuggling of Migrants",
    source="t.md",
    sha256="0" * 64,
    format="markdown",
    short_title="Smuggling Protocol",
)


def article(text: str, section: tuple[str, ...] = ("Article 5",), label: str = "Article 5") -> Passage:
    return Passage(document_id="t", anchor="a", kind="article", text=text, label=label, section=section)


@pytest.mark.parametrize(
    "question",
    [
        "How does the CRC define a child?",
        "What is the definition of a stateless person?",
        "Who is a refugee?",
        "Who is a migrant under the GCM?",
        "Who counts as a migrant worker?",
        "What is meant by 'habitual residence'?",
        "What does 'smuggling of migrants' mean in the protocol?",
        "definitions trafficking protocol",
    ],
)
def test_questions_that_ask_what_a_term_means(question: str) -> None:
    assert asks_for_definition(question)


@pytest.mark.parametrize(
    "question",
    [
        "What does the GCM say about detention?",
        "Who is responsible for examining an asylum application?",
        "Can a refugee be expelled?",
        "How does IOM approach protection?",
        "Who issues travel documents to refugees?",
        "Who is a refugee entitled to work?",  # about work, not about who is a refugee
        "Who is a stateless person allowed to marry?",
    ],
)
def test_questions_that_do_not(question: str) -> None:
    assert not asks_for_definition(question)


def test_a_passage_states_a_definition_by_its_drafting_form_or_its_heading() -> None:
    assert states_definition(
        article("For the purposes of this Protocol: (a) 'Smuggling of migrants' shall mean"), TREATY
    )
    assert states_definition(article("A child means every human being below the age of eighteen years"), TREATY)
    assert states_definition(article("(a) any person who", ("Article 1: Use of terms",), "Article 1(a)"), TREATY)
    assert states_definition(article("owing to well-founded fear", ("Definition of the term 'refugee'",)), TREATY)
    assert not states_definition(
        article("States Parties shall cooperate to prevent the smuggling of migrants."), TREATY
    )
    # the drafting form counts in the passage's opening only, where a definition states it
    late = "States Parties shall take measures. " * 20 + "The term 'vessel' shall mean any watercraft."
    assert not states_definition(article(late), TREATY)


def test_a_passage_that_speaks_of_a_definition_elsewhere_does_not_state_one() -> None:
    """UNHCR's introductory note says the Convention "endorses a single definition of the term 'refugee' in Article
    1": it refers to the definition, which Article 1A states ("the term 'refugee' shall apply to any person who")."""
    note = article("the 1951 Convention endorses a single definition of the term “refugee” in Article 1.")
    assert not states_definition(note, TREATY)
    register = article("with the exception of the preamble and Article 1 (Definition of the term “refugee”)")
    assert not states_definition(register, TREATY)
    assert states_definition(article("the term “refugee” shall apply to any person who"), TREATY)
