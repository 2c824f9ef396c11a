"""Every document of ../shared/data: each searchable passage has a citation no other passage of its document
has, and no label is a piece of body text. The share of unique citations is printed per document (-s or -rA).

A label is a fragment of body text (`fragment`) when, once its unit references are taken off ("Article 3(1)",
"para. 4", "item 2", "footnote 6", "section 2.1", "Protocol No. 4"), what is left starts in lower case, ends with
a function word ("..., of the"), carries a footnote call ("(1)", "protocol47"), has no word of three letters,
or runs past 15 words: a title is none of these.
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from index.records import Document, citation_label
from ingest.headings import FUNCTION_WORDS
from ingest.library import discover

from .conftest import SHARED_DATA, needs_shared_data
from .ingest_support import real

pytestmark = [needs_shared_data, pytest.mark.slow]

FOLDERS = [
    "protection-law-pdfs",
    "udhr",
    "gcm-objectives-iomeval",
    "un-treaties-statengeneraal",
    "iom-evaluation-pdfs",
    "unhcr-evaluation-pdf",
]
MAX_WORDS = 15
_UNIT = re.compile(
    r"^(?:para\.|item|footnote|recital|regulation|section|article|artikel|objective|paragraph|paragraaf"
    r"|protocol no\.)\s+[\w.()]+$",
    re.IGNORECASE,
)
_QUALIFIER = re.compile(r" \((?:\d+(?:st|nd|rd|th) occurrence|[a-z]{2})\)$")


def fragment(label: str) -> str | None:
    """Why `label` reads as a piece of body text, or None when it reads as a citation."""
    name = ", ".join(part for part in _QUALIFIER.sub("", label).split(", ") if not _UNIT.match(part))
    if not name:
        return None  # only unit references: "Article 33(1)", "para. 7"
    tokens = name.split()
    last = re.sub(r"\W", "", tokens[-1])
    if len(tokens) > MAX_WORDS:
        return f"more than {MAX_WORDS} words"
    if name[0].islower():
        return "starts in lower case"
    if last.lower() in FUNCTION_WORDS and (last.islower() or name.isupper()):
        return "ends with a function word"
    if re.search(r"\(\d{1,3}\)$|[a-z]\d{1,3}$", name):
        return "ends with a footnote call"
    if not any(len(w) >= 3 and w.lower() not in FUNCTION_WORDS for w in re.findall(r"[^\W\d_]+", name)):
        return "has no word"
    return None


@pytest.mark.parametrize(
    ("label", "why"),
    [
        ("Preamble: We, the Heads of State and Government of the", "ends with a function word"),
        ("(Principle of unity of the family) (1)", "ends with a footnote call"),
        ("6, 7, 12, 13 and 16", "has no word"),
        ("THE YEAR OF", "ends with a function word"),
        (
            "— strictly require the personal care by the EU citizen on serious health grounds; or",
            "ends with a function word",
        ),
        (
            "Dans quelle mesure la gestion et la mise en œuvre du projet se font-elles de manière à",
            "more than 15 words",
        ),
        ("however, currently, data leadership", "starts in lower case"),
        ("Preamble, para. 3", None),
        ("Protocol No. 1, Article 3", None),
        ("Recommendations for Member States, item 2", None),
        ("Annex A, para. 5", None),
        ("Article 33(1)", None),
    ],
)
def test_the_fragment_rule(label: str, why: str | None) -> None:
    assert fragment(label) == why


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    """Every document under the shared folders, parsed two at a time (each PDF in its own worker)."""
    sources, failures = discover([SHARED_DATA / folder for folder in FOLDERS if (SHARED_DATA / folder).is_dir()])
    assert failures == [], failures
    assert len(sources) >= 30
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda source: real(Path(source.path)), sources))


def test_every_searchable_passage_has_a_citation_of_its_own(documents: list[Document]) -> None:
    shares = []
    for document in documents:
        citations = Counter(citation_label(p, document.info.title) for p in document.searchable())
        unique = sum(1 for p in document.searchable() if citations[citation_label(p, document.info.title)] == 1)
        total = len(document.searchable())
        shares.append((document.info.source.removeprefix(str(SHARED_DATA) + "/"), unique, total))
    print("\nunique citations per document (searchable passages)")
    for source, unique, total in shares:
        print(f"  {unique / total:7.1%}  {unique:5}/{total:<5} {source}")
    assert [s for s in shares if s[1] != s[2]] == []


def test_no_label_is_a_fragment_of_body_text(documents: list[Document]) -> None:
    found = [
        (document.info.id, p.label, why)
        for document in documents
        for p in document.searchable()
        if (why := fragment(p.label)) is not None
    ]
    assert found == []


def test_set_aside_passages_keep_their_text_and_place(documents: list[Document]) -> None:
    """Noise is kept for the document view: in order, with an anchor, counted by kind."""
    for document in documents:
        anchors = [p.anchor for p in document.passages]
        assert len(anchors) == len(set(anchors)), document.info.id
        assert [p.order for p in document.passages] == sorted(p.order for p in document.passages)
        counted = Counter(p.kind for p in document.passages if not p.searchable and p.kind != "heading")
        assert {k: n for k, n in document.set_aside().items() if k in counted} == dict(counted)
