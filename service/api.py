"""JSON routes: search (GET and POST, one response shape), documents, health and readiness."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from index.search import Searcher

from .answer import InvalidQuestion, QuestionLimits, answer, filters_of
from .documentschemas import DocumentOut, DocumentsResponse
from .engine import Engine
from .errors import JSON_EXAMPLE, ApiError
from .pool import SearchPool
from .schemas import (
    KIND_HELP,
    QUESTION_SCHEMA,
    RERANK_HELP,
    SEARCHED_KINDS,
    AskRequest,
    ErrorResponse,
    IndexInfo,
    Readiness,
    SearchProcesses,
    SearchResponse,
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
    409: {"model": ErrorResponse, "description": "`rerank=true` where the service runs without the reranker."},
    413: {"model": ErrorResponse, "description": "The request body is over PQA_MAX_BODY_BYTES."},
    422: {"model": ErrorResponse, "description": "The question or a parameter is not valid; the message says which."},
    429: {"model": ErrorResponse, "description": "Over PQA_RATE_LIMIT requests a minute; see Retry-After."},
    503: {"model": ErrorResponse, "description": "No index yet (the message gives the command) or still loading."},
}

router = APIRouter(prefix="/api", tags=["search"])
# Documented in the schema; checked in answer() so the 422 names the limit in words (and follows the settings).
# QUESTION_SCHEMA (service/schemas.py) likewise.
K_SCHEMA: dict[str, Any] = {"minimum": 1, "maximum": 50}


def _sent_as_utf8(request: Request) -> None:
    """Starlette turns a query string's invalid UTF-8 into U+FFFD; a question is searched only as it was sent."""
    raw = request.scope.get("query_string", b"")
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidQuestion(
            "invalid_query",
            f"the query string is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at {exc.start} once "
            "decoded); percent-encode the question's UTF-8 bytes, as a browser or curl --data-urlencode does",
        ) from None


@router.get("/search", response_model=SearchResponse, responses=ERRORS)
def search(
    request: Request,
    searcher: SearcherDep,
    settings: SettingsDep,
    q: Annotated[
        str,
        Query(
            description="The question (1 to 1,000 characters, with a letter or digit).",
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
        Query(description=f"{KIND_HELP} Repeatable.", json_schema_extra={"items": {"enum": list(SEARCHED_KINDS)}}),
    ] = None,
    rerank: Annotated[bool | None, Query(description=RERANK_HELP)] = None,
) -> SearchResponse | Response:
    """Ranked passages that answer `q`, each with its citation and highlighted sentence."""
    _sent_as_utf8(request)
    request.state.question = q
    return _answered(request, searcher, settings, q, k, document, kind, rerank)


async def sent_as_json(request: Request) -> None:
    """415 for a body not declared as JSON, saying what to send.

    FastAPI parses a body as JSON only when its Content-Type says so; any other, such as curl -d's
    application/x-www-form-urlencoded, or none, reaches the model as bytes and would get a 422 about a "dictionary".
    """
    declared = request.headers.get("content-type")
    if not declared and not await request.body():
        return  # no body at all: the 400 of an empty body (service/errors.py) says what to send
    media = (declared or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return
    sent = f"as {media[:100]}" if media else "without a Content-Type"
    raise ApiError(
        415,
        "unsupported_media_type",
        f"the body is sent {sent}, not as JSON; send e.g. {JSON_EXAMPLE} with Content-Type: application/json "
        "(curl: -H 'Content-Type: application/json')",
    )


ASK_ERRORS: dict[int | str, dict[str, object]] = {
    400: {
        "model": ErrorResponse,
        "description": "The body is empty, or not valid JSON in UTF-8 (`invalid_json`); the message says what to send.",
    },
    **ERRORS,
    408: {"model": ErrorResponse, "description": "The body did not arrive within PQA_HEADER_TIMEOUT seconds."},
    415: {"model": ErrorResponse, "description": "The body is not declared JSON (Content-Type: application/json)."},
}


@router.post("/ask", response_model=SearchResponse, responses=ASK_ERRORS, dependencies=[Depends(sent_as_json)])
def ask(request: Request, searcher: SearcherDep, settings: SettingsDep, body: AskRequest) -> SearchResponse | Response:
    """The same as GET /api/search, with the question in a JSON body."""
    request.state.question = body.question
    return _answered(request, searcher, settings, body.question, body.k, body.document, body.kind, body.rerank)


def _answered(
    request: Request,
    searcher: Searcher,
    settings: Settings,
    question: str,
    k: int | None,
    documents: list[str] | None,
    kinds: list[str] | None,
    rerank: bool | None,
) -> SearchResponse | Response:
    """The answer from a search process where the service runs them (service/pool.py), from the generation this
    process serves, else (none ready, or one could not answer) from this process, errors included."""
    limits = QuestionLimits.of(settings)
    pool: SearchPool | None = request.app.state.pool
    if pool is None:
        return answer(searcher, question, limits, k, documents, kinds, rerank)
    with pool.alone() as alone:
        if not (alone and settings.search_alone_here):
            limits.check(question, k)  # an invalid question's 422 is this process's to write
            filters_of(documents, kinds)  # and an empty filter's 404 or 422
            written = pool.answer(searcher.snapshot.generation, question, k, documents, kinds, rerank)
            if written is not None:
                return Response(written, media_type="application/json")
        return answer(searcher, question, limits, k, documents, kinds, rerank)


def public_source(source: str, corpus: Sequence[Path]) -> str:
    """`source` relative to the corpus path it lies under; else its file name. Never a path on the server."""
    path = Path(source)
    for root in corpus:
        for candidate, base in ((path, root), (path.absolute(), root.absolute())):
            if candidate.is_relative_to(base) and candidate != base:
                return str(candidate.relative_to(base))
    return path.name


@router.get(
    "/documents", response_model=DocumentsResponse, responses={429: ERRORS[429], 503: ERRORS[503]}, tags=["documents"]
)
def documents(searcher: SearcherDep, settings: SettingsDep) -> DocumentsResponse:
    """Every indexed document with its version, passage count and when it was indexed."""
    snapshot = searcher.snapshot
    listed = snapshot.manifest.documents
    out = []
    for info in snapshot.documents.values():
        entry = listed.get(info.id)
        given = {
            "version": info.sha256,
            "source": public_source(info.source, settings.corpus),
            "set_aside": dict(entry.set_aside) if entry and entry.set_aside else snapshot.document(info.id).set_aside(),
            "passages": len(snapshot.document_rows.get(info.id, ())),
            "indexed_at": entry.indexed_at if entry else None,
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


READY_503 = {"model": Readiness, "description": "Still loading, no index, or it failed to load: `message` says why."}


@health.get("/readyz", response_model=Readiness, responses={503: READY_503})
async def readyz(request: Request, engine: EngineDep) -> JSONResponse:
    """200 once the model and an index generation are loaded, 503 before."""
    status = engine.status()
    pool: SearchPool | None = request.app.state.pool
    fields = asdict(status)
    body = Readiness(
        status=fields.pop("state"),  # the engine's Status, field for field, with its state named as /readyz says it
        **fields,
        search_processes=SearchProcesses.model_validate(pool.describe()) if pool is not None else None,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if status.state == "ready" else 503)
