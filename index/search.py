"""Question -> ranked passages: dense (FAISS) and lexical (BM25) scores fused, best sentence highlighted.

Candidates are the passages of the best FAISS windows and the BM25 top. A passage's dense score mixes
its best window's cosine with its best sentence's cosine (a long passage is judged by its most
relevant part, and a claim often matches one sentence); fusion is a convex combination of that and
the query-normalised BM25 score (the default), reciprocal rank fusion, or a learned linear ranker
(index/ranker.py). A question that names a document or cites a unit by number adds a boost to those
passages (index/naming.py, index/references.py), and one that asks for a definition to the passages that
state one (index/intent.py). The default weights (dense 0.8, 35% of it from the best sentence, boosts 0.1)
are the best on the tune half of the library question set (bench/library.py) that keep the paper's golden
set at 90% top-1 and 100% top-3; SciFact's train split is flat across sentence weights 0.2-0.35.
`explain` fields carry both halves of every score. With a reranker (index/reranker.py) the first stage's best
passages are then re-scored by a cross-encoder reading the question and each passage together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .context import CONTEXT, heading_parts, lexical_text
from .embedder import Embedder
from .errors import BadQuery, IndexIncompatible, RerankerOff, UnknownDocument
from .highlight import LEXICAL_WEIGHT, best_sentence, sentence_words, wants_acronyms
from .intent import asks_for_definition, states_definition
from .lexical import ANALYZER, term_set
from .naming import Names, instrument_names, normalise, particulars
from .ranker import FEATURES, LinearRanker, Signals, features, load_ranker
from .records import KINDS, DocumentInfo, Passage
from .references import PROTOCOL, Unit, UnitIndex, cited_subdivisions, cited_units, without_citations
from .reranker import Reranker, pair_text
from .snapshot import Snapshot
from .termrows import TermRows
from .unicode import unicode_problem

if TYPE_CHECKING:
    from numpy.typing import NDArray

CANDIDATES = 100
SENTENCE_WORDS_KEPT = 50_000  # rows whose sentences' terms a Searcher keeps for the highlight
METHODS = ("convex", "rrf", "learned")


@dataclass(frozen=True)
class Fusion:
    """How the two rankings combine. `method` is "learned", "convex" or "rrf".

    learned (the default since 2026-12-07): the linear ranker over each candidate's signals (index/ranker.py,
    index/data/ranker.json), chosen on a question set written for that choice (bench/data/LIBRARY_QUESTIONS.md).
    convex: score = dense_weight * dense + (1 - dense_weight) * bm25 / max(bm25), where
    dense = (1 - sentence_weight) * best window cosine + sentence_weight * best sentence cosine, plus the boosts
    below. The weights and boosts are convex's. A search that the reranker re-scores starts from the first stage
    this Fusion names (the reranker's weight was chosen over the learned ranker's: bench/rerank_start.py).
    """

    method: str = "learned"
    dense_weight: float = 0.8
    sentence_weight: float = 0.35
    rrf_k: int = 60
    highlight_lexical_weight: float = LEXICAL_WEIGHT
    name_boost: float = 0.1  # added to the fused score of passages of a document the question names
    cite_boost: float = 0.1  # added to the fused score of passages of a unit the question cites ("Article 33")
    definition_boost: float = 0.1  # added to passages that state a definition, when the question asks for one
    lookup_boost: float = 1.0  # added to a cited unit's passages instead of cite_boost when the question asks for
    # nothing but the unit ("What does Article 33 of the 1951 Convention say?"): the unit itself comes first

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown fusion {self.method!r}; expected one of {', '.join(METHODS)}")
        if not (0.0 <= self.dense_weight <= 1.0 and 0.0 <= self.sentence_weight <= 1.0):
            raise ValueError("dense_weight and sentence_weight must be between 0 and 1")


@dataclass(frozen=True)
class Filters:
    """Restrict results to some documents and/or kinds (None: no restriction)."""

    documents: frozenset[str] | None = None
    kinds: frozenset[str] | None = None


STRANGER_SHARE = 0.02  # a word this share of a document's passages write is the document's own (Searcher.strangers)


@dataclass(frozen=True)
class Doubts:
    """What speaks against an answer in the library (Searcher.doubts); index/confidence.py takes `flags()`."""

    unresolved: tuple[Unit, ...] = ()  # cited units the named documents (or, naming none, the library) lack
    unfamiliar: tuple[str, ...] = ()  # instruments named that no document is and the library never writes
    strangers: tuple[str, ...] = ()  # particular words the first hit and its document do not write

    def flags(self) -> tuple[bool, bool, bool]:
        return bool(self.unresolved), bool(self.unfamiliar), bool(self.strangers)


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
        number = {d: i for i, d in enumerate(snapshot.documents)}
        # per searchable row, read by every search's candidates: arrays, not a walk over the passages each time
        self._row_document = np.asarray([number[p.document_id] for p in snapshot.searchable], dtype=np.int64)
        self._row_footnote = np.asarray([p.kind == "footnote" for p in snapshot.searchable], dtype=bool)
        self._row_terms: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._term_rows: TermRows | None = None  # every row's heading and body terms as arrays (_coverage)
        # per (row, with acronyms): its sentences' terms, for the highlight of the passages that keep being shown
        self._sentence_words: dict[tuple[int, bool], list[frozenset[str]]] = {}
        self._row_defines: dict[int, bool] = {}
        self._document_terms: dict[str, frozenset[str]] = {}
        self._document_texts: dict[str, str] = {}  # normalised, for _holds_part

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
        gathered = self._gather(query, vector, terms, allowed)
        if gathered is None:
            return []
        candidates, lexical, signals = gathered
        dense = self._mixed_dense(signals)
        fused = self._fuse(signals, dense, candidates)
        named = signals.named
        first = np.argsort(-fused, kind="stable")
        order, fused, cross = self._rerank(query, candidates, first, fused, signals) if use else (first, fused, {})
        order = order[:k]
        first_ranks = np.empty(len(first), dtype=np.int64) if cross else None
        if first_ranks is not None:
            first_ranks[first] = np.arange(1, len(first) + 1)
        dense_ranks = _ranks(dense)
        lexical_ranks = _ranks(lexical[candidates])
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
                    named=bool(named[i]) and self._prefers_named,
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

    def doubts(self, query: str, top: Hit | None = None) -> Doubts:
        """What speaks against an answer in the library: the units the question cites that the library lacks, the
        instruments it names that the library does not hold, and its particular words that the first hit `top`
        and its document do not write (Searcher.strangers)."""
        return Doubts(
            tuple(sorted(self.unresolved(query))),
            self.unfamiliar(query),
            self.strangers(query, top) if top is not None else (),
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
        heading, body = self._terms_of(self.snapshot.row_of[hit.passage.id])  # what lexical_text reads
        document_id = hit.passage.document_id
        written = heading | body | self.names.terms(document_id) | self._common_terms(document_id)
        return tuple(word for word in found if not term_set(word) <= written)

    def warm(self) -> None:
        """Count every document's common terms now (Searcher.strangers counts a document's on first use: about
        0.1 s for a document of a thousand passages, paid by the first question whose top hit is in it)."""
        for document_id in self.snapshot.document_rows:
            self._common_terms(document_id)
        if self.fusion.method == "learned":  # and every row's terms, which the ranker's shares read
            self._terms_table()

    def _common_terms(self, document_id: str) -> frozenset[str]:
        """The terms that STRANGER_SHARE or more of a document's searchable passages write."""
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

    def candidate_features(self, query: str) -> tuple[list[Passage], NDArray[np.float64]]:
        """Every candidate passage of `query` and its ranker features (for fitting the ranker's weights)."""
        gathered = self._gather(query, self.embedder.embed_query(query), term_set(query), None)
        if gathered is None:
            return [], np.zeros((0, len(FEATURES)))
        candidates, _, signals = gathered
        return [self.snapshot.searchable[int(r)] for r in candidates], features(signals)

    def _gather(
        self, query: str, vector: NDArray[np.float32], terms: set[str], allowed: NDArray[np.int64] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32], Signals] | None:
        """The candidate rows, every row's BM25 score and the candidates' signals (None: no candidate)."""
        named, rest = self.names.find(query) if self._prefers_named else (frozenset(), query)
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
        return self._terms_table().shares(rows, terms)

    def _terms_table(self) -> TermRows:
        if self._term_rows is None:
            self._term_rows = TermRows(self._terms_of(row) for row in range(len(self.snapshot.searchable)))
        return self._term_rows

    def _terms_of(self, row: int) -> tuple[frozenset[str], frozenset[str]]:
        found = self._row_terms.get(row)
        if found is None:
            passage = self.snapshot.searchable[row]
            info = self.snapshot.documents.get(passage.document_id)
            found = (frozenset(term_set(" ".join(heading_parts(passage, info)))), frozenset(term_set(passage.text)))
            self._row_terms[row] = found
        return found

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

    def _mixed_dense(self, signals: Signals) -> NDArray[np.float32]:
        """The dense score shown and used by convex fusion: window and sentence cosines mixed as the fusion says."""
        weight = self.fusion.sentence_weight
        if not weight:
            return signals.dense
        return np.asarray((1.0 - weight) * signals.dense + weight * signals.sentence, dtype=np.float32)

    @property
    def _prefers_named(self) -> bool:
        return self.fusion.method == "learned" or self.fusion.name_boost > 0

    def _fuse(self, signals: Signals, dense: NDArray[np.float32], rows: NDArray[np.int64]) -> NDArray[np.float64]:
        method = self.fusion.method
        cite_boost = self.fusion.lookup_boost if signals.lookup else self.fusion.cite_boost
        if method == "learned":
            # on convex's scale (LinearRanker.cosine_scale), with convex's boosts: the ranker weighs a named document
            # and a cited unit itself, but without the boosts a lookup ("What does Article 33 say?"), a protocol's
            # unit and a definition lost their passage (README, "The learned ranker becomes the default")
            fused = self.ranker.score(features(signals)) / self.ranker.cosine_scale
        else:
            lexical = signals.lexical
            if method == "rrf":
                k = self.fusion.rrf_k
                lexical_part = np.where(lexical > 0, 1.0 / (k + _ranks(lexical)), 0.0)
                fused = np.asarray(1.0 / (k + _ranks(dense)) + lexical_part, dtype=np.float64)
            else:
                top = signals.lexical_top
                lexical_norm = lexical / top if top > 0 else np.zeros_like(lexical)
                w = self.fusion.dense_weight
                fused = np.asarray(w * dense + (1.0 - w) * lexical_norm, dtype=np.float64)
        boosts = self.fusion.name_boost * signals.named + cite_boost * signals.cited
        if signals.exact is not None:  # "Article 29(2)": its paragraph before the article's others
            boosts = boosts + cite_boost * signals.exact
        if signals.lookup:  # "What does Article 33 say?": the article as it reads, 33(1) before 33(2)
            boosts = boosts + _reading_order(rows, signals.cited)
        if signals.shadowed is not None:  # the cited number, but of a protocol the question did not ask about:
            # below the cited unit even where the model likes the protocol's text better (twice the boost)
            boosts = boosts - 2 * self.fusion.cite_boost * signals.shadowed
        if signals.definition is not None:  # the question asks for a definition
            boosts = boosts + self.fusion.definition_boost * signals.definition
        return np.asarray(fused + boosts, dtype=np.float64)

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


LOOKUP_WORDS = frozenset(
    term_set("say says said provide provides state states stipulate contain contains read reads text wording word")
)


def _reading_order(rows: NDArray[np.int64], cited: NDArray[np.bool_]) -> NDArray[np.float64]:
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


def _ranks(scores: NDArray[np.floating]) -> NDArray[np.int64]:
    """1-based rank of each score (highest first)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks
