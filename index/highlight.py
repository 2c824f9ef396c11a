"""Pick the sentence of a passage that best answers a question: its cosine to the question, plus word overlap.

The score of a sentence is cos(sentence, question) + `lexical_weight` * (share of the question's
terms it contains). The cosine carries meaning; the overlap breaks ties towards the sentence that
uses the question's own words, which people read as the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .lexical import tokenize

if TYPE_CHECKING:
    from numpy.typing import NDArray

LEXICAL_WEIGHT = 0.15


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
    """The best of `spans` (character offsets into `text`), `vectors` their unit embeddings (rows in order)."""
    if not spans:
        return None
    cosines = (vectors @ query).astype(np.float64) if vectors is not None else np.zeros(len(spans), dtype=np.float64)
    scores = cosines.copy()
    if terms and lexical_weight:
        overlap = [len(terms & set(tokenize(text[a:b]))) / len(terms) for a, b in spans]
        scores += lexical_weight * np.asarray(overlap)
    best = int(np.argmax(scores))
    start, end = spans[best]
    return Highlight(int(start), int(end), best, float(cosines[best]))
