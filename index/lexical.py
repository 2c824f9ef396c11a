"""The lexical half of the ranking: BM25 (bm25s) over stemmed words, English stop words removed.

One tokeniser serves documents and queries, so both sides of the match see the same terms.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .wordlists import load_word_list

if TYPE_CHECKING:
    from numpy.typing import NDArray

_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
STOPWORDS = load_word_list("stopwords.txt")
# Names the analysis below; change it whenever tokenisation changes, so older generations are rebuilt.
ANALYZER = "en-snowball-stop-bigram/1"


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens without stop words; hyphenated words also give their parts."""
    found: list[str] = []
    for match in _WORD.finditer(text.lower().replace("’", "'")):
        word = match.group(0)
        if word.endswith("'s"):
            word = word[:-2]
        parts = re.split(r"[-']", word)
        for token in ([word] if len(parts) > 1 else []) + parts:
            if token and token not in STOPWORDS:
                found.append(token)
    return list(_stemmer().stemWords(found))


def tokenize(text: str) -> list[str]:
    """The terms BM25 matches: stemmed words plus each pair of neighbouring words ("defin_protect").

    The pairs reward passages where the question's words stand together, a cheap form of the
    term-proximity scoring that Lucene phrase boosts and Vespa's nativeRank use.
    """
    unigrams = words(text)
    return unigrams + [f"{a}_{b}" for a, b in itertools.pairwise(unigrams)]


class LexicalIndex:
    """BM25 over a list of texts; `scores(query)` gives one score per text (0 where nothing matched)."""

    def __init__(self, retriever: Any, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        tokens = [tokenize(t) or [""] for t in texts]
        if tokens:
            retriever.index(tokens, show_progress=False)
        return cls(retriever, len(tokens))

    def scores(self, query: str) -> NDArray[np.float32]:
        terms = [t for t in tokenize(query) if t in self._retriever.vocab_dict] if self.size else []
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "size.txt").write_text(str(self.size))
        if self.size:
            self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        size = int((folder / "size.txt").read_text())
        if not size:
            return cls(bm25s.BM25(), 0)
        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        return cls(retriever, size)
