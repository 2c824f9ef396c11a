"""Limits that protect the service: request body size and requests per client per minute.

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
