"""What speaks against an answer in the library: cited units it lacks, instruments it does not hold, and words
of the question that the first hit and its document never write. index/confidence.py weighs them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .context import lexical_text
from .lexical import term_set
from .naming import Names, instrument_names, normalise, particulars
from .references import PROTOCOL, Unit, UnitIndex, cited_units
from .snapshot import Snapshot

if TYPE_CHECKING:
    from .search import Hit

STRANGER_SHARE = 0.02  # a word this share of a document's passages write is the document's own (Doubter.strangers)


@dataclass(frozen=True)
class Doubts:
    """What speaks against an answer in the library (Searcher.doubts); index/confidence.py takes `flags()`."""

    unresolved: tuple[Unit, ...] = ()  # cited units the named documents (or, naming none, the library) lack
    unfamiliar: tuple[str, ...] = ()  # instruments named that no document is and the library never writes
    strangers: tuple[str, ...] = ()  # particular words the first hit and its document do not write

    def flags(self) -> tuple[bool, bool, bool]:
        return bool(self.unresolved), bool(self.unfamiliar), bool(self.strangers)


class Doubter:
    """Finds one snapshot's Doubts; keeps each document's common terms and normalised text for the generation.

    `terms_of(row)` gives a searchable row's heading and body terms (the Searcher's, read once per row)."""

    def __init__(
        self,
        snapshot: Snapshot,
        names: Names,
        units: UnitIndex,
        terms_of: Callable[[int], tuple[frozenset[str], frozenset[str]]],
    ) -> None:
        self.snapshot = snapshot
        self.names = names
        self.units = units
        self.terms_of = terms_of
        self._document_terms: dict[str, frozenset[str]] = {}
        self._document_texts: dict[str, str] = {}  # normalised, for _holds_part

    def doubts(self, query: str, top: Hit | None = None) -> Doubts:
        """What speaks against an answer in the library: the units the question cites that the library lacks, the
        instruments it names that the library does not hold, and its particular words that the first hit `top`
        and its document do not write (Doubter.strangers)."""
        return Doubts(
            tuple(sorted(self.unresolved(query))),
            self.unfamiliar(query),
            self.strangers(query, top) if top is not None else (),
        )

    def unresolved(self, query: str) -> frozenset[tuple[str, int]]:
        """The units the question cites by number that the documents it names (or, naming none, the whole
        library) do not have: "Objective 24 of the GCM" when the GCM has 23."""
        cited = cited_units(query)
        if not cited:
            return frozenset()
        named = self.names.named_in(query)
        missing = self.units.missing(cited, named or self.snapshot.documents)
        # a protocol no document prints may be one the text writes of ("as amended by Protocol No. 14")
        return frozenset(
            (kind, n)
            for kind, n in missing
            if kind != PROTOCOL or not self.snapshot.lexical.writes(f"Protocol No. {n}")
        )

    def strangers(self, query: str, hit: Hit) -> tuple[str, ...]:
        """The question's particular words (naming.particulars: "Germany", "2023", "Frontex") that the hit's
        passage, its heading and label, and its document's names do not write, and that fewer than
        STRANGER_SHARE of the document's passages write ("Kenya" is written by the Kenyan regulations as a
        whole, not by each of their regulations). "How many asylum applications were lodged in Germany in
        2023?" finds passages on asylum applications, none of them about Germany in 2023."""
        found = particulars(query)
        if not found:
            return ()
        heading, body = self.terms_of(self.snapshot.row_of[hit.passage.id])  # what lexical_text reads
        document_id = hit.passage.document_id
        written = heading | body | self.names.terms(document_id) | self.common_terms(document_id)
        return tuple(word for word in found if not term_set(word) <= written)

    def common_terms(self, document_id: str) -> frozenset[str]:
        """The terms that STRANGER_SHARE or more of a document's searchable passages write (counted on first use,
        or by Searcher.warm)."""
        if document_id not in self._document_terms:
            rows = self.snapshot.document_rows.get(document_id, np.zeros(0, dtype=np.int64))
            counts: Counter[str] = Counter()
            for row in rows:
                counts.update(term_set(self.snapshot.searchable[int(row)].text))
            least = STRANGER_SHARE * len(rows)
            self._document_terms[document_id] = frozenset(t for t, n in counts.items() if n >= least)
        return self._document_terms[document_id]

    def unfamiliar(self, query: str) -> tuple[str, ...]:
        """The names of instruments, bodies or cases in the question that name no document of the library (nor
        read as one of its names in other words: "the Children's Convention") and that its text never writes
        ("the Cartagena Declaration", "the EU Return Directive")."""
        return tuple(
            name
            for name in instrument_names(query)
            if not self.names.resembles(name) and not self.snapshot.lexical.writes(name) and not self._holds_part(name)
        )

    def _holds_part(self, name: str) -> bool:
        """Whether `name` is a part of a document the library holds, named by that document's name: "the Optional
        Protocol to the ICCPR" where the ICCPR's document writes "Optional Protocol" (it holds it), not "the
        Optional Protocol to CEDAW" where CEDAW's never does."""
        named, rest = self.names.held_in(name)
        if not named or not rest:
            return False
        phrase = f" {rest} "
        return any(phrase in self._normalised_text(document) for document in named)

    def _normalised_text(self, document_id: str) -> str:
        """The normalised text of a document's searchable passages, one line each (read once per generation)."""
        text = self._document_texts.get(document_id)
        if text is None:
            info = self.snapshot.documents[document_id]
            rows = self.snapshot.document_rows.get(document_id, ())
            text = "\n".join(normalise(lexical_text(self.snapshot.searchable[int(row)], info)) for row in rows)
            self._document_texts[document_id] = text
        return text
