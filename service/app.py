"""The FastAPI application: created by `create_app()`, with the model and index loaded in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from index.embedder import Embedder

from . import admin, api, errors, pages
from .engine import Engine
from .jobs import Jobs
from .settings import Settings
from .watch import watch_corpus

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    """Build the app. Pass `embedder` to reuse an already loaded model (tests); otherwise it loads at start-up."""
    settings = settings or Settings()
    factory = (lambda: embedder) if embedder is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = Engine(settings, factory)
        app.state.engine = engine
        engine.start(background=settings.load_in_background)
        app.state.jobs = jobs = Jobs(engine, settings)
        watcher = watch_corpus(settings, jobs) if settings.watch else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop()
            engine.stop()

    app = FastAPI(
        title="protection-qa",
        summary="Ranked, cited passages from protection policy documents.",
        description=(
            "Ask a question in plain words; get back verbatim passages of real documents, ranked, each with "
            "a citation in the document's own numbering, a link to the passage and the answering sentence."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    errors.install(app)
    app.include_router(api.router)
    app.include_router(api.health)
    app.include_router(admin.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.static_dir()), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return app
