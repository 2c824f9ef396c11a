"""The default search pipeline: per-passage window and sentence maxima, fusion, filters, highlights, explain."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.candidates import _segment_max
from index.embedder import Embedder
from index.fusion import Fusion
from index.search import Filters, Searcher
from index.snapshot import Snapshot
from index.store import Store

from .conftest import PAPER_ID


@pytest.fixture(scope="module")
def snapshot(paper_index: Path) -> Snapshot:
    return Snapshot.load(Store(paper_index).current())


@pytest.fixture(scope="module")
def searcher(snapshot: Snapshot, embedder: Embedder) -> Searcher:
    return Searcher(snapshot, embedder)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=12), st.data())
def test_segment_max_is_the_best_row_of_each_segment(counts: list[int], data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(min_value=0, max_value=2**32 - 1)))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    vectors = rng.normal(size=(int(offsets[-1]), 8)).astype(np.float32)
    query = rng.normal(size=8).astype(np.float32)
    rows = np.asarray(data.draw(st.lists(st.integers(0, len(counts) - 1), max_size=8)), dtype=np.int64)
    got = _segment_max(vectors, offsets, rows, query)
    for value, row in zip(got, rows, strict=True):
        segment = vectors[offsets[row] : offsets[row + 1]]
        expected = float((segment @ query).max()) if len(segment) else -np.inf
        assert value == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_fusion_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="expected one of convex, rrf, learned"):
        Fusion(method="max")
    with pytest.raises(ValueError, match="between 0 and 1"):
        Fusion(sentence_weight=1.5)


def test_scores_are_the_convex_mix_the_explain_fields_show(searcher: Searcher, snapshot: Snapshot) -> None:
    convex = Searcher(snapshot, searcher.embedder, replace(searcher.fusion, method="convex"))
    hits = convex.search("How does IOM define protection?", k=10)
    lexical = snapshot.lexical.scores("How does IOM define protection?")
    top_lexical = float(lexical.max())
    fusion = convex.fusion
    w = fusion.dense_weight
    for hit in hits:
        expected = w * hit.dense_score + (1 - w) * hit.lexical_score / top_lexical
        expected += fusion.name_boost * hit.named + fusion.cite_boost * hit.cited
        assert hit.score == pytest.approx(expected, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].passage.anchor == "para-7"
    assert hits[0].dense_rank is not None and hits[0].lexical_rank is not None


def test_the_default_is_the_learned_ranker_on_convex_scale(searcher: Searcher, snapshot: Snapshot) -> None:
    question = "How does IOM define protection?"
    assert searcher.fusion.method == "learned"
    passages, matrix = searcher.candidate_features(question)
    ranker = searcher.ranker
    expected = {p.id: float(s) for p, s in zip(passages, ranker.score(matrix) / ranker.cosine_scale, strict=True)}
    hits = searcher.search(question, k=10)
    fusion = searcher.fusion
    for hit in hits:  # the ranker's score over its cosine scale, plus convex's boosts (none is a definition here)
        boost = fusion.name_boost * hit.named + fusion.cite_boost * hit.cited + fusion.definition_boost * hit.definition
        assert hit.score == pytest.approx(expected[hit.passage.id] + boost, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].passage.anchor == "para-7"


def test_the_dense_score_is_the_best_window(snapshot: Snapshot, embedder: Embedder) -> None:
    question = "Which organizations define protection as all activities aimed at obtaining full respect for rights?"
    vector = embedder.embed_query(question)
    windows_only = Searcher(snapshot, embedder, Fusion(sentence_weight=0.0))
    for hit in windows_only.search(question, k=5):
        row = snapshot.row_of[hit.passage.id]
        windows = snapshot.dense.vectors[snapshot.window_offsets[row] : snapshot.window_offsets[row + 1]]
        assert hit.dense_score == pytest.approx(float((windows @ vector).max()), abs=1e-5)


def test_sentence_weight_mixes_in_the_best_sentence(snapshot: Snapshot, embedder: Embedder) -> None:
    question = "What happened in 1951?"
    vector = embedder.embed_query(question)
    plain = {h.passage.id: h for h in Searcher(snapshot, embedder, Fusion(sentence_weight=0.0)).search(question, k=8)}
    mixed = Searcher(snapshot, embedder, Fusion(sentence_weight=0.5)).search(question, k=8)
    checked = 0
    for hit in mixed:
        row = snapshot.row_of[hit.passage.id]
        start, end = snapshot.sentence_offsets[row], snapshot.sentence_offsets[row + 1]
        if end > start and hit.passage.id in plain and snapshot.sentence_vectors is not None:
            best_sentence = float((snapshot.sentence_vectors[start:end] @ vector).max())
            window = plain[hit.passage.id].dense_score
            assert hit.dense_score == pytest.approx(0.5 * window + 0.5 * best_sentence, abs=1e-5)
            checked += 1
    assert checked >= 2


def test_highlights_only_as_many_as_asked(searcher: Searcher) -> None:
    hits = searcher.search("protection of migrants", k=6, highlights=2)
    assert len(hits) == 6
    assert all(h.highlight is not None and h.highlight_cosine is not None for h in hits[:2])
    assert all(h.highlight is None and h.highlight_cosine is None for h in hits[2:])


def test_the_highlight_is_a_sentence_of_the_passage(searcher: Searcher) -> None:
    hit = searcher.search("How does IOM define protection?", k=1)[0]
    assert hit.highlight is not None
    start, end = hit.highlight
    sentence = hit.passage.text[start:end]
    assert "definition of protection" in sentence or "define protection" in sentence
    assert hit.highlight_cosine is not None and 0.3 < hit.highlight_cosine <= 1.0


def test_filters_by_kind_and_document(searcher: Searcher) -> None:
    footnotes = searcher.search(
        "Internal Displacement Monitoring Centre report", k=5, filters=Filters(kinds=frozenset({"footnote"}))
    )
    assert footnotes and all(h.passage.kind == "footnote" for h in footnotes)
    assert footnotes[0].passage.anchor == "fn-1"
    mine = searcher.search("protection", k=3, filters=Filters(documents=frozenset({PAPER_ID})))
    assert mine and all(h.passage.document_id == PAPER_ID for h in mine)


@pytest.mark.parametrize(
    ("acronym", "spelled_out"),
    [("JPOs", "Junior Professional Officers"), ("MHPSS", "mental health and psychosocial support")],
)
def test_an_acronym_finds_the_spelled_out_passage(searcher: Searcher, acronym: str, spelled_out: str) -> None:
    # the paper spells these out and never uses the acronym: only the acronym list connects them
    assert not any(acronym in p.text for p in searcher.snapshot.searchable)
    top = searcher.search(acronym, k=3)[0]
    assert spelled_out in top.passage.text
    assert top.lexical_score > 0 and top.lexical_rank == 1
