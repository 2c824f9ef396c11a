"""The highlight's fast word sets give exactly the words the offset-keeping tokeniser finds in each sentence."""

from __future__ import annotations

import json
from bisect import bisect_left
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from index.embedder import Embedder
from index.highlight import best_sentence, wants_acronyms
from index.lexical import term_set, terms_at, word_sets
from index.search import Searcher
from index.sentences import sentence_spans
from index.snapshot import Snapshot
from index.store import Store

from .conftest import SHARED_DATA, needs_shared_data

WORDS = [
    "the", "of", "and", "to", "it", "is", "not", "don't", "can't",  # stop words, with apostrophes
    "protection", "States", "state's", "States’", "refugees'", "Migrants", "well-being", "non-refoulement",
    "gender-based", "self-reliance", "re-enter", "IDPs", "IOM", "GCM", "internally", "displaced", "persons",
    "Überprüfung", "naïve", "1951", "33(1)", "para", "e.g.", "co-operation's", "o'clock", "x-ray-ish",
    "İstanbul", "_under_score", "3rd",
]  # fmt: skip
PUNCTUATION = ["", "", "", ",", ";", ":", " -", " (", ")", "—", "'", '"']


def reference(text: str, spans: list[tuple[int, int]]) -> list[set[str]]:
    found, starts = terms_at(text, acronyms=False)
    return [set(found[bisect_left(starts, a) : bisect_left(starts, b)]) for a, b in spans]


def wordish(char: str) -> bool:
    return char.isalnum() or char in "_-'’"


sentences = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(PUNCTUATION)).map("".join), min_size=1, max_size=12
).map(lambda parts: " ".join(parts) + ".")


@given(st.lists(sentences, min_size=1, max_size=6))
def test_word_sets_equal_the_offset_tokeniser_per_sentence(parts: list[str]) -> None:
    text = " ".join(parts)
    spans = []
    position = 0
    for part in parts:
        spans.append((position, position + len(part)))
        position += len(part) + 1
    fast = word_sets(text, spans)
    if "İ" in text:
        assert fast is None, "lower-casing changes the length: the caller must take the offset path"
    else:
        assert fast == reference(text, spans)


@given(st.lists(sentences, min_size=1, max_size=3), st.data())
def test_a_span_that_cuts_a_word_is_refused_not_guessed(parts: list[str], data: st.DataObject) -> None:
    text = " ".join(parts).replace("İ", "I")
    cut = data.draw(st.integers(1, len(text) - 1))
    spans = [(0, cut), (cut, len(text))]
    fast = word_sets(text, spans)
    if fast is not None:
        assert fast == reference(text, spans)
    else:
        assert wordish(text[cut - 1]) and wordish(text[cut]), "refused only where the span cuts a word"


def test_every_sentence_of_the_paper_gives_the_same_words_both_ways(paper_index: Path) -> None:
    snapshot = Snapshot.load(Store(paper_index).current())
    checked = 0
    for passage in snapshot.searchable:
        spans = sentence_spans(passage.text)
        fast = word_sets(passage.text, spans)
        assert fast is not None, passage.text[:80]
        assert fast == reference(passage.text, spans)
        checked += len(spans)
    assert checked > 60
    assert "protect" in term_set("How does IOM define protection?")


@needs_shared_data
def test_scifact_abstracts_give_the_same_words_both_ways() -> None:
    lines = (SHARED_DATA / "beir-scifact" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:400]
    refused = 0
    for line in lines:
        text = json.loads(line)["text"]
        spans = sentence_spans(text)
        fast = word_sets(text, spans)
        if fast is None:
            refused += 1
        else:
            assert fast == reference(text, spans), text[:80]
    assert refused <= 4, f"{refused} of 400 abstracts fell back to the slow path"


def test_the_highlight_from_kept_sentence_words_is_the_one_read_afresh(paper_index: Path, embedder: Embedder) -> None:
    """A Searcher reads a passage's sentences' words once and keeps them: the same highlight as best_sentence reading
    the text, for a question with a domain acronym (passages read with theirs added) and one without, asked twice."""
    searcher = Searcher(Snapshot.load(Store(paper_index).current()), embedder)
    snapshot = searcher.snapshot
    questions = ["How is protection of migrants defined?", "What protection do IDPs need?"]
    assert [wants_acronyms(term_set(q)) for q in questions] == [False, True]
    compared = 0
    for question in questions * 2:
        vector, terms = embedder.embed_query(question), term_set(question)
        for hit in searcher.search(question, k=5):
            row = snapshot.row_of[hit.passage.id]
            start, end = snapshot.sentence_offsets[row], snapshot.sentence_offsets[row + 1]
            spans = [(int(a), int(b)) for a, b in snapshot.sentences[start:end, 1:]]
            assert snapshot.sentence_vectors is not None
            afresh = best_sentence(hit.passage.text, spans, snapshot.sentence_vectors[start:end], vector, terms)
            assert afresh is not None
            assert hit.highlight == (afresh.start, afresh.end)
            compared += len(spans) > 1
    assert compared >= 8, "too few passages with more than one sentence to compare"
    kept = {acronyms for _, acronyms in searcher._sentence_words}
    assert kept == {False, True}
