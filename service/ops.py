"""Operator routes: Prometheus metrics and the offline API docs (Swagger UI served from the installed package)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from .counts import Counts
from .engine import Engine
from .pool import SearchPool
from .telemetry import Metrics

router = APIRouter(include_in_schema=False)


def swagger_dir() -> Path | None:
    """Swagger UI's files from the `swagger-ui-bundle` package (no CDN: the service may have no internet)."""
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(str(swagger_ui_bundle.swagger_ui_path))


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Request counts and latency per route and status, the served generation and its size, re-index runs,
    how many questions were embedded in how many batches, the runtime, the question cache's hits and misses, the
    reranker's questions, passages and time where one is loaded, and the search processes where they run (the
    counts of the model, the cache and the reranker are theirs and this process's together)."""
    registry: Metrics = request.app.state.metrics
    engine: Engine = request.app.state.engine
    status = engine.status()
    registry.observe_index(status.generation, status.passages, status.state == "ready", engine.swaps)
    pool: SearchPool | None = request.app.state.pool
    # this process's counts and its search processes' (service/pool.py) together: one service
    counts = Counts.of(engine) + (pool.counts() if pool is not None else Counts())
    if engine.embedder is not None:
        embedder = engine.embedder
        registry.observe_embedding(counts.batches, counts.questions)
        registry.observe_model(
            embedder.name, embedder.runtime, counts.cache_hits, counts.cache_misses, counts.cache_entries
        )
    if (reranker := engine.reranker) is not None:
        registry.observe_reranker(
            reranker.name,
            reranker.runtime,
            status.rerank,
            counts.rerank_calls,
            counts.rerank_pairs,
            counts.rerank_seconds,
        )
    if pool is not None:
        registry.observe_pool(pool.size, pool.ready(), pool.answered, pool.declined, pool.restarts)
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>protection-qa API</title>
<link rel="stylesheet" href="/swagger/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/swagger/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""


@router.get("/docs")
def docs() -> HTMLResponse:
    """The OpenAPI schema in Swagger UI, all files served from this host."""
    if swagger_dir() is None:
        return HTMLResponse(
            "<p>Swagger UI is not installed (pip install swagger-ui-bundle); the schema is at /openapi.json</p>",
            status_code=501,
        )
    return HTMLResponse(DOCS_PAGE)
