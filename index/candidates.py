"""A question's candidate passages and their signals: what the fusion (index/fusion.py) scores.

Candidates are the passages of the best FAISS windows and the BM25 top, plus the passages of the documents the
question names and of the units it cites. Each gets the signals the ranker reads (index/ranker.py): a passage's
best window's and best sentence's cosines, its BM25 score, whether the question names its document or cites its
unit, the shares of the question's terms in its heading and text, and whether it states a definition.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .context import heading_parts
from .fusion import Fusion
from .intent import asks_for_definition, states_definition
from .lexical import term_set
from .lookup import looks_up
from .naming import Names
from .ranker import Signals
from .references import PROTOCOL, Unit, UnitIndex, cited_subdivisions, cited_units, without_citations
from .snapshot import Snapshot
from .termrows import TermRows

if TYPE_CHECKING:
    from numpy.typing import NDArray

CANDIDATES = 100


class Candidates:
    """Gathers one snapshot's candidates for a question; keeps what it reads of the rows for the generation."""

    def __init__(self, snapshot: Snapshot, fusion: Fusion, names: Names, units: UnitIndex) -> None:
        self.snapshot = snapshot
        self.fusion = fusion
        self.names = names
        self.units = units
        number = {d: i for i, d in enumerate(snapshot.documents)}
        # per searchable row, read by every search's candidates: arrays, not a walk over the passages each time
        self._row_document = np.asarray([number[p.document_id] for p in snapshot.searchable], dtype=np.int64)
        self._row_footnote = np.asarray([p.kind == "footnote" for p in snapshot.searchable], dtype=bool)
        self._row_terms: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._term_rows: TermRows | None = None  # every row's heading and body terms as arrays (_coverage)
        self._row_defines: dict[int, bool] = {}

    def gather(
        self, query: str, vector: NDArray[np.float32], terms: set[str], allowed: NDArray[np.int64] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32], Signals] | None:
        """The candidate rows, every row's BM25 score and the candidates' signals (None: no candidate)."""
        named, rest = self.names.find(query) if self.fusion.prefers_named else (frozenset(), query)
        lexical = self.snapshot.lexical.scores(rest if named and rest else query)
        if allowed is not None:
            lexical = np.where(np.isin(np.arange(len(lexical)), allowed), lexical, 0).astype(np.float32)
        named_rows = self._named_rows(named, allowed)
        cited = cited_units(query)
        if protocols := frozenset(u for u in cited if u[0] == PROTOCOL):
            # a protocol printed after a convention is a document within it: "Protocol No. 6" names its passages
            found = np.asarray(self.units.rows(protocols, named or None), dtype=np.int64)
            named_rows = np.union1d(named_rows, found if allowed is None else np.intersect1d(found, allowed))
        cited_rows, shadowed_rows = self._cited_rows(cited, named, allowed)
        candidates = self._candidates(vector, lexical, allowed)
        candidates = np.union1d(np.union1d(candidates, named_rows), cited_rows)
        if not len(candidates):
            return None
        preferred = (named_rows, cited_rows, shadowed_rows)
        signals = self._signals(vector, lexical, candidates, preferred, terms)
        if len(cited_rows) and self._looks_up(query, named):
            signals = replace(signals, lookup=True)
        if len(cited_rows) and (parts := cited_subdivisions(query)):
            exact = np.asarray(self.units.exact(parts, named or None), dtype=np.int64)
            signals = replace(signals, exact=np.isin(candidates, exact))
        if self.fusion.definition_boost and asks_for_definition(query):
            signals = replace(signals, definition=self._defines(candidates))
        return candidates, lexical, signals

    def _looks_up(self, query: str, named: frozenset[str]) -> bool:
        """looks_up, less the names of the documents the question names; citations are taken out first, so that
        "Article 29(2) of Dublin III" leaves no "2" behind once the names' matching drops the brackets."""
        rest = without_citations(query)
        return looks_up(self.names.find(rest)[1] if named else rest)

    def _defines(self, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which of `rows` state a definition (index/intent.py), remembered per row."""
        out = np.zeros(len(rows), dtype=bool)
        for i, row in enumerate(rows.tolist()):
            found = self._row_defines.get(row)
            if found is None:
                passage = self.snapshot.searchable[row]
                found = states_definition(passage, self.snapshot.documents.get(passage.document_id))
                self._row_defines[row] = found
            out[i] = found
        return out

    def _cited_rows(
        self, cited: frozenset[Unit], named: frozenset[str], allowed: NDArray[np.int64] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Rows of the units the question cites, in the documents it names (in any document if it names none),
        and rows of the same-numbered units of those documents' protocols and annexes (see UnitIndex.shadowed)."""
        if not cited or not (self.fusion.cite_boost or self.fusion.method == "learned"):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        found = np.asarray(self.units.rows(cited, named or None), dtype=np.int64)
        shadowed = np.asarray(self.units.shadowed(cited, named or None), dtype=np.int64)
        if allowed is not None:
            return np.intersect1d(found, allowed), np.intersect1d(shadowed, allowed)
        return found, shadowed

    def _named_rows(self, named: frozenset[str], allowed: NDArray[np.int64] | None) -> NDArray[np.int64]:
        """Rows of the documents the question names (all of them are candidates: the name says where to look)."""
        rows = [self.snapshot.document_rows[d] for d in sorted(named) if d in self.snapshot.document_rows]
        found = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        return np.intersect1d(found, allowed) if allowed is not None else found

    def _candidates(
        self, vector: NDArray[np.float32], lexical: NDArray[np.float32], allowed: NDArray[np.int64] | None
    ) -> NDArray[np.int64]:
        if allowed is not None and len(allowed) <= 20 * CANDIDATES:
            return allowed
        _, window_rows = self.snapshot.dense.top(vector, CANDIDATES * 3)
        dense_rows = self.snapshot.windows[window_rows, 0] if len(window_rows) else np.zeros(0, np.int64)
        n = min(CANDIDATES, len(lexical))
        lexical_rows = np.argpartition(-lexical, n - 1)[:n] if n else np.zeros(0, np.int64)
        lexical_rows = lexical_rows[lexical[lexical_rows] > 0]
        rows = np.union1d(dense_rows.astype(np.int64), lexical_rows.astype(np.int64))
        if allowed is not None:
            rows = np.intersect1d(rows, allowed)
        return rows

    def _signals(
        self,
        vector: NDArray[np.float32],
        lexical: NDArray[np.float32],
        rows: NDArray[np.int64],
        preferred: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
        terms: set[str],
    ) -> Signals:
        """The candidates' signals; `preferred` holds the rows of the named documents, of the cited units and of
        the protocols' units that share a cited unit's number."""
        named_rows, cited_rows, shadowed_rows = preferred
        snapshot = self.snapshot
        windows = _segment_max(snapshot.dense.vectors, snapshot.window_offsets, rows, vector)
        if snapshot.sentence_vectors is not None:
            sentences = _segment_max(snapshot.sentence_vectors, snapshot.sentence_offsets, rows, vector)
            # a passage without a sentence row (no text) is judged by its window
            sentences = np.where(np.isfinite(sentences), sentences, windows)
        else:
            sentences = windows
        heading, body = self._coverage(rows, terms)
        return Signals(
            dense=windows,
            sentence=np.asarray(sentences, dtype=np.float32),
            lexical=lexical[rows],
            lexical_top=float(lexical.max()) if len(lexical) else 0.0,
            named=np.isin(rows, named_rows),
            heading=heading,
            body=body,
            documents=self._row_document[rows],
            footnote=self._row_footnote[rows],
            cited=np.isin(rows, cited_rows),
            shadowed=np.isin(rows, shadowed_rows),
        )

    def _coverage(self, rows: NDArray[np.int64], terms: set[str]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Shares of the question's terms in each candidate's heading (section path, label) and in its text."""
        if not terms or self.fusion.method != "learned":  # only the learned ranker reads them
            return np.zeros(len(rows), dtype=np.float32), np.zeros(len(rows), dtype=np.float32)
        return self.terms_table().shares(rows, terms)

    def terms_table(self) -> TermRows:
        """Every row's heading and body terms as arrays, built on first use (or by Searcher.warm)."""
        if self._term_rows is None:
            self._term_rows = TermRows(self.terms_of(row) for row in range(len(self.snapshot.searchable)))
        return self._term_rows

    def terms_of(self, row: int) -> tuple[frozenset[str], frozenset[str]]:
        """The terms of a row's heading (section path, label) and of its text, read once per row."""
        found = self._row_terms.get(row)
        if found is None:
            passage = self.snapshot.searchable[row]
            info = self.snapshot.documents.get(passage.document_id)
            found = (frozenset(term_set(" ".join(heading_parts(passage, info)))), frozenset(term_set(passage.text)))
            self._row_terms[row] = found
        return found


def _segment_max(
    vectors: NDArray[np.float32], offsets: NDArray[np.int64], rows: NDArray[np.int64], query: NDArray[np.float32]
) -> NDArray[np.float32]:
    """For each row, the best cosine among its vectors `offsets[row]:offsets[row + 1]` (-inf when it has none)."""
    starts, ends = offsets[rows], offsets[rows + 1]
    counts = ends - starts
    out = np.full(len(rows), -np.inf, dtype=np.float32)
    present = counts > 0
    if not present.any():
        return out
    starts, counts = starts[present], counts[present]
    firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    index = np.repeat(starts - firsts, counts) + np.arange(int(counts.sum()))
    scores = vectors[index] @ query
    out[present] = np.maximum.reduceat(scores, firsts)
    return out
