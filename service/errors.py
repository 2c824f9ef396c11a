"""One place that maps domain errors to HTTP status codes and one JSON error shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import BadQuery, IndexIncompatible, IndexNotFound, SearchIndexError, UnknownDocument

from .engine import NotReady

log = logging.getLogger("pqa.errors")


class ApiError(Exception):
    """An error raised by a route with its status, code and message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors:
        location = [str(x) for x in error.get("loc", ()) if x not in ("query", "body")]
        where = ".".join(location) or "request"
        parts.append(f"{where}: {error.get('msg')}")
    return "; ".join(parts) or "the request is not valid"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", _describe(list(exc.errors())))

    @app.exception_handler(BadQuery)
    async def _bad_query(_: Request, exc: BadQuery) -> JSONResponse:
        return error_response(422, "invalid_query", str(exc))

    @app.exception_handler(UnknownDocument)
    async def _unknown_document(_: Request, exc: UnknownDocument) -> JSONResponse:
        return error_response(404, "unknown_document", str(exc))

    @app.exception_handler(IndexNotFound)
    async def _no_index(_: Request, exc: IndexNotFound) -> JSONResponse:
        return error_response(503, "index_not_found", str(exc), {"Retry-After": "5"})

    @app.exception_handler(NotReady)
    async def _not_ready(_: Request, exc: NotReady) -> JSONResponse:
        return error_response(503, "not_ready", str(exc), {"Retry-After": "2"})

    @app.exception_handler(IndexIncompatible)
    async def _incompatible(_: Request, exc: IndexIncompatible) -> JSONResponse:
        return error_response(503, "index_incompatible", str(exc))

    @app.exception_handler(SearchIndexError)
    async def _index_error(_: Request, exc: SearchIndexError) -> JSONResponse:
        log.error("index error: %s", exc)
        return error_response(503, "index_error", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such page or endpoint; the API is under /api (see /docs)"
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))
