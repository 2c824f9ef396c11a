"""Long passages are split into overlapping windows that fit the model, and still come back as one passage."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from index.build import build_snapshot
from index.embedder import Embedder
from index.records import Document, DocumentInfo, Passage
from index.search import Searcher
from index.windows import window_spans


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.from_regex(r"[a-z]{1,8}[,.]?", fullmatch=True), min_size=0, max_size=400),
    max_tokens=st.integers(min_value=8, max_value=64),
    overlap=st.integers(min_value=0, max_value=40),
)
def test_windows_cover_every_token_and_fit_the_budget(words: list[str], max_tokens: int, overlap: int) -> None:
    text = " ".join(words)
    spans = window_spans(text, word_spans, max_tokens, overlap)
    tokens = word_spans(text)
    assert spans, "at least one window"
    for start, end in spans:
        inside = [t for t in tokens if start <= t[0] and t[1] <= end]
        assert len(inside) <= max_tokens
    covered = {t for t in tokens if any(s <= t[0] and t[1] <= e for s, e in spans)}
    assert covered == set(tokens)
    starts = [s for s, _ in spans]
    assert starts == sorted(set(starts)), "windows move forward"
    if len(tokens) <= max_tokens:
        assert spans == [(0, len(text))]


def test_a_short_text_is_one_window_with_the_real_tokenizer(embedder: Embedder) -> None:
    text = "The IOM definition of protection is based on the 1999 definition."
    assert window_spans(text, embedder.token_spans, embedder.max_tokens) == [(0, len(text))]


def long_document() -> Document:
    filler = " ".join(
        f"Sentence {i} of the long paragraph discusses programming, staffing and regional budgets." for i in range(40)
    )
    needle = "The lighthouse keeper of Valparaiso counts the migrating albatrosses every winter."
    text = f"{filler} {needle}"
    info = DocumentInfo(id="long", title="Long", source="long.md", sha256="0" * 64, format="markdown")
    passage = Passage(document_id="long", anchor="para-1", kind="paragraph", text=text, label="para. 1", paragraph="1")
    other = Passage(
        document_id="long",
        anchor="para-2",
        kind="paragraph",
        text="Funding for protection programming is allocated by Member States.",
        label="para. 2",
        paragraph="2",
    )
    return Document(info, (passage, other))


def test_a_long_paragraph_is_embedded_in_windows_and_returned_as_one_passage(embedder: Embedder) -> None:
    document = long_document()
    text = document.passages[0].text
    assert len(embedder.token_spans(text)) > embedder.max_tokens, "the paragraph must exceed the model's budget"
    snapshot, embedded, _ = build_snapshot([document], embedder)
    windows = snapshot.windows[snapshot.windows[:, 0] == 0]
    assert len(windows) >= 3
    for _, start, end in windows:
        assert len(embedder.token_spans(text[start:end])) <= embedder.max_tokens
    assert windows[0][1] == 0 and windows[-1][2] == len(text)
    assert embedded >= len(snapshot.windows)
    hits = Searcher(snapshot, embedder).search("Who counts albatrosses in Valparaiso?", k=2)
    assert hits[0].passage.anchor == "para-1"
    assert [h.passage.anchor for h in hits].count("para-1") == 1, "one passage, one citation"
    start, end = hits[0].highlight or (0, 0)
    assert "albatrosses" in text[start:end]
    # the needle sits in the last window only: without windows it would have been cut off
    first_window_end = int(windows[0][2])
    assert "albatross" not in text[:first_window_end]
