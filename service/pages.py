"""HTML routes: the search page and the document views."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from .api import SearcherDep
from .errors import ApiError
from .render import document_page, documents_page

router = APIRouter(include_in_schema=False)


def static_dir() -> str:
    return str(resources.files("service") / "static")


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    page = (resources.files("service") / "static" / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(page)


@router.get("/documents", response_class=HTMLResponse)
def documents(searcher: SearcherDep) -> HTMLResponse:
    snapshot = searcher.snapshot
    counts = {d: len(rows) for d, rows in snapshot.document_rows.items()}
    return HTMLResponse(documents_page(snapshot.documents.values(), counts))


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document(document_id: str, searcher: SearcherDep) -> HTMLResponse:
    snapshot = searcher.snapshot
    if document_id not in snapshot.documents:
        raise ApiError(404, "not_found", f"no document {document_id!r}; see /documents for the list")
    return HTMLResponse(document_page(snapshot.document(document_id)))
