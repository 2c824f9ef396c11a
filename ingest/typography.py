"""Undo what typesetting does to extracted text: ligatures, letter-spacing, small and drop caps, hyphens.

Each rule is a small function over a line or a paragraph so that tests can check it alone:
"ﬁ" -> "fi" (NFKC), "c o n v e n t i o n  a n d" -> "convention and", "prohiBition" -> "prohibition",
"T he" -> "The" at a paragraph's start, "relat-" + "ing" -> "relating". Whether a line-end hyphen
is a real one ("non-" + "refoulement") is decided by the document's own vocabulary: a word seen
elsewhere with its hyphen keeps it, one seen without loses it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

SOFT_HYPHEN = "\u00ad"
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_MIXED = re.compile(r"\b[^\W\d_]*[a-zß-ÿ][A-ZÀ-Þ][^\W\d_]*\b")
_DROP_CAP = re.compile(r"^([A-Z]) ([a-z]{1,15})\b")
_HYPHEN_END = re.compile(r"([^\W\d_]+)[-\u00ad]$")
_FRAGMENT = re.compile(r"^([^\W\d_]+)")
# Prefixes whose hyphen is usually real when a line breaks after them and the vocabulary is silent.
_PREFIXES = frozenset(
    [
        "non",
        "co",
        "self",
        "well",
        "cross",
        "anti",
        "post",
        "pre",
        "ex",
        "multi",
        "socio",
        "inter",
        "intra",
        "sub",
        "re",
        "long",
        "short",
        "full",
        "part",
        "third",
        "semi",
        "quasi",
        "ill",
        "all",
        "half",
        "first",
        "second",
    ]
)


def normalise(text: str) -> str:
    """NFKC (ligatures "ﬁ" -> "fi", no-break spaces), soft hyphens inside lines dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\u00ad(?=\S)", "", text)
    return _SPACE.sub(" ", text).strip()


def unspace(text: str) -> str:
    """Join letter-spaced text: "c  o  n  v  e  n  t  i  o  n    a  n  d" -> "convention and"."""
    stripped = text.strip()
    tokens = stripped.split()
    singles = sum(1 for t in tokens if len(t) == 1)
    if singles < 4 or singles < 0.75 * len(tokens):
        return text
    gaps = [len(g) for g in re.findall(r" +", stripped)]
    narrow = min(gaps)
    words = re.split(f" {{{narrow + 1},}}", stripped) if max(gaps) > narrow else [stripped]
    return " ".join(w.replace(" ", "") for w in words)


def fix_small_caps(text: str) -> str:
    """Lower-case words that small caps left mixed: "prohiBition" -> "prohibition", "ConTraCTing" -> "Contracting".

    Only words of four letters or more whose capitals are at most half of them: "ECtHR" and "IDPs" stay.
    """

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        letters = [c for c in word if c.isalpha()]
        upper = sum(1 for c in letters if c.isupper())
        if len(letters) < 4 or upper > len(letters) / 2:
            return word
        return word[0] + word[1:].lower()

    return _MIXED.sub(fix, text)


def fix_drop_cap(text: str, vocabulary: frozenset[str] = frozenset()) -> str:
    """Join a drop cap to its word at a paragraph's start: "T he Contracting" -> "The Contracting".

    "A" and "I" are words of their own, so "A s" is joined only when "s" is not a word of the document.
    """
    match = _DROP_CAP.match(text)
    if match is None:
        return text
    letter, rest = match.groups()
    if letter in "AI" and rest.lower() in vocabulary:
        return text
    return letter + text[2:]


def vocabulary(lines: Iterable[str]) -> frozenset[str]:
    """The lower-cased words of a document, hyphenated compounds included ("non-refoulement")."""
    words: set[str] = set()
    for line in lines:
        body = re.sub(r"[-\u00ad]\s*$", "", line)  # a line-end hyphen is not evidence of anything
        words.update(w.lower() for w in _WORD.findall(body))
    return frozenset(words)


def join_lines(lines: Sequence[str], words: frozenset[str] = frozenset()) -> str:
    """Join a paragraph's lines with spaces, undoing line-end hyphenation with the document's vocabulary."""
    text = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not text:
            text = line
            continue
        text = _join(text, line, words)
    return _SPACE.sub(" ", text).strip()


def _join(text: str, line: str, words: frozenset[str]) -> str:
    end = _HYPHEN_END.search(text)
    start = _FRAGMENT.match(line)
    if end is None or start is None or not start.group(1)[0].islower():
        return f"{text} {line}"
    head, tail = end.group(1), start.group(1)
    soft = text.endswith(SOFT_HYPHEN)
    if soft or _drop_hyphen(head, tail, words):
        return text[:-1] + line
    return text[:-1] + "-" + line


def _drop_hyphen(head: str, tail: str, words: frozenset[str]) -> bool:
    joined = (head + tail).lower()
    hyphenated = f"{head}-{tail}".lower()
    if hyphenated in words and joined not in words:
        return False
    if joined in words:
        return True
    return head.lower() not in _PREFIXES
