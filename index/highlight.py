"""Pick the sentence of a passage that best answers a question: its cosine to the question, plus word overlap.

The score of a sentence is cos(sentence, question) + `lexical_weight` * (share of the question's
terms it contains). The overlap finds the sentence that uses the question's own words, which people
read as the answer; the cosine carries meaning and decides between sentences that share as many.
The weight 1.0 was the best of 0 to 1 on OMoS-QA's train+dev questions (bench/omos.py). Terms are single stemmed words
(acronyms included), found once per passage and assigned to sentences by offset.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .lexical import acronym_terms, terms_at, word_sets

if TYPE_CHECKING:
    from numpy.typing import NDArray

LEXICAL_WEIGHT = 1.0


@dataclass(frozen=True)
class Highlight:
    start: int
    end: int
    index: int  # which of the given spans
    cosine: float  # its cosine to the question (0 when no sentence vectors)


def best_sentence(
    text: str,
    spans: Sequence[tuple[int, int]],
    vectors: NDArray[np.float32] | None,
    query: NDArray[np.float32],
    terms: set[str],
    lexical_weight: float = LEXICAL_WEIGHT,
    words: Sequence[frozenset[str]] | None = None,
) -> Highlight | None:
    """The best of `spans` (character offsets into `text`), `vectors` their unit embeddings (rows in order).

    `terms` are the question's single-word terms (lexical.term_set); `words`, where the caller keeps them, are
    `sentence_words(text, spans, acronyms=wants_acronyms(terms))` (the same answer, without reading the text again).
    """
    if not spans:
        return None
    cosines = (vectors @ query).astype(np.float64) if vectors is not None else np.zeros(len(spans), dtype=np.float64)
    scores = cosines.copy()
    if terms and lexical_weight and len(spans) > 1:  # one sentence is the best whatever its words
        if words is None:
            words = sentence_words(text, spans, wants_acronyms(terms))
        scores += lexical_weight * np.asarray([len(terms.intersection(w)) / len(terms) for w in words])
    best = int(np.argmax(scores))
    start, end = spans[best]
    return Highlight(int(start), int(end), best, float(cosines[best]))


def wants_acronyms(terms: set[str]) -> bool:
    """Whether the question's terms hold a domain acronym, so that passages must be read with theirs added."""
    return not terms.isdisjoint(acronym_terms())


def sentence_words(text: str, spans: Sequence[tuple[int, int]], acronyms: bool) -> list[frozenset[str]]:
    """For each span of `text`, the terms of the words that start inside it (with acronym terms if `acronyms`)."""
    if not acronyms and (sets := word_sets(text, spans)) is not None:
        return [frozenset(words) for words in sets]
    found, starts = terms_at(text, acronyms=acronyms)
    return [frozenset(found[bisect_left(starts, start) : bisect_left(starts, end)]) for start, end in spans]
