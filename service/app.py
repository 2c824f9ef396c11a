"""The FastAPI application: created by `create_app()`, with the model and index loaded in its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from index.embedder import Embedder

from . import admin, api, errors, ops, pages
from .cores import planned
from .corpuswatcher import watch_corpus
from .engine import Engine
from .guards import BodyLimit, HeadAsGet, RateLimit, SecurityHeaders, security_headers
from .jobs import Jobs
from .pool import SearchPool
from .settings import Settings
from .telemetry import Metrics, Telemetry


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    """Build the app. Pass `embedder` to reuse an already loaded model (tests); otherwise it loads at start-up."""
    settings = settings or Settings()
    factory = (lambda: embedder) if embedder is not None else None
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logging.getLogger("pqa").setLevel(logging.INFO)
        engine = Engine(settings, factory)
        app.state.engine = engine
        engine.start(background=settings.load_in_background)
        app.state.jobs = jobs = Jobs(engine, settings, lambda result: metrics.reindex_runs.labels(result).inc())
        size = planned(settings.search_processes)
        pool = SearchPool(settings, size, settings.search_threads) if size else None
        app.state.pool = pool
        watcher = None
        try:
            if pool is not None:
                pool.start(engine)
            watcher = watch_corpus(settings, jobs) if settings.watch else None
            yield
        finally:
            if watcher is not None:
                watcher.stop()
            if pool is not None:
                await anyio.to_thread.run_sync(pool.stop)  # joins processes: not on the event loop
            engine.stop()

    app = FastAPI(
        title="protection-qa",
        summary="Ranked, cited passages from protection policy documents.",
        description=(
            "Ask a question in plain words; get back verbatim passages of real documents, ranked, each with "
            "a citation in the document's own numbering, a link to the passage and the answering sentence. "
            'Every error has one shape: `{"error": {"code": "...", "message": "..."}}`.'
        ),
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.pool = None  # the search processes, where the settings ask for them (set at start-up)
    errors.install(app, {name.decode(): value.decode() for name, value in security_headers()})
    app.include_router(api.router)
    app.include_router(api.health)
    app.include_router(admin.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.static_dir()), name="static")
    app.include_router(ops.router)
    swagger = ops.swagger_dir()
    if swagger is not None:
        app.mount("/swagger", StaticFiles(directory=str(swagger)), name="swagger")

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "authorization", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
        )
    # The last added runs first: Telemetry (request id, access log) sees every response, the CatchAll's 500s too.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.header_timeout)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit)
    app.add_middleware(HeadAsGet)
    app.add_middleware(errors.CatchAll, log_queries=settings.log_queries)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Telemetry, metrics=metrics, log_queries=settings.log_queries)
    return app
