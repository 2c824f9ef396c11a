"""Limits that protect the service: request body size, requests per client per minute, security headers.

Each answers with the one JSON error shape and names the limit and its setting. Health, readiness,
metrics and static files are never rate-limited.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict

from .telemetry import ASGIApp, Message, Receive, Scope, Send

EXEMPT = ("/healthz", "/readyz", "/metrics", "/static/")


async def _reject(send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """413 for a request body over `max_bytes`, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = (
            f"the request body is larger than {self.max_bytes} bytes (PQA_MAX_BODY_BYTES); send a shorter question"
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _reject(send, 413, "body_too_large", message, [])
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            incoming = await receive()
            if incoming["type"] == "http.request":
                received += len(incoming.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return incoming

        async def tracking_send(outgoing: Message) -> None:
            nonlocal started
            started = started or outgoing["type"] == "http.response.start"
            await send(outgoing)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _reject(send, 413, "body_too_large", message, [])


class RateLimit:
    """At most `per_minute` requests per client address in any sliding minute (0 turns the limit off)."""

    def __init__(self, app: ASGIApp, per_minute: int, max_clients: int = 10_000) -> None:
        self.app, self.per_minute, self.max_clients = app, per_minute, max_clients
        self._hits: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.per_minute <= 0 or str(scope.get("path", "")).startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self._admit(client, time.monotonic())
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            await _reject(
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
    """Content-Security-Policy (no inline scripts), nosniff and no-referrer on every HTTP response.

    A plain ASGI middleware: it only adds headers to `http.response.start`, where a response did not
    set them itself (Starlette's `@app.middleware("http")` would copy every response through a stream).
    """

    def __init__(self, app: ASGIApp, csp: str, docs_csp: str) -> None:
        self.app, self.csp, self.docs_csp = app, csp.encode(), docs_csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        csp = self.docs_csp if path.startswith(("/docs", "/swagger")) else self.csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"content-security-policy", csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ):
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
