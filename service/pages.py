"""HTML routes: the search page and the document views."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from .api import SearcherDep, SettingsDep, public_source
from .render import document_page, documents_page, missing_page

router = APIRouter(include_in_schema=False)


def static_dir() -> str:
    return str(resources.files("service") / "static")


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    """The search page: static HTML; /static/app.js reads the query from the URL and calls the API."""
    page = (resources.files("service") / "static" / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(page)


@router.get("/documents", response_class=HTMLResponse)
def documents(searcher: SearcherDep) -> HTMLResponse:
    snapshot = searcher.snapshot
    counts = {d: len(rows) for d, rows in snapshot.document_rows.items()}
    return HTMLResponse(documents_page(snapshot.documents.values(), counts))


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document(document_id: str, searcher: SearcherDep, settings: SettingsDep) -> HTMLResponse:
    """The whole document; an unknown id is a 404 page (HTML: a person follows these links)."""
    snapshot = searcher.snapshot
    if document_id not in snapshot.documents:
        return HTMLResponse(missing_page(document_id), status_code=404)
    document = snapshot.document(document_id)
    return HTMLResponse(document_page(document, public_source(document.info.source, settings.corpus)))
