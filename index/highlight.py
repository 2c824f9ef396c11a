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
) -> Highlight | None:
    """The best of `spans` (character offsets into `text`), `vectors` their unit embeddings (rows in order).

    `terms` are the question's single-word terms (lexical.term_set).
    """
    if not spans:
        return None
    cosines = (vectors @ query).astype(np.float64) if vectors is not None else np.zeros(len(spans), dtype=np.float64)
    scores = cosines.copy()
    if terms and lexical_weight and len(spans) > 1:  # one sentence is the best whatever its words
        scores += lexical_weight * np.asarray(overlaps(text, spans, terms))
    best = int(np.argmax(scores))
    start, end = spans[best]
    return Highlight(int(start), int(end), best, float(cosines[best]))


def overlaps(text: str, spans: Sequence[tuple[int, int]], terms: set[str]) -> list[float]:
    """For each span of `text`, the share of `terms` among the words that start inside it."""
    if not terms:
        return [0.0] * len(spans)
    acronyms = not terms.isdisjoint(acronym_terms())
    if not acronyms and (sets := word_sets(text, spans)) is not None:
        return [len(terms.intersection(words)) / len(terms) for words in sets]
    found, starts = terms_at(text, acronyms=acronyms)
    shares = []
    for start, end in spans:
        inside = found[bisect_left(starts, start) : bisect_left(starts, end)]
        shares.append(len(terms.intersection(inside)) / len(terms))
    return shares
