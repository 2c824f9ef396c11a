"""Domain acronyms on both sides of the lexical match: the data file, the tokeniser, BM25 and a real search."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.acronyms import AcronymTable, read_table
from index.lexical import STOPWORDS, LexicalIndex, tokenize, words

TABLE = Path(__file__).resolve().parent.parent / "index" / "data" / "acronyms.tsv"

PAIRS = [
    ("IDPs", "internally displaced persons"),
    ("IDP", "an internally displaced person"),
    ("GCM", "the Global Compact for Safe, Orderly and Regular Migration"),
    ("GCM", "the Global Compact for Migration"),
    ("IASC", "the Inter-Agency Standing Committee"),
    ("MHPSS", "mental health and psychosocial support"),
    ("GBV", "gender-based violence"),
    ("GBV", "gender based violence"),
    ("AAP", "accountability to affected populations"),
    ("SOGIESC", "sexual orientation, gender identity and expression, and sex characteristics"),
    ("UNHCR", "the United Nations High Commissioner for Refugees"),
    ("IOM", "the International Organization for Migration"),
    ("JPOs", "Junior Professional Officers"),
]


def test_the_table_holds_the_domain_acronyms_and_parses() -> None:
    acronyms = read_table(TABLE.read_text(encoding="utf-8"), words)
    shorts = {a.short for a in acronyms}
    assert {"idp", "gcm", "iasc", "mhpss", "gbv", "aap", "sogiesc", "unhcr", "iom", "jpo"} <= shorts
    assert len(shorts) == len(acronyms), "an acronym is listed twice"
    # an acronym that is also a stop word ("WHO") would fire on every "who"
    assert not shorts & STOPWORDS


@pytest.mark.parametrize(("short", "long"), PAIRS)
def test_either_form_gives_the_acronym_term(short: str, long: str) -> None:
    term = words(short.removesuffix("s"))[0]
    assert term in tokenize(short)
    assert term in tokenize(long)
    assert term in tokenize(long.upper())  # case does not matter


def test_only_the_acronym_is_added_never_the_expansion_words() -> None:
    # "IOM" alone must not read as "International Organization for Migration" (it would flood "migration")
    assert tokenize("IOM staff") == ["iom", "staff", "iom_staff"]
    assert "migrat" not in tokenize("IOM")


def test_a_partial_expansion_is_not_an_acronym() -> None:
    assert "idp" not in tokenize("internally displaced")
    assert "gcm" not in tokenize("the Global Compact")


def test_longest_expansion_wins() -> None:
    # "United Nations" is UN, but "United Nations High Commissioner for Refugees" is UNHCR (and not also UN)
    tokens = tokenize("the United Nations High Commissioner for Refugees")
    assert "unhcr" in tokens and "un" not in tokens
    assert "un" in tokenize("the United Nations")


def test_malformed_lines_are_refused() -> None:
    with pytest.raises(ValueError, match=r"acronyms\.tsv:2"):
        read_table("IDP\tinternally displaced person\nGCM global compact for migration\n", words)
    table = AcronymTable(read_table("# a comment\n\nGBV\tgender-based violence\n", words))
    assert table.expand(["gender", "base", "violenc"]) == ["gbv", "gender", "base", "violenc"]


def test_bm25_matches_across_the_two_forms() -> None:
    texts = [
        "Camps for internally displaced persons need protection monitoring.",
        "The IASC adopted the policy in 2016.",
        "Survivors of GBV need referral pathways.",
        "Refugees crossed the border.",
    ]
    lexical = LexicalIndex.build(texts)
    for query, expected in (("IDP camps", 0), ("Inter-Agency Standing Committee", 1), ("gender based violence", 2)):
        scores = lexical.scores(query)
        assert int(scores.argmax()) == expected, query
        assert scores[3] == 0.0
