"""Which language a passage is in, from its most common short words: enough to tell the treaties'
English from their Dutch, and the EU Charter's proclamation in eleven languages from its text.

Returns an ISO 639-1 code, or None when a text has too few of the words to tell.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORDS = {
    "en": "the of and to in is that for be by with shall any or as are this which on not his has have its from at",
    "nl": "de het een van en in is dat op te zijn voor met door niet worden of bij aan die deze wordt als ook",
    "fr": "le la les de des du et en est une un que dans pour par sur au aux qui ne pas sont ou être cette",
    "de": "der die das und in den von zu ist mit sich des auf für nicht dem eine ein werden oder auch wird",
    "es": "el la los las de del y en que por con para una un se no es su al lo como o ser sus esta",
    "it": "il la le di del della e in che per con una un è non sono dei delle al alla nel o gli",
    "pt": "o a os as de do da dos das e em que por com para uma um não é ao no na se ou",
}
_VOCABULARY = {code: frozenset(words.split()) for code, words in _WORDS.items()}
_TOKEN = re.compile(r"[^\W\d_]+")
MIN_HITS = 3
UNLIKE_WORDS = 8  # a text of at least this many words ...
UNLIKE_SHARE = 0.05  # ... of which fewer than this share are a language's common words is not in that language


def detect(text: str) -> str | None:
    """The language of `text`, or None when fewer than MIN_HITS of its words are telling."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    scores = Counter({code: sum(1 for t in tokens if t in words) for code, words in _VOCABULARY.items()})
    if not scores:
        return None
    (best, hits), *rest = scores.most_common()
    if hits < MIN_HITS or (rest and rest[0][1] == hits):
        return None
    return best


def majority(languages: Iterable[str | None]) -> str | None:
    """The most common language among passages, or None."""
    counts = Counter(code for code in languages if code)
    return counts.most_common(1)[0][0] if counts else None


def title_language(text: str) -> str | None:
    """The language of a title, which has few words: the one with more telling words in it than any other."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    scores = Counter({code: sum(1 for t in tokens if t in words) for code, words in _VOCABULARY.items()})
    ranked = scores.most_common(2)
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


def unlike(text: str, languages: Iterable[str]) -> bool:
    """True when `text` is long enough to tell and too few of its words are common words of any of `languages`.

    For what `detect` cannot name: the EU Charter's proclamation in Danish, Finnish, Swedish, Irish and in Greek
    that the PDF's font maps to Latin letters. English prose has a quarter or more of its words among the
    common ones; a list of names or a table row that has none is set aside with them, and is no loss.
    """
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if len(tokens) < UNLIKE_WORDS:
        return False
    known = [_VOCABULARY[code] for code in languages if code in _VOCABULARY]
    if not known:
        return False
    return all(sum(1 for t in tokens if t in words) < UNLIKE_SHARE * len(tokens) for words in known)
