"""Limits that protect the service: request body size and time, requests per client per minute, security headers.

Each answers with the one JSON error shape and names the limit and its setting. Health, readiness,
metrics and static files are never rate-limited.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict

from .errors import send_error
from .telemetry import ASGIApp, Message, Receive, Scope, Send, client_of

EXEMPT = ("/healthz", "/readyz", "/metrics", "/static/")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Swagger UI styles some elements inline; scripts stay same-origin files only.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
CLOSE = [(b"connection", b"close")]


def security_headers(path: str = "/") -> list[tuple[bytes, bytes]]:
    """The headers every response carries: a CSP without inline scripts, nosniff, no referrer."""
    csp = DOCS_CSP if path.startswith(("/docs", "/swagger")) else CSP
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope.get("headers", []) if key == name), None)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """413 for a request body over `max_bytes`, 408 for one that takes over `timeout` seconds to arrive.

    A body is read whole before the route runs (the limit is kilobytes): a chunked body over the
    limit gets its 413 here, not a parse error from the route's body parser, and a client that
    trickles its body in cannot hold the request open. The refusals close the connection, since
    the rest of the body was not read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 10.0) -> None:
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _header(scope, b"content-length") if scope["type"] == "http" else None
        chunked = scope["type"] == "http" and _header(scope, b"transfer-encoding") is not None
        if not chunked and declared in (None, b"0"):
            await self.app(scope, receive, send)  # no body: nothing to read or limit
            return
        too_large = (
            f"the request body is larger than {self.max_bytes} bytes (PQA_MAX_BODY_BYTES); send a shorter question"
        )
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, 413, "body_too_large", too_large, CLOSE)
            return
        try:
            body = await asyncio.wait_for(self._read(receive), self.timeout)
        except BodyTooLarge:
            await send_error(send, 413, "body_too_large", too_large, CLOSE)
            return
        except TimeoutError:
            message = f"the request body did not arrive within {self.timeout:g} s (PQA_HEADER_TIMEOUT); send it at once"
            await send_error(send, 408, "request_timeout", message, CLOSE)
            return
        if body is None:
            return  # the client went away
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class RateLimit:
    """At most `per_minute` requests per client address in any sliding minute (0 turns the limit off).

    The key is the connection's peer address (a trusted proxy's X-Forwarded-For, when the server is
    told to believe one), cut to a bounded length, and at most `max_clients` keys are kept.
    """

    def __init__(self, app: ASGIApp, per_minute: int, max_clients: int = 10_000) -> None:
        self.app, self.per_minute, self.max_clients = app, per_minute, max_clients
        self._hits: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.per_minute <= 0 or str(scope.get("path", "")).startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        client = client_of(scope)
        wait = self._admit(client, time.monotonic())
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            await send_error(
                send,
                429,
                "rate_limited",
                f"more than {self.per_minute} requests in a minute from {client} (PQA_RATE_LIMIT); retry in {retry} s",
                [(b"retry-after", retry.encode())],
            )
            return
        await self.app(scope, receive, send)

    def _admit(self, client: str, now: float) -> float:
        """0 if the request may go on, else the seconds until it may."""
        with self._lock:
            hits = [t for t in self._hits.pop(client, []) if now - t < 60.0]
            self._hits[client] = hits
            while len(self._hits) > self.max_clients:
                self._hits.popitem(last=False)
            if len(hits) >= self.per_minute:
                return 60.0 - (now - hits[0])
            hits.append(now)
            return 0.0


class SecurityHeaders:
    """The security headers on every HTTP response, where a response did not set them itself.

    A plain ASGI middleware: it only adds headers to `http.response.start` (Starlette's
    `@app.middleware("http")` would copy every response through a stream).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = security_headers(str(scope.get("path", "")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in added if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """HEAD answers wherever GET does: the GET route runs and its body is dropped (its headers stay)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # a copy: the server reads the method at send time to write no body after a HEAD's headers
        inner = {**scope, "method": "GET"}
        try:
            await self.app(inner, receive, send_headers_only)
        finally:
            if "route" in inner:
                scope["route"] = inner["route"]  # the access log's route label
