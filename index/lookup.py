"""A lookup: a question that asks for the units it cites and nothing else ("What does Article 33 say?").

Its cited unit's passages come first (Fusion.lookup_boost), in the order the document prints them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .lexical import term_set
from .references import without_citations

if TYPE_CHECKING:
    from numpy.typing import NDArray

LOOKUP_WORDS = frozenset(
    term_set("say says said provide provides state states stipulate contain contains read reads text wording word")
)


def reading_order(rows: NDArray[np.int64], cited: NDArray[np.bool_]) -> NDArray[np.float64]:
    """For a lookup's cited passages, a bonus that falls from 1 towards 0 in the order the document prints them (rows
    are in reading order): the steps are wider than the fused scores' differences between a few paragraphs, so an
    article reads in order; a long list of points keeps some of the fused order. 0 elsewhere."""
    out = np.zeros(len(cited), dtype=np.float64)
    printed = np.argsort(np.argsort(rows[cited]))  # each cited row's place among them, in reading order
    out[cited] = 1.0 - printed / max(len(printed), 1)
    return out


def looks_up(question: str) -> bool:
    """Whether a question asks for the units it cites and nothing else: once the citations (and, by the caller,
    the documents it names) are taken out, no word is left but "what does ... say" ("Article 33 of the 1951
    Convention", "What does Objective 13 of the GCM provide?"; not "What does Article 33 say about expulsion?")."""
    return not (term_set(without_citations(question)) - LOOKUP_WORDS)
