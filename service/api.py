"""JSON routes: search (GET and POST, one response shape), documents, health and readiness."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from index.confidence import assess, load_calibration
from index.records import KINDS
from index.search import Filters, Searcher

from .engine import Engine
from .errors import ApiError
from .schemas import (
    AskRequest,
    DocumentOut,
    DocumentsResponse,
    ErrorResponse,
    IndexInfo,
    SearchResponse,
    passage_out,
)
from .settings import Settings


# The dependencies and the health routes are `async def`: they never block, and FastAPI would run a
# plain `def` dependency in the thread pool, one hop per dependency per request (about 1 ms each on 2
# busy cores). The search itself stays `def`: it runs in the pool, where concurrent questions batch.
async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_searcher(engine: Annotated[Engine, Depends(get_engine)]) -> Searcher:
    return engine.searcher()


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SearcherDep = Annotated[Searcher, Depends(get_searcher)]

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "A `document` filter names a document that is not indexed."},
    413: {"model": ErrorResponse, "description": "The request body is over PQA_MAX_BODY_BYTES."},
    422: {"model": ErrorResponse, "description": "The question or a parameter is not valid; the message says which."},
    429: {"model": ErrorResponse, "description": "Over PQA_RATE_LIMIT requests a minute; see Retry-After."},
    503: {"model": ErrorResponse, "description": "No index yet (the message gives the command) or still loading."},
}

router = APIRouter(prefix="/api", tags=["search"])
# Documented in the schema; checked in _run so the 422 names the limit in words (and follows the settings).
QUESTION_SCHEMA: dict[str, Any] = {"minLength": 1, "maxLength": 1000, "pattern": r"\S"}
K_SCHEMA: dict[str, Any] = {"minimum": 1, "maximum": 50}


def _run(
    searcher: Searcher,
    settings: Settings,
    question: str,
    k: int | None,
    documents: list[str] | None,
    kinds: list[str] | None,
) -> SearchResponse:
    started = time.perf_counter()
    question = question.strip()
    if not question:
        raise ApiError(
            422, "invalid_query", "the question is empty; type a question, e.g. 'How does IOM define protection?'"
        )
    if len(question) > settings.max_query_chars:
        raise ApiError(
            422,
            "invalid_query",
            f"the question is {len(question)} characters long; the limit is {settings.max_query_chars}",
        )
    k = settings.default_k if k is None else k
    if not 1 <= k <= settings.max_k:
        raise ApiError(422, "invalid_k", f"k must be between 1 and {settings.max_k}, got {k}")
    # empty values ("&document=" from a form's "all documents") mean no filter
    documents = [d for d in documents or () if d]
    kinds = [k for k in kinds or () if k]
    filters = Filters(
        documents=frozenset(documents) if documents else None,
        kinds=frozenset(kinds) if kinds else None,
    )
    hits = searcher.search(question, k=k, filters=filters)
    assessment = assess(question, hits, load_calibration(), bool(searcher.unresolved(question)))
    snapshot = searcher.snapshot
    return SearchResponse(
        query=question,
        passages=[passage_out(h) for h in hits],
        took_ms=round((time.perf_counter() - started) * 1000, 3),
        index=IndexInfo(generation=snapshot.generation, passages=len(snapshot.searchable)),
        not_in_corpus=assessment.not_in_corpus,
        confidence=assessment.confidence,
    )


@router.get("/search", response_model=SearchResponse, responses=ERRORS)
def search(
    request: Request,
    searcher: SearcherDep,
    settings: SettingsDep,
    q: Annotated[
        str,
        Query(
            description="The question (1 to 1,000 characters, not only spaces).",
            examples=["How does IOM define protection?"],
            json_schema_extra=QUESTION_SCHEMA,
        ),
    ],
    k: Annotated[
        int | None, Query(description="Passages to return, 1 to 50 (default 5).", json_schema_extra=K_SCHEMA)
    ] = None,
    document: Annotated[list[str] | None, Query(description="Only these document ids (repeatable).")] = None,
    kind: Annotated[
        list[str] | None,
        Query(description="Only these kinds (repeatable).", json_schema_extra={"items": {"enum": list(KINDS)}}),
    ] = None,
) -> SearchResponse:
    """Ranked passages that answer `q`, each with its citation and highlighted sentence."""
    request.state.question = q
    return _run(searcher, settings, q, k, document, kind)


@router.post("/ask", response_model=SearchResponse, responses=ERRORS)
def ask(request: Request, searcher: SearcherDep, settings: SettingsDep, body: AskRequest) -> SearchResponse:
    """The same as GET /api/search, with the question in a JSON body."""
    request.state.question = body.question
    return _run(searcher, settings, body.question, body.k, body.document, body.kind)


def public_source(source: str, corpus: Sequence[Path]) -> str:
    """`source` relative to the corpus path it lies under; else its file name. Never a path on the server."""
    path = Path(source)
    for root in corpus:
        for candidate, base in ((path, root), (path.absolute(), root.absolute())):
            if candidate.is_relative_to(base) and candidate != base:
                return str(candidate.relative_to(base))
    return path.name


@router.get("/documents", response_model=DocumentsResponse, responses={503: ERRORS[503]}, tags=["documents"])
def documents(searcher: SearcherDep, settings: SettingsDep) -> DocumentsResponse:
    """Every indexed document with its version, passage count and when it was indexed."""
    snapshot = searcher.snapshot
    listed = snapshot.manifest.get("documents", {})
    out = []
    for info in snapshot.documents.values():
        entry = listed.get(info.id, {})
        given = {
            "version": info.sha256,
            "source": public_source(info.source, settings.corpus),
            "set_aside": entry.get("set_aside") or snapshot.document(info.id).set_aside(),
            "passages": len(snapshot.document_rows.get(info.id, ())),
            "indexed_at": entry.get("indexed_at"),
            "url": f"/documents/{info.id}",
        }
        out.append(DocumentOut.model_validate({**asdict(info), **given}))
    return DocumentsResponse(
        documents=out, index=IndexInfo(generation=snapshot.generation, passages=len(snapshot.searchable))
    )


health = APIRouter(tags=["health"])


@health.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive (the process answers)."""
    return {"status": "ok"}


@health.get("/readyz", responses={503: {"description": "Still loading, or no index."}})
async def readyz(engine: EngineDep) -> JSONResponse:
    """200 once the model and an index generation are loaded, 503 before."""
    status = engine.status()
    body = {
        "status": status.state,
        "generation": status.generation,
        "passages": status.passages,
        "runtime": status.runtime,
        "runtime_reason": status.runtime_reason,
        "message": status.message,
    }
    return JSONResponse(body, status_code=200 if status.state == "ready" else 503)
