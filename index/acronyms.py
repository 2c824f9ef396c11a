"""Domain acronyms (index/data/acronyms.tsv) applied to a stemmed word sequence, the same way on both sides.

Wherever one of an acronym's expansions occurs ("internally displaced persons"), the acronym's own
term ("idp") is put in front of it. An acronym written as such already is that term (a plural that the
stemmer keeps, "JPOs" -> "jpos", is read as "jpo"), so a question in either form matches a passage in
either form. Only the acronym is added, never the expansion's words: a paper that says "IOM" on every
line should not read as one that says "migration" on every line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

Stem = Callable[[str], list[str]]


@dataclass(frozen=True)
class Acronym:
    short: str  # stemmed, lower case: "idp"
    plural: str  # the stemmed plural when the stemmer keeps its "s" ("jpos"); it reads as `short`
    expansions: tuple[tuple[str, ...], ...]  # each expansion's words, compound tokens left out


def read_table(text: str, words: Stem) -> list[Acronym]:
    """Parse the TSV (ACRONYM<TAB>expansion|expansion), stemming with `words` (the lexical tokeniser)."""
    acronyms = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        short, sep, long = line.partition("\t")
        stemmed_short = words(short.strip())
        expansions = tuple(tuple(_plain(words(e))) for e in long.split("|") if e.strip())
        if not sep or len(stemmed_short) != 1 or not expansions or not all(expansions):
            raise ValueError(f"acronyms.tsv:{number}: expected 'ACRONYM<TAB>expansion', got {line!r}")
        acronyms.append(Acronym(stemmed_short[0], words(short.strip() + "s")[0], expansions))
    return acronyms


def _plain(tokens: Sequence[str]) -> list[str]:
    """The tokens without compounds ("gender-bas"): their parts follow them and are what gets matched."""
    return [t for t in tokens if "-" not in t and "'" not in t]


class AcronymTable:
    def __init__(self, acronyms: Sequence[Acronym]) -> None:
        self._plurals = {a.plural: a.short for a in acronyms if a.plural != a.short}
        self.shorts = frozenset(a.short for a in acronyms)
        self._by_first: dict[str, list[tuple[tuple[str, ...], Acronym]]] = {}
        for acronym in acronyms:
            for expansion in acronym.expansions:
                self._by_first.setdefault(expansion[0], []).append((expansion, acronym))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda item: -len(item[0]))  # longest expansion first

    def expand(self, tokens: Sequence[str]) -> list[str]:
        """`tokens` with the acronym's term put in front of each expansion (and plurals read as the acronym)."""
        return self.expand_at(tokens, [0] * len(tokens))[0]

    def expand_at(self, tokens: Sequence[str], starts: Sequence[int]) -> tuple[list[str], list[int]]:
        """`expand`, carrying each token's offset along (an added acronym takes its expansion's offset)."""
        out: list[str] = []
        out_starts: list[int] = []
        by_first, plurals = self._by_first, self._plurals
        i = 0
        while i < len(tokens):
            token = tokens[i]
            matched = self._match(tokens, i) if token in by_first else None
            if matched is None:
                out.append(plurals.get(token, token))
                out_starts.append(starts[i])
                i += 1
            else:
                acronym, end = matched
                out.append(acronym.short)
                out.extend(tokens[i:end])
                out_starts.extend([starts[i], *starts[i:end]])
                i = end
        return out, out_starts

    def _match(self, tokens: Sequence[str], start: int) -> tuple[Acronym, int] | None:
        """The acronym whose expansion starts at `start` and where it ends (compounds in between skipped)."""
        for expansion, acronym in self._by_first.get(tokens[start], ()):
            position, matched = start, 0
            while position < len(tokens) and matched < len(expansion):
                token = tokens[position]
                if "-" in token or "'" in token:
                    position += 1
                    continue
                if token != expansion[matched]:
                    break
                matched += 1
                position += 1
            if matched == len(expansion):
                return acronym, position
        return None


@cache
def load_acronyms(words: Stem) -> AcronymTable:
    """The shipped table, stemmed with `words`."""
    text = (resources.files("index") / "data" / "acronyms.tsv").read_text(encoding="utf-8")
    return AcronymTable(read_table(text, words))
