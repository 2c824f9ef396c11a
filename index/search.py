"""Question -> ranked passages: dense (FAISS) and lexical (BM25) scores fused, best sentence highlighted.

Candidates are the passages of the best FAISS windows and the BM25 top. A passage's dense score mixes
its best window's cosine with its best sentence's cosine (a long passage is judged by its most
relevant part, and a claim often matches one sentence); fusion is a learned linear ranker over each
candidate's signals (index/ranker.py; the default since 2026-12-07), a convex combination of that dense
score and the query-normalised BM25 score, or reciprocal rank fusion. A question that names a document or
cites a unit by number adds a boost to those passages (index/naming.py, index/references.py), and one that
asks for a definition to the passages that state one (index/intent.py). Convex's weights (dense 0.8, 35% of
it from the best sentence, boosts 0.1) are the best on the tune half of the library question set
(bench/library.py) that keep the paper's golden set at 90% top-1 and 100% top-3; SciFact's train split is
flat across sentence weights 0.2-0.35.
`explain` fields carry both halves of every score. With a reranker (index/reranker.py) the first stage's best
passages are then re-scored by a cross-encoder reading the question and each passage together.
The candidates and their signals are gathered in index/candidates.py, fused in index/fusion.py (a question that
asks for a cited unit alone: index/lookup.py); what speaks against the answer is index/doubts.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .candidates import Candidates
from .context import CONTEXT
from .doubts import Doubter, Doubts
from .embedder import Embedder
from .errors import BadQuery, IndexIncompatible, RerankerOff, UnknownDocument
from .fusion import Fusion, fuse, mixed_dense, ranks
from .highlight import best_sentence, sentence_words, wants_acronyms
from .lexical import ANALYZER, term_set
from .naming import Names
from .ranker import FEATURES, LinearRanker, Signals, features, load_ranker
from .records import KINDS, DocumentInfo, Passage
from .references import UnitIndex
from .reranker import Reranker, pair_text
from .snapshot import Snapshot
from .unicode import unicode_problem

if TYPE_CHECKING:
    from numpy.typing import NDArray

SENTENCE_WORDS_KEPT = 50_000  # rows whose sentences' terms a Searcher keeps for the highlight


@dataclass(frozen=True)
class Filters:
    """Restrict results to some documents and/or kinds (None: no restriction)."""

    documents: frozenset[str] | None = None
    kinds: frozenset[str] | None = None


@dataclass(frozen=True)
class Hit:
    passage: Passage
    document: DocumentInfo
    rank: int
    score: float
    dense_score: float  # the passage's dense score (window and sentence cosines mixed as the fusion says)
    lexical_score: float
    dense_rank: int | None
    lexical_rank: int | None
    highlight: tuple[int, int] | None
    highlight_cosine: float | None = None  # the highlighted sentence's cosine to the question
    named: bool = False  # the question names this passage's document, and the ranking preferred it
    cited: bool = False  # the question cites this passage's unit ("Article 33"), and the ranking preferred it
    definition: bool = False  # the question asks for a definition, this passage states one: preferred
    cross_score: float | None = None  # the reranker's score of (question, passage), where it re-scored this passage
    first_stage_rank: int | None = None  # its rank before the reranker (None: the reranker did not run)
    looked_up: bool = False  # the question asks for a cited unit and nothing else, and this passage is of that unit
    lead_in: Passage | None = None  # the passage that leads into this item ("States Parties shall ensure that:")


class Searcher:
    """Searches one snapshot with one embedder. Cheap to create: build a new one per generation."""

    def __init__(
        self,
        snapshot: Snapshot,
        embedder: Embedder,
        fusion: Fusion | None = None,
        ranker: LinearRanker | None = None,
        reranker: Reranker | None = None,
        rerank_by_default: bool = True,
    ) -> None:
        if snapshot.model != embedder.name or snapshot.manifest.model.dim != embedder.dim:
            raise IndexIncompatible(
                f"generation {snapshot.generation} was built with {snapshot.model}, the service runs "
                f"{embedder.name}; rebuild with: pqa ingest"
            )
        analyzer = snapshot.manifest.analyzer
        if analyzer != ANALYZER:
            raise IndexIncompatible(
                f"generation {snapshot.generation} was built with the lexical analyzer {analyzer!r}, this "
                f"program uses {ANALYZER!r}; rebuild with: pqa ingest"
            )
        if snapshot.manifest.context != CONTEXT:
            raise IndexIncompatible(
                f"generation {snapshot.generation} embedded its passages with the context "
                f"{snapshot.manifest.context!r}, this program uses {CONTEXT!r}; rebuild with: pqa ingest"
            )
        self.snapshot = snapshot
        self.embedder = embedder
        self.fusion = fusion or Fusion()
        self.names = Names(snapshot.documents)
        self.units = UnitIndex(snapshot.searchable)
        self.ranker = ranker or load_ranker()
        self.reranker = reranker  # None: the first stage's order is the answer
        self.rerank_by_default = rerank_by_default  # False: only a search that asks for it (rerank=True) re-scores
        self.candidates = Candidates(snapshot, self.fusion, self.names, self.units)
        self.doubter = Doubter(snapshot, self.names, self.units, self.candidates.terms_of)
        # per (row, with acronyms): its sentences' terms, for the highlight of the passages that keep being shown
        self._sentence_words: dict[tuple[int, bool], list[frozenset[str]]] = {}

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        highlights: int | None = None,
        rerank: bool | None = None,
    ) -> list[Hit]:
        """The `k` best passages; the first `highlights` of them (default: all) get their best sentence.

        `rerank`: True re-scores with the reranker (RerankerOff where there is none), False keeps the first stage's
        order, None does what this Searcher does by default (`rerank_by_default`, where it has a reranker)."""
        query = query.strip()
        if not query:
            raise BadQuery("the question is empty; ask something, e.g. 'How does IOM define protection?'")
        if problem := unicode_problem(query):
            raise BadQuery(f"the question is not valid Unicode ({problem}); send it as UTF-8 text")
        allowed = self._allowed_rows(filters or Filters())  # an unknown document is named before a missing reranker
        if rerank and self.reranker is None:
            raise RerankerOff(
                "this service runs without the reranker (PQA_RERANK=off, or it failed to load: /readyz says why); "
                "leave rerank out (or false), or start the service with PQA_RERANK=ask or PQA_RERANK=on"
            )
        use = self.reranker is not None and (self.rerank_by_default if rerank is None else rerank)
        if allowed is not None and not len(allowed):
            return []
        vector = self.embedder.embed_query(query)
        terms = term_set(query)
        gathered = self.candidates.gather(query, vector, terms, allowed)
        if gathered is None:
            return []
        candidates, lexical, signals = gathered
        dense = mixed_dense(self.fusion, signals)
        fused = fuse(self.fusion, self.ranker, signals, dense, candidates)
        named = signals.named
        first = np.argsort(-fused, kind="stable")
        order, fused, cross = self._rerank(query, candidates, first, fused, signals) if use else (first, fused, {})
        order = order[:k]
        first_ranks = np.empty(len(first), dtype=np.int64) if cross else None
        if first_ranks is not None:
            first_ranks[first] = np.arange(1, len(first) + 1)
        dense_ranks = ranks(dense)
        lexical_ranks = ranks(lexical[candidates])
        highlights = len(order) if highlights is None else highlights
        hits = []
        for rank, i in enumerate(order, start=1):
            row = int(candidates[i])
            passage = self.snapshot.searchable[row]
            span, cosine = self._highlight(row, vector, terms, float(dense[i])) if rank <= highlights else (None, None)
            hits.append(
                Hit(
                    passage=passage,
                    document=self.snapshot.documents[passage.document_id],
                    rank=rank,
                    score=round(float(fused[i]), 6),
                    dense_score=round(float(dense[i]), 6),
                    lexical_score=round(float(lexical[row]), 6),
                    dense_rank=int(dense_ranks[i]),
                    lexical_rank=int(lexical_ranks[i]) if lexical[row] > 0 else None,
                    highlight=span,
                    highlight_cosine=cosine,
                    named=bool(named[i]) and self.fusion.prefers_named,
                    cited=bool(signals.cited[i]),
                    definition=signals.definition is not None and bool(signals.definition[i]),
                    cross_score=round(cross[int(i)], 6) if int(i) in cross else None,
                    first_stage_rank=int(first_ranks[i]) if first_ranks is not None else None,
                    looked_up=signals.lookup and bool(signals.cited[i]),
                    lead_in=self.snapshot.lead_in_of.get(passage.id),
                )
            )
        return hits

    def _rerank(
        self,
        query: str,
        candidates: NDArray[np.int64],
        order: NDArray[np.int64],
        fused: NDArray[np.float64],
        signals: Signals,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], dict[int, float]]:
        """The first stage's best `reranker.top` re-scored fused + weight * (cross - the least cross of them) and put
        in that order, the rest below them in theirs: (order, scores, the cross score of each re-scored candidate).
        Nothing changes without a reranker, with one candidate, or for a question that asks for a cited unit alone
        (index/reranker.py)."""
        if self.reranker is None or signals.lookup or len(order) < 2:
            return order, fused, {}
        top = order[: self.reranker.top]
        pairs = []
        for i in top:
            passage = self.snapshot.searchable[int(candidates[i])]
            pairs.append(pair_text(query, passage, self.snapshot.documents.get(passage.document_id)))
        cross = self.reranker.scores(pairs)
        rescored = fused.copy()
        # weight * (cross - its least): only adds, so the re-scored stay above the rest and the scores fall with rank
        rescored[top] = fused[top] + self.reranker.weight * (cross - cross.min())
        reordered = top[np.argsort(-rescored[top], kind="stable")]
        return (
            np.concatenate([reordered, order[len(top) :]]),
            rescored,
            {int(i): float(c) for i, c in zip(top, cross, strict=True)},
        )

    def doubts(self, query: str, top: Hit | None = None) -> Doubts:
        """What speaks against an answer in the library: the units the question cites that the library lacks, the
        instruments it names that the library does not hold, and its particular words that the first hit `top`
        and its document do not write (index/doubts.py)."""
        return self.doubter.doubts(query, top)

    def unresolved(self, query: str) -> frozenset[tuple[str, int]]:
        """The units the question cites that the documents it names (or the library) lack: Doubter.unresolved."""
        return self.doubter.unresolved(query)

    def unfamiliar(self, query: str) -> tuple[str, ...]:
        """The instruments the question names that the library neither holds nor writes: Doubter.unfamiliar."""
        return self.doubter.unfamiliar(query)

    def strangers(self, query: str, hit: Hit) -> tuple[str, ...]:
        """The question's particular words that `hit` and its document do not write: Doubter.strangers."""
        return self.doubter.strangers(query, hit)

    def warm(self) -> None:
        """Count every document's common terms now (Searcher.strangers counts a document's on first use: about
        0.1 s for a document of a thousand passages, paid by the first question whose top hit is in it)."""
        for document_id in self.snapshot.document_rows:
            self.doubter.common_terms(document_id)
        if self.fusion.method == "learned":  # and every row's terms, which the ranker's shares read
            self.candidates.terms_table()

    def candidate_features(self, query: str) -> tuple[list[Passage], NDArray[np.float64]]:
        """Every candidate passage of `query` and its ranker features (for fitting the ranker's weights)."""
        gathered = self.candidates.gather(query, self.embedder.embed_query(query), term_set(query), None)
        if gathered is None:
            return [], np.zeros((0, len(FEATURES)))
        candidates, _, signals = gathered
        return [self.snapshot.searchable[int(r)] for r in candidates], features(signals)

    def _allowed_rows(self, filters: Filters) -> NDArray[np.int64] | None:
        if filters.documents is None and filters.kinds is None:
            return None
        if filters.kinds is not None and (unknown := filters.kinds - set(KINDS)):
            raise BadQuery(f"unknown kind {sorted(unknown)[0]!r}; expected one of {', '.join(KINDS)}")
        if filters.documents is not None and (missing := filters.documents - set(self.snapshot.documents)):
            known = ", ".join(sorted(self.snapshot.documents)) or "none"
            raise UnknownDocument(f"unknown document {sorted(missing)[0]!r}; indexed documents: {known}")
        rows = np.arange(len(self.snapshot.searchable), dtype=np.int64)
        if filters.documents is not None:
            rows = np.concatenate(
                [self.snapshot.document_rows.get(d, np.zeros(0, np.int64)) for d in sorted(filters.documents)]
            )
        if filters.kinds is not None:
            searchable = self.snapshot.searchable
            rows = np.asarray([r for r in rows if searchable[r].kind in filters.kinds], dtype=np.int64)
        return np.unique(rows)

    def _words_of(
        self, row: int, text: str, spans: list[tuple[int, int]], terms: set[str]
    ) -> list[frozenset[str]] | None:
        """The terms of each sentence of `row`, read once per row (and per acronyms or not) and kept."""
        if not terms or len(spans) < 2:
            return None
        key = (row, wants_acronyms(terms))
        found = self._sentence_words.get(key)
        if found is None:
            if len(self._sentence_words) >= SENTENCE_WORDS_KEPT:
                self._sentence_words.clear()
            found = self._sentence_words[key] = sentence_words(text, spans, key[1])
        return found

    def _highlight(
        self, row: int, vector: NDArray[np.float32], terms: set[str], dense: float
    ) -> tuple[tuple[int, int] | None, float | None]:
        passage = self.snapshot.searchable[row]
        start, end = self.snapshot.sentence_offsets[row], self.snapshot.sentence_offsets[row + 1]
        if end <= start:  # no sentence (no text): the passage is its own highlight
            return ((0, len(passage.text)), dense) if passage.text else (None, None)
        vectors = self.snapshot.sentence_vectors
        spans = [(int(a), int(b)) for a, b in self.snapshot.sentences[start:end, 1:]]
        best = best_sentence(
            passage.text,
            spans,
            vectors[start:end] if vectors is not None else None,
            vector,
            terms,
            self.fusion.highlight_lexical_weight,
            self._words_of(row, passage.text, spans, terms),
        )
        if best is None:
            return None, None
        return (best.start, best.end), best.cosine if vectors is not None else None
