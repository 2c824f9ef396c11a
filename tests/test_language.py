"""Which language a passage is in (ingest/language.py), and what a sidecar's `languages` keeps (ingest/selection.py)."""

from __future__ import annotations

import pytest

from index.records import Passage
from ingest.language import detect, unlike
from ingest.selection import select

ENGLISH = "The European Parliament, the Council and the Commission solemnly proclaim the text below as the Charter"
DANISH = "Europa-Parlamentet, Rådet og Kommissionen proklamerer højtideligt den tekst, der følger nedenfor, som"
FINNISH = "Euroopan parlamentti, neuvosto ja komissio juhlallisesti julistavat jäljempänä esitetyn tekstin Euroopan"
GERMAN = "Das Europäische Parlament, der Rat und die Kommission proklamieren feierlich den nachstehenden Text als"


def test_languages_are_told_by_their_common_words() -> None:
    assert detect(ENGLISH) == "en"
    assert detect(GERMAN) == "de"
    assert detect(DANISH) is None and detect(FINNISH) is None  # not among the languages it knows by name


@pytest.mark.parametrize("text", [DANISH, FINNISH, GERMAN, "Ôï ̄ıæøðæœœü ̊ïøíïâïýoøï, ôï Óıìâïýoøï ŒÆØ ç ̄ðøôæïðþ äøæœçæ"])
def test_text_with_no_common_english_words_is_unlike_english(text: str) -> None:
    assert unlike(text, ["en"])


@pytest.mark.parametrize(
    "text",
    [
        ENGLISH,
        "No one shall be subjected to torture.",  # too short to tell: kept
        "Article 5: Right to liberty and security",
        "Everyone has the right to liberty and security of person. No one shall be deprived of his liberty save",
    ],
)
def test_english_and_short_text_is_not(text: str) -> None:
    assert not unlike(text, ["en"])


def test_a_sidecars_languages_set_aside_what_the_detector_cannot_name() -> None:
    def passage(n: int, text: str, language: str | None) -> Passage:
        return Passage("d", f"p{n}", "text", text, f"para. {n}", language=language)

    passages = [
        passage(1, ENGLISH, "en"),
        passage(2, DANISH, None),
        passage(3, GERMAN, "de"),
        passage(4, "Short.", None),
    ]
    kept, dropped = select(passages, {"languages": ["en"]})
    assert [p.anchor for p in kept] == ["p1", "p4"]
    assert dropped == [("another language (the sidecar keeps en)", 1), ("language de (the sidecar keeps en)", 1)]
    # without `languages` in the sidecar, nothing is set aside for its language
    assert select(passages, {}) == (passages, [])
