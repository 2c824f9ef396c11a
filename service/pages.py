"""HTML routes: the search page and the document views."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from index.errors import IndexNotFound
from index.search import Searcher

from .api import EngineDep, SettingsDep, public_source
from .engine import Engine, NotReady
from .errors import RETRY_NO_INDEX, RETRY_NOT_READY
from .render import document_page, documents_page, missing_page, unavailable_page

router = APIRouter(include_in_schema=False)


def static_dir() -> str:
    return str(resources.files("service") / "static")


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    """The search page: static HTML; /static/app.js reads the query from the URL and calls the API."""
    page = (resources.files("service") / "static" / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(page)


# The site's icon, a page on a blue square: in the code, not a file, so every install of the package has it.
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0a4f96"/>'
    '<path d="M4 4h8v1.5H4zm0 3.25h8v1.5H4zm0 3.25h5v1.5H4z" fill="#fff"/></svg>'
)


@router.get("/favicon.svg")
@router.get("/favicon.ico")  # for clients that ask for it without reading the pages' <link rel="icon">
def favicon() -> Response:
    return Response(ICON, media_type="image/svg+xml")


def unavailable(engine: Engine, exc: NotReady | IndexNotFound) -> HTMLResponse:
    """A 503 page (HTML: a person follows these links) while the service loads or has no index, with the API's
    message and its Retry-After; it reloads itself, soon where the service is loading."""
    loading = engine.status().state in ("starting", "loading")
    if isinstance(exc, IndexNotFound):
        heading, retry = "No index yet", RETRY_NO_INDEX
    else:
        heading, retry = ("The service is starting" if loading else "The index is not available"), RETRY_NOT_READY
    page = unavailable_page(heading, str(exc), refresh=3 if loading else 10)
    return HTMLResponse(page, status_code=503, headers={"Retry-After": retry})


def serving(engine: Engine) -> Searcher | HTMLResponse:
    """The Searcher for a page, or the page that says why there is none yet."""
    try:
        return engine.searcher()
    except (NotReady, IndexNotFound) as exc:
        return unavailable(engine, exc)


@router.get("/documents", response_class=HTMLResponse)
def documents(engine: EngineDep) -> HTMLResponse:
    searcher = serving(engine)
    if isinstance(searcher, HTMLResponse):
        return searcher
    snapshot = searcher.snapshot
    counts = {d: len(rows) for d, rows in snapshot.document_rows.items()}
    return HTMLResponse(documents_page(snapshot.documents.values(), counts))


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document(document_id: str, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """The whole document; an unknown id is a 404 page (HTML: a person follows these links)."""
    searcher = serving(engine)
    if isinstance(searcher, HTMLResponse):
        return searcher
    snapshot = searcher.snapshot
    if document_id not in snapshot.documents:
        return HTMLResponse(missing_page(document_id), status_code=404)
    document = snapshot.document(document_id)
    return HTMLResponse(document_page(document, public_source(document.info.source, settings.corpus)))
