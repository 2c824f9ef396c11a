"""The server over real sockets: protocol errors and 500s in the JSON error shape, slow clients timed out, proxy
headers believed only from listed proxies, client strings bounded.

Most tests run the service's own uvicorn configuration (service.server) in a thread on 127.0.0.1; the proxy
tests start `pqa serve` itself, since that is where uvicorn's proxy settings are chosen.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

from index.embedder import Embedder
from service.app import create_app
from service.server import config
from service.settings import Settings

from .conftest import LiveServer, free_port, wait_ready

QUESTION = "How does IOM define protection?"


class ThreadedServer:
    """The service's uvicorn configuration serving `app` from a thread, on 127.0.0.1."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.port = settings.port
        self.server = uvicorn.Server(config(app, settings))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        wait_ready(f"http://127.0.0.1:{self.port}", 60)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


class ExplodingEmbedder:
    """The real model, except that a question containing 'explode' raises an error that quotes it (plumbing only)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens, self.runtime = inner.name, inner.dim, inner.max_tokens, inner.runtime

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        for text in texts:
            if "explode" in text:
                raise RuntimeError(f"cannot embed {text!r}")
        return self.inner.embed_queries(texts)


def settings_for(index: Path, **overrides: Any) -> Settings:
    return Settings(index_dir=index, host="127.0.0.1", port=free_port(), rate_limit=0, **overrides)


@pytest.fixture(scope="module")
def server(paper_index: Path, embedder: Embedder) -> Iterator[ThreadedServer]:
    settings = settings_for(paper_index, header_timeout=1.0, keep_alive_timeout=1)
    with ThreadedServer(create_app(settings, embedder=ExplodingEmbedder(embedder)), settings) as running:  # type: ignore[arg-type]
        yield running


def exchange(port: int, data: bytes, wait: float = 10.0) -> tuple[bytes, float]:
    """Send `data`, read until the server closes; what came back and how long it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        sock.settimeout(wait)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pytest.fail(f"the server kept the connection open for {wait} s; it sent {received[:200]!r}")
    return received, time.monotonic() - started


def parse(raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body)


def check_error(raw: bytes, status: int, code: str) -> dict[str, str]:
    got, headers, body = parse(raw)
    assert got == status, raw[:300]
    assert body["error"]["code"] == code and body["error"]["message"]
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close", "a connection the server closes says so"
    assert len(headers["x-request-id"]) == 32
    assert "script-src 'self'" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff"
    return headers


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n{}", 400, "bad_request"),
        (b"GET /api/search?q=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431, "headers_too_large"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", 431, "headers_too_large"),
    ],
    ids=["malformed-content-length", "url-over-64kb", "header-over-64kb"],
)
def test_requests_the_http_parser_refuses_get_the_json_error_shape(
    server: ThreadedServer, request_bytes: bytes, status: int, code: str
) -> None:
    raw, _ = exchange(server.port, request_bytes)
    check_error(raw, status, code)


def test_the_head_limit_holds_for_the_next_request_on_a_keep_alive_connection(server: ThreadedServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    check_error(received, 431, "headers_too_large")


def test_a_client_that_never_finishes_its_headers_gets_408_and_an_idle_one_is_closed(server: ThreadedServer) -> None:
    raw, seconds = exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    check_error(raw, 408, "request_timeout")
    assert "PQA_HEADER_TIMEOUT" in parse(raw)[2]["error"]["message"]
    assert 0.8 < seconds < 5
    raw, seconds = exchange(server.port, b"")
    assert raw == b"" and seconds < 5, "a connection that sends nothing is closed at the header timeout"


def test_a_body_that_trickles_in_gets_408(server: ThreadedServer) -> None:
    raw, seconds = exchange(server.port, b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    check_error(raw, 408, "request_timeout")
    assert seconds < 5


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(server: ThreadedServer) -> None:
    raw, seconds = exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200") and 0.8 < seconds < 5


def test_a_500_has_the_error_shape_logs_its_traceback_without_the_question_and_keeps_the_connection(
    server: ThreadedServer, caplog: pytest.LogCaptureFixture
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    body = json.dumps({"question": "my asylum case in Nairobi, explode"})
    with caplog.at_level(logging.ERROR, logger="pqa.errors"):
        connection.request("POST", "/api/ask", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        error = json.loads(response.read())
    assert response.status == 500 and error["error"]["code"] == "internal_error"
    request_id = response.getheader("x-request-id")
    assert request_id and request_id in error["error"]["message"]
    assert "script-src 'self'" in str(response.getheader("content-security-policy"))
    socket_before = connection.sock
    assert socket_before is not None and response.getheader("connection") != "close"
    connection.request("GET", "/api/search?q=protection")
    assert connection.getresponse().status == 200
    assert connection.sock is socket_before, "the keep-alive connection was kept, not dropped"
    connection.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert request_id in logged and "Traceback" in logged and "RuntimeError" in logged
    assert "Nairobi" not in logged, "the question is not logged unless PQA_LOG_QUERIES=1"


def test_head_answers_where_get_does_over_http(server: ThreadedServer) -> None:
    for path in ("/", "/healthz", "/api/documents", "/static/app.js"):
        response = httpx.head(f"http://127.0.0.1:{server.port}{path}", timeout=30)
        assert response.status_code == 200, path
        assert response.content == b"" and int(response.headers["content-length"]) > 0


def access_clients(server: LiveServer) -> list[str]:
    lines = [line for line in server.output().splitlines() if line.startswith('{"ts"')]
    return [json.loads(line)["client"] for line in lines]


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(paper_index: Path) -> None:
    server = LiveServer(paper_index, env={"PQA_RATE_LIMIT": "3"})
    try:
        server.wait_ready()
        statuses = [
            httpx.get(f"{server.url}/api/documents", headers={"X-Forwarded-For": f"10.0.0.{n}"}, timeout=30).status_code
            for n in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429], "a made-up X-Forwarded-For does not buy a new budget"
        assert set(access_clients(server)) == {"127.0.0.1"}
    finally:
        server.stop()


def test_a_trusted_proxy_names_the_client_and_long_names_stay_bounded(paper_index: Path) -> None:
    server = LiveServer(paper_index, env={"PQA_RATE_LIMIT": "3", "PQA_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        server.wait_ready()
        spoofed = "a" * 30_000
        for client in ("10.0.0.1", "10.0.0.2"):
            for _ in range(3):
                response = httpx.get(f"{server.url}/api/documents", headers={"X-Forwarded-For": client}, timeout=30)
                assert response.status_code == 200, "each client behind the proxy has its own budget"
        statuses = []
        for _ in range(4):
            response = httpx.get(f"{server.url}/api/documents", headers={"X-Forwarded-For": spoofed}, timeout=30)
            statuses.append(response.status_code)
        assert statuses == [200, 200, 200, 429]
        assert len(response.json()["error"]["message"]) < 300
        clients = access_clients(server)
        assert {"10.0.0.1", "10.0.0.2"} <= set(clients)
        assert max(len(c) for c in clients) <= 64 and len(server.output()) < 20_000
    finally:
        server.stop()


class _Writes:
    """A stderr that records each write call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("state", ["ready", "failed"])
def test_the_address_to_open_is_written_whole_in_one_call(monkeypatch: pytest.MonkeyPatch, state: str) -> None:
    # print() writes a line and its newline apart: an access-log line written by another thread between the two
    # ran on after the address, and `pqa serve`'s last line was empty (a fresh clone's make test saw it)
    from types import SimpleNamespace

    from service.server import _Server

    status = SimpleNamespace(state=state, message="no index at var/index")
    app = SimpleNamespace(state=SimpleNamespace(engine=SimpleNamespace(status=lambda: status)))
    server = _Server(uvicorn.Config(app=lambda: None), app, "http://127.0.0.1:8000")
    stderr = _Writes()
    monkeypatch.setattr("sys.stderr", stderr)
    server._announce()
    expected = ["open http://127.0.0.1:8000 (Ctrl+C stops the service)\n"]
    if state != "ready":
        expected.insert(0, "not ready yet: no index at var/index\n")
    assert stderr.calls == expected
