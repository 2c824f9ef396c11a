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

from .acronyms import load_acronyms
from .wordlists import load_word_list

if TYPE_CHECKING:
    from numpy.typing import NDArray

_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_PARTS = re.compile(r"[-']")
STOPWORDS = load_word_list("stopwords.txt")
IRREGULAR = dict(line.split() for line in load_word_list("irregular.txt"))
# Names the analysis below; change it whenever tokenisation changes, so older generations are rebuilt.
ANALYZER = "en-snowball-stop-bigram-acronyms-irregular/3"


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _word_tokens(text: str) -> tuple[list[str], list[int]]:
    """Stemmed word tokens without stop words, each with the offset of the word it comes from."""
    found: list[str] = []
    starts: list[int] = []
    for match in _WORD.finditer(text.replace("’", "'")):
        word = match.group(0).lower()
        if "-" not in word and "'" not in word:  # the common case, kept fast
            if word not in STOPWORDS:
                found.append(word)
                starts.append(match.start())
            continue
        if word.endswith("'s"):
            word = word[:-2]
        tokens = [word, *_PARTS.split(word)] if "-" in word or "'" in word else [word]
        for token in tokens:
            if token and token not in STOPWORDS:
                found.append(token)
                starts.append(match.start())
    return _stems(found), starts


_STEMS: dict[str, str] = {}
_STEMS_LIMIT = 500_000


def _stems(tokens: list[str]) -> list[str]:
    """Snowball stems (of the singular, for the plurals it would keep apart), remembered: a query's passages
    are stemmed again at every highlight."""
    missing = [t for t in set(tokens) if t not in _STEMS]
    if missing:
        if len(_STEMS) > _STEMS_LIMIT:
            _STEMS.clear()
        singular = [IRREGULAR.get(t, t) for t in missing]
        _STEMS.update(zip(missing, _stemmer().stemWords(singular), strict=True))
    return [_STEMS[t] for t in tokens]


_WORD_CHAR = re.compile(r"[\w'-]")


def _cuts_word(text: str, position: int) -> bool:
    return (
        0 < position < len(text)
        and _WORD_CHAR.match(text, position - 1) is not None
        and _WORD_CHAR.match(text, position) is not None
    )


def word_sets(text: str, spans: Sequence[tuple[int, int]]) -> list[set[str]] | None:
    """For each span of `text`, the set of stemmed words (no stop words) that start in it: `words` per span.

    The fast path of the highlight, which tokenises the top passages of every question: the words are
    found by the regex engine and stemmed once per distinct word, with no offsets kept. It gives the same
    sets as `terms_at(text, acronyms=False)` grouped by span (tested), and None, for the caller to take
    that path instead, where it could not: a span that cuts a word, or lower-casing that changes the length.
    """
    lowered = text.replace("’", "'").lower()
    if len(lowered) != len(text):
        return None
    plains: list[set[str]] = []
    for start, end in spans:
        if _cuts_word(lowered, start) or _cuts_word(lowered, end):
            return None
        found = set(_WORD.findall(lowered, start, end))
        compounds = {w for w in found if "-" in w or "'" in w}
        plain = found - compounds - STOPWORDS
        for compound in compounds:
            word = compound[:-2] if compound.endswith("'s") else compound
            parts = [word, *_PARTS.split(word)] if "-" in word or "'" in word else [word]
            plain.update(t for t in parts if t and t not in STOPWORDS)
        plains.append(plain)
    distinct = list(set().union(*plains))
    stemmed = dict(zip(distinct, _stems(distinct), strict=True))  # each distinct word stemmed once
    return [{stemmed[w] for w in plain} for plain in plains]


def words(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens without stop words; hyphenated words also give their parts."""
    return _word_tokens(text)[0]


def terms_at(text: str, acronyms: bool = True) -> tuple[list[str], list[int]]:
    """The single-word terms of `text` and the offset of the word each comes from.

    `acronyms=False` skips adding acronym terms, for a caller that looks for no acronym.
    """
    stems, starts = _word_tokens(text)
    return load_acronyms(words).expand_at(stems, starts) if acronyms else (stems, starts)


def acronym_terms() -> frozenset[str]:
    """The terms that stand for a domain acronym ("idp", "gcm", ...)."""
    return load_acronyms(words).shorts


def term_set(text: str) -> set[str]:
    """The distinct single-word terms of `text`, as BM25 sees them (no word pairs)."""
    return set(terms_of(text))


@lru_cache(maxsize=4096)
def terms_of(text: str) -> frozenset[str]:
    """`term_set`, kept: a question's terms are read by the search, the confidence and the doubts, and the top
    passages' by every question that shows them."""
    return frozenset(terms_at(text)[0])


def tokenize(text: str) -> list[str]:
    """The terms BM25 matches: stemmed words plus each pair of neighbouring words ("defin_protect").

    The pairs reward passages where the question's words stand together, a cheap form of the
    term-proximity scoring that Lucene phrase boosts and Vespa's nativeRank use. A domain acronym's
    expansion also gives the acronym ("internally displaced persons" -> "idp intern displac person").
    """
    unigrams = terms_at(text)[0]
    return unigrams + [f"{a}_{b}" for a, b in itertools.pairwise(unigrams)]


class LexicalIndex:
    """BM25 over a list of texts; `scores(query)` gives one score per text (0 where nothing matched)."""

    def __init__(self, retriever: Any, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        """BM25 over `texts`. Each text's terms become ids as it is tokenized (one int per distinct term,
        shared), so no list of term strings per text is held: for 300,000 passages of bench/scale.py's text
        the build peaked at 2.3 GB instead of 4.2 GB, and took 127 s instead of 183 s. The scores are
        bm25s's own, term for term.
        """
        import bm25s

        retriever = bm25s.BM25()
        vocabulary: dict[str, int] = {}
        ids = [[vocabulary.setdefault(term, len(vocabulary)) for term in tokenize(t) or [""]] for t in texts]
        if ids:
            retriever.index((ids, vocabulary), show_progress=False)
        return cls(retriever, len(ids))

    def writes(self, phrase: str) -> bool:
        """Whether the indexed text writes `phrase`: each pair of its neighbouring words (each word, if it has
        one) is a term of the index ("european court of human rights" -> "european_court", "court_human", ...)."""
        stems = terms_at(phrase, acronyms=False)[0]
        if not self.size or not stems:
            return False
        vocabulary = self._retriever.vocab_dict
        if len(stems) == 1:
            return stems[0] in vocabulary
        return all(f"{a}_{b}" in vocabulary for a, b in itertools.pairwise(stems))

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
