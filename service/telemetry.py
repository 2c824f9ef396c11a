"""Request ids, JSON access logs and Prometheus metrics, in one ASGI middleware.

The question text is not logged unless `PQA_LOG_QUERIES=1`: people ask about their own cases.
Routes are labelled by their template ("/documents/{document_id}"), never by the raw path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from index.unicode import printable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("pqa.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_CLIENT_CHARS = 64  # an IPv6 address with its zone fits; a longer "address" came from a header
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _advance(counter: Counter, total: float, seen: float) -> float:
    """Raise `counter` by what `total` (a running total kept elsewhere) gained since `seen`; the new `seen`."""
    counter.inc(max(total - seen, 0))
    return max(total, seen)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pqa_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pqa_http_request_duration_seconds",
            "Time to answer, by route and method.",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.generation = Gauge(
            "pqa_index_generation_info",
            "The generation being served (value 1).",
            ["generation"],
            registry=self.registry,
        )
        self.passages = Gauge(
            "pqa_index_passages", "Searchable passages in the served generation.", registry=self.registry
        )
        self.ready = Gauge("pqa_ready", "1 when the model and an index are loaded.", registry=self.registry)
        self.swaps = Gauge("pqa_index_swaps", "Generations loaded since start-up.", registry=self.registry)
        self.reindex_runs = Counter(
            "pqa_reindex_runs",
            "Re-index runs (POST /api/reindex and the watcher) by result: swapped, unchanged, rejected (by the golden "
            "gate) or failed, as the job reports it.",
            ["result"],
            registry=self.registry,
        )

        self.embedding_batches = Counter(
            "pqa_query_embedding_batches",
            "Batches of questions embedded; questions that arrive while the model is busy share one.",
            registry=self.registry,
        )
        self.embedding_questions = Counter(
            "pqa_query_embedding_questions", "Questions embedded.", registry=self.registry
        )
        self._embedding_seen: tuple[float, float] = (0, 0)
        self.runtime = Gauge(
            "pqa_embedding_runtime_info",
            "The embedding model and the runtime it really runs on, e.g. openvino-int8 (value 1).",
            ["model", "runtime"],
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "pqa_query_cache_hits", "Questions answered from the question-embedding cache.", registry=self.registry
        )
        self.cache_misses = Counter(
            "pqa_query_cache_misses", "Questions the cache did not hold (so embedded).", registry=self.registry
        )
        self.cache_size = Gauge("pqa_query_cache_entries", "Question embeddings held now.", registry=self.registry)
        self._cache_seen: tuple[float, float] = (0, 0)
        self.reranker = Gauge(
            "pqa_reranker_info",
            "The reranker loaded, its runtime and which questions it re-scores (PQA_RERANK: ask or on; value 1).",
            ["name", "runtime", "mode"],
            registry=self.registry,
        )
        self.reranked = Counter("pqa_reranked_questions", "Questions the reranker re-scored.", registry=self.registry)
        self.reranked_pairs = Counter(
            "pqa_reranked_passages", "Passages the reranker re-scored (a model pass each).", registry=self.registry
        )
        self.rerank_seconds = Counter(
            "pqa_rerank_seconds", "Time in the reranker, waiting for it included.", registry=self.registry
        )
        self._rerank_seen: tuple[float, float, float] = (0, 0, 0.0)
        self.search_processes = Gauge(
            "pqa_search_processes",
            "Search processes (PQA_SEARCH_PROCESSES) configured, and ready to answer now.",
            ["state"],
            registry=self.registry,
        )
        self.pool_answered = Counter(
            "pqa_search_process_answers", "Questions a search process answered.", registry=self.registry
        )
        self.pool_declined = Counter(
            "pqa_search_process_declined",
            "Questions handed to a search process that the serving process answered instead (another generation, "
            "an error, a process lost or none idle in time).",
            registry=self.registry,
        )
        self.pool_restarts = Counter(
            "pqa_search_process_restarts",
            "Search processes started again after one ended or failed to start.",
            registry=self.registry,
        )
        self._pool_seen: tuple[float, float, float] = (0, 0, 0)

    def observe_embedding(self, batches: int, questions: int) -> None:
        """Bring the counters up to the engine's totals (read at each scrape)."""
        seen_batches, seen_questions = self._embedding_seen
        self._embedding_seen = (
            _advance(self.embedding_batches, batches, seen_batches),
            _advance(self.embedding_questions, questions, seen_questions),
        )

    def observe_model(self, model: str, runtime: str, cache_hits: int, cache_misses: int, cache_entries: int) -> None:
        """The runtime label and the cache counters, brought up to the engine's totals (read at each scrape)."""
        self.runtime.clear()
        self.runtime.labels(model=model, runtime=runtime).set(1)
        seen_hits, seen_misses = self._cache_seen
        self._cache_seen = (
            _advance(self.cache_hits, cache_hits, seen_hits),
            _advance(self.cache_misses, cache_misses, seen_misses),
        )
        self.cache_size.set(cache_entries)

    def observe_reranker(self, name: str, runtime: str, mode: str, calls: int, pairs: int, seconds: float) -> None:
        """The reranker's label and counters, brought up to its totals (read at each scrape)."""
        self.reranker.clear()
        self.reranker.labels(name=name, runtime=runtime, mode=mode).set(1)
        seen_calls, seen_pairs, seen_seconds = self._rerank_seen
        self._rerank_seen = (
            _advance(self.reranked, calls, seen_calls),
            _advance(self.reranked_pairs, pairs, seen_pairs),
            _advance(self.rerank_seconds, seconds, seen_seconds),
        )

    def observe_pool(self, size: int, ready: int, answered: int, declined: int, restarts: int) -> None:
        """The search processes (service/pool.py), brought up to the pool's totals (read at each scrape)."""
        self.search_processes.labels(state="configured").set(size)
        self.search_processes.labels(state="ready").set(ready)
        seen_answered, seen_declined, seen_restarts = self._pool_seen
        self._pool_seen = (
            _advance(self.pool_answered, answered, seen_answered),
            _advance(self.pool_declined, declined, seen_declined),
            _advance(self.pool_restarts, restarts, seen_restarts),
        )

    def observe_index(self, generation: str | None, passages: int, ready: bool, swaps: int) -> None:
        self.generation.clear()
        if generation:
            self.generation.labels(generation=generation).set(1)
        self.passages.set(passages)
        self.ready.set(1 if ready else 0)
        self.swaps.set(swaps)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def client_of(scope: Scope) -> str:
    """The client's address as the server sees it, at most MAX_CLIENT_CHARS characters.

    A longer one (a proxy header's made-up value) is cut and tagged with its hash, so distinct
    values stay distinct keys without any of them costing more than a few dozen bytes.
    """
    client = scope.get("client")
    host = printable(str(client[0])) if client else "unknown"
    if len(host) <= MAX_CLIENT_CHARS:
        return host
    digest = hashlib.sha256(host.encode()).hexdigest()[:16]
    return f"{host[: MAX_CLIENT_CHARS - 20]}...#{digest}"


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return "static" if str(scope.get("path", "")).startswith("/static/") else "unmatched"


class Telemetry:
    """ASGI middleware: X-Request-ID in and out, one JSON access-log line and metrics per HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_queries: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log_queries = log_queries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, request_id, status, time.perf_counter() - started)

    def _record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        route, method = _route_of(scope), str(scope.get("method", ""))
        self.metrics.requests.labels(route=route, method=method, status=str(status)).inc()
        self.metrics.latency.labels(route=route, method=method).observe(seconds)
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "request_id": request_id,
            "method": method,
            "route": route,
            "status": status,
            "ms": round(seconds * 1000, 2),
            "client": client_of(scope),
        }
        question = scope.get("state", {}).get("question")
        if self.log_queries and question is not None:
            entry["question"] = printable(question)
        access_log.info(json.dumps(entry, ensure_ascii=False))


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None
