"""One place that maps domain errors to HTTP status codes and one JSON error shape, 500s included.

Every error body is `{"error": {"code": ..., "message": ...}}`. A message may quote what the client
sent (an unknown document id, a field name); text that is not valid Unicode is written escaped.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import BadQuery, IndexIncompatible, IndexNotFound, SearchIndexError, UnknownDocument
from index.unicode import printable

from .answer import refusal
from .engine import NotReady
from .telemetry import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("pqa.errors")


class ApiError(Exception):
    """An error raised by a route with its status, code and message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


INTERNAL = "internal_error"
JSON_EXAMPLE = '{"question": "How does IOM define protection?", "k": 3}'
# The 400 of a POST /api/ask body that cannot be read as JSON (empty, malformed, or not UTF-8), and what to send.
INVALID_JSON = "invalid_json"
SEND_JSON = f"send e.g. {JSON_EXAMPLE} with Content-Type: application/json"
# Retry-After, in seconds, of the 503s while the service loads and while it has no index (the document views' too).
RETRY_NOT_READY, RETRY_NO_INDEX = "2", "5"


def error_body(code: str, message: str) -> bytes:
    """The error shape as bytes, written as error_response's JSONResponse writes it (compact, UTF-8)."""
    error = {"code": code, "message": printable(message)}
    return json.dumps({"error": error}, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": printable(message)}}, status_code=status, headers=headers)


async def send_error(
    send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer an ASGI request with the JSON error shape (for middleware, which runs outside the routes)."""
    body = error_body(code, message)
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def internal_message(request_id: str) -> str:
    return f"the server failed to answer this request (id {request_id}); try again, and report the id if it persists"


def log_failure(exc: BaseException, request_id: str, log_queries: bool) -> None:
    """The traceback with the request id. The exception's message may quote the question: only with PQA_LOG_QUERIES."""
    if log_queries:
        log.error("request %s failed", request_id, exc_info=exc)
        return
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "request %s failed: %s (its message is not logged unless PQA_LOG_QUERIES=1)\n"
        "Traceback (most recent call last):\n%s",
        request_id,
        type(exc).__qualname__,
        frames.rstrip(),
    )


class CatchAll:
    """ASGI middleware: an exception that escapes a route becomes a JSON 500 and one logged traceback.

    It sits inside Telemetry and SecurityHeaders, so the 500 carries the request id and the security
    headers, and the connection stays open for the client's next request. An exception after the
    response started cannot be answered: it goes on to the server, which closes the connection.
    """

    def __init__(self, app: ASGIApp, log_queries: bool = False) -> None:
        self.app, self.log_queries = app, log_queries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            request_id = str(scope.get("state", {}).get("request_id", "-"))
            log_failure(exc, request_id, self.log_queries)
            if started:
                raise
            await send_error(send, 500, INTERNAL, internal_message(request_id))


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors:
        location = [str(x) for x in error.get("loc", ()) if x not in ("query", "body")]
        where = ".".join(location) or "request"
        hint = " (send true or false)" if str(error.get("type", "")).startswith("bool") else ""
        parts.append(f"{where}: {error.get('msg')}{hint}")
    return "; ".join(parts) or "the request is not valid"


def _unreadable_body(errors: list[dict[str, Any]]) -> str | None:
    """What is wrong with a body that is no JSON at all (malformed, or empty), or None where it is JSON."""
    for error in errors:
        location = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            at = f" at character {location[1]}" if len(location) > 1 else ""
            return f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'JSON decode error')}{at})"
        if error.get("type") == "missing" and location == ("body",):
            return "the body is empty"
    return None


def index_error_code(exc: SearchIndexError) -> str:
    """The error code of an index that cannot answer (a 503 over HTTP; `pqa ask --json` prints the same body)."""
    if isinstance(exc, IndexNotFound):
        return "index_not_found"
    return "index_incompatible" if isinstance(exc, IndexIncompatible) else "index_error"


def install(app: FastAPI, security_headers: dict[str, str]) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        unreadable = _unreadable_body(list(exc.errors()))
        if unreadable is not None:
            return error_response(400, INVALID_JSON, f"{unreadable}; {SEND_JSON}")
        return error_response(422, "invalid_request", _describe(list(exc.errors())))

    @app.exception_handler(BadQuery)  # InvalidQuestion too
    @app.exception_handler(UnknownDocument)
    async def _refused(_: Request, exc: BadQuery | UnknownDocument) -> JSONResponse:
        status, code = refusal(exc)
        return error_response(status, code, str(exc))

    @app.exception_handler(IndexNotFound)
    async def _no_index(_: Request, exc: IndexNotFound) -> JSONResponse:
        return error_response(503, index_error_code(exc), str(exc), {"Retry-After": RETRY_NO_INDEX})

    @app.exception_handler(NotReady)
    async def _not_ready(_: Request, exc: NotReady) -> JSONResponse:
        return error_response(503, "not_ready", str(exc), {"Retry-After": RETRY_NOT_READY})

    @app.exception_handler(IndexIncompatible)
    async def _incompatible(_: Request, exc: IndexIncompatible) -> JSONResponse:
        return error_response(503, index_error_code(exc), str(exc))

    @app.exception_handler(SearchIndexError)
    async def _index_error(_: Request, exc: SearchIndexError) -> JSONResponse:
        log.error("index error: %s", exc)
        return error_response(503, index_error_code(exc), str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such page or endpoint; the API is under /api (see /docs)"
        elif exc.status_code == 405 and message == "Method Not Allowed":
            allowed = (getattr(exc, "headers", None) or {}).get("Allow")
            message = f"this endpoint does not take that method; it takes {allowed or 'another'} (see /docs)"
        elif exc.status_code == 400 and message == "There was an error parsing the body":
            code, message = INVALID_JSON, f"the body is not JSON in UTF-8 (or a number in it is too long); {SEND_JSON}"
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    # The last resort, for an exception outside CatchAll (in the outer middleware): Starlette answers
    # with this and then re-raises, and the server closes the connection, so the response says so.
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = str(getattr(request.state, "request_id", "-"))
        log_failure(exc, request_id, request.app.state.settings.log_queries)
        headers = {**security_headers, "Connection": "close", "X-Request-ID": request_id}
        return error_response(500, INTERNAL, internal_message(request_id), headers)
