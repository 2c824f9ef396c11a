"""Answer one question: check it against the limits, search, and judge whether the corpus answers it.

The one way a question is answered: `POST /api/ask`, `GET /api/search` and `pqa ask` all call
`answer()`, so they check the same things, say the same thing when a question is not valid, and
return the same record (the HTTP response model; `pqa ask --json` prints its JSON body).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.confidence import assess, load_calibration
from index.doubts import Doubts
from index.errors import BadQuery, RerankerOff, UnknownDocument
from index.records import KINDS
from index.references import PROTOCOL
from index.search import Filters, Searcher
from index.unicode import unicode_problem

from .schemas import SEARCHED_KINDS, IndexInfo, SearchResponse, passage_out

if TYPE_CHECKING:
    from .settings import Settings


class InvalidQuestion(BadQuery):
    """The question or k is over a limit of the service (HTTP 422, `pqa ask` exit 2); `code` is the error's code.
    A limit's message names the setting that sets it, as the 413, 429 and 408 do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def refusal(exc: BadQuery | UnknownDocument) -> tuple[int, str]:
    """The HTTP status and error code of a question that cannot be answered as asked (`pqa ask` exits 2)."""
    if isinstance(exc, UnknownDocument):
        return 404, "unknown_document"
    if isinstance(exc, RerankerOff):
        return 409, "reranker_off"
    return 422, exc.code if isinstance(exc, InvalidQuestion) else "invalid_query"


@dataclass(frozen=True)
class QuestionLimits:
    """How long a question may be, and how many passages may be asked for (PQA_MAX_QUERY_CHARS, ...)."""

    max_query_chars: int
    max_k: int
    default_k: int

    @classmethod
    def of(cls, settings: Settings) -> QuestionLimits:
        return cls(settings.max_query_chars, settings.max_k, settings.default_k)

    def check(self, question: str, k: int | None) -> tuple[str, int]:
        """The question stripped and k (the default when None); raises InvalidQuestion saying which limit."""
        question = question.strip()
        if not question:
            raise InvalidQuestion(
                "invalid_query", "the question is empty; type a question, e.g. 'How does IOM define protection?'"
            )
        if len(question) > self.max_query_chars:
            raise InvalidQuestion(
                "invalid_query",
                f"the question is {len(question)} characters long; the limit is {self.max_query_chars} "
                "(PQA_MAX_QUERY_CHARS)",
            )
        # only punctuation, symbols, control or invisible characters (text with a lone surrogate gets the
        # Searcher's "not valid Unicode" instead, which says what to fix)
        if not any(c.isalnum() for c in question) and unicode_problem(question) is None:
            raise InvalidQuestion(
                "invalid_query",
                "the question has no letter or digit, so no word to search for; type a question in words, "
                "e.g. 'How does IOM define protection?'",
            )
        k = self.default_k if k is None else k
        if not 1 <= k <= self.max_k:
            raise InvalidQuestion("invalid_k", f"k must be between 1 and {self.max_k}, got {k} (PQA_MAX_K)")
        return question, k


def filters_of(documents: Sequence[str] | None, kinds: Sequence[str] | None) -> Filters:
    """Filters from repeatable parameters (none given: every document, every kind).

    An empty value ("&document=") names nothing, so it is refused as an unknown document (404) or kind (422),
    not read as "all": a filter the client meant to set is never dropped in silence.
    """
    if any(not d for d in documents or ()):
        raise UnknownDocument(
            "a document filter is empty; name an indexed document (GET /api/documents lists them), "
            "or leave the filter out to search every document"
        )
    searched(kinds)
    return Filters(
        documents=frozenset(documents) if documents else None,
        kinds=frozenset(kinds) if kinds else None,
    )


def answer(
    searcher: Searcher,
    question: str,
    limits: QuestionLimits,
    k: int | None = None,
    documents: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    rerank: bool | None = None,
) -> SearchResponse:
    """The ranked, cited passages for `question`, with the confidence that the first answers it.

    `not_in_corpus` is decided here, next to the search. Raises InvalidQuestion, and the Searcher's
    BadQuery and UnknownDocument, for the caller to map (HTTP status, exit code).
    """
    started = time.perf_counter()
    question, k = limits.check(question, k)
    hits = searcher.search(question, k=k, filters=filters_of(documents, kinds), rerank=rerank)
    found = searcher.doubts(question, hits[0] if hits else None)
    assessment = assess(question, hits, load_calibration(), *found.flags())
    snapshot = searcher.snapshot
    return SearchResponse(
        query=question,
        passages=[passage_out(h) for h in hits],
        took_ms=round((time.perf_counter() - started) * 1000, 3),
        index=IndexInfo(generation=snapshot.generation, passages=len(snapshot.searchable)),
        not_in_corpus=assessment.not_in_corpus,
        confidence=assessment.confidence,
        doubts=in_words(found),
        reranked=any(h.cross_score is not None for h in hits),
    )


def in_words(doubts: Doubts) -> list[str]:
    """What speaks against an answer in the corpus, in words, in the order index/confidence.py takes it."""
    units = ", ".join(
        f"Protocol No. {number}" if kind == PROTOCOL else f"{kind.capitalize()} {number}"
        for kind, number in doubts.unresolved
    )
    said = [
        f"it cites {units}, which the corpus does not have" if units else "",
        f"it names {', '.join(doubts.unfamiliar)}, which no document is and none writes" if doubts.unfamiliar else "",
        f"it names {', '.join(doubts.strangers)}, which the first passage and its document never write"
        if doubts.strangers
        else "",
    ]
    return [s for s in said if s]


def body(response: SearchResponse) -> str:
    """The response's JSON exactly as the HTTP route writes it (FastAPI's JSONResponse: compact, UTF-8)."""
    return json.dumps(
        response.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    )


def searched(kinds: Sequence[str] | None) -> None:
    """422 for a kind filter that could only find nothing: an empty one, a kind that does not exist, or one whose
    passages are never searched."""
    expected = ", ".join(SEARCHED_KINDS)
    for kind in kinds or ():
        if kind in SEARCHED_KINDS:
            continue
        if not kind:
            raise InvalidQuestion(
                "invalid_query",
                f"a kind filter is empty; expected one of {expected}, or leave the filter out to search every kind",
            )
        if kind not in KINDS:
            raise InvalidQuestion("invalid_query", f"unknown kind {kind!r}; expected one of {expected}")
        why = (
            "headings are not searched as passages of their own (their words are searched with the passages under them)"
            if kind == "heading"
            else f"{kind} passages are set aside and not searched (they are kept for the document view only)"
        )
        raise InvalidQuestion(
            "invalid_query", f"kind {kind!r} is never searched: {why}; expected one of {expected}, or no kind filter"
        )
