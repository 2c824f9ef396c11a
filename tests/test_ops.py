"""The operations surface: metrics, access logs, request ids, limits, CORS, offline API docs."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from service.app import create_app
from service.settings import Settings

QUESTION = "How does IOM define protection?"


def ready_client(settings: Settings, embedder: Embedder) -> Iterator[TestClient]:
    with TestClient(create_app(settings, embedder=embedder)) as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, client.get("/readyz").json()
            time.sleep(0.05)
        yield client


@pytest.fixture(scope="module")
def client(paper_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    yield from ready_client(Settings(index_dir=paper_index), embedder)


def test_metrics_count_requests_per_route_and_status_and_describe_the_index(client: TestClient) -> None:
    client.get("/api/search", params={"q": QUESTION})
    client.get("/api/search", params={"q": ""})
    text = client.get("/metrics").text
    assert 'pqa_http_requests_total{method="GET",route="/api/search",status="200"}' in text
    assert 'pqa_http_requests_total{method="GET",route="/api/search",status="422"}' in text
    assert 'pqa_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/search"}' in text
    assert "pqa_index_passages 35.0" in text
    assert 'pqa_index_generation_info{generation="g' in text
    assert "pqa_ready 1.0" in text
    questions = re.search(r"^pqa_query_embedding_questions_total (\S+)$", text, re.M)
    batches = re.search(r"^pqa_query_embedding_batches_total (\S+)$", text, re.M)
    assert questions and batches, "the question-embedding counters are exported"
    assert float(questions.group(1)) >= float(batches.group(1)) >= 1


def test_each_request_has_an_id_and_one_json_access_log_line_without_the_question(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pqa.access"):
        response = client.get(
            "/api/search", params={"q": "my asylum case in Nairobi"}, headers={"X-Request-ID": "abc-1"}
        )
    assert response.headers["x-request-id"] == "abc-1"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "pqa.access"]
    (entry,) = [e for e in lines if e["request_id"] == "abc-1"]
    assert entry["route"] == "/api/search" and entry["status"] == 200 and entry["ms"] > 0
    assert "question" not in entry
    assert "Nairobi" not in json.dumps(lines)
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32


def test_questions_are_logged_only_when_asked(
    paper_index: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    for client in ready_client(Settings(index_dir=paper_index, log_queries=True), embedder):
        with caplog.at_level(logging.INFO, logger="pqa.access"):
            client.post("/api/ask", json={"question": "what about Nairobi?"})
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "pqa.access"]
    assert any(e.get("question") == "what about Nairobi?" for e in entries)


def test_a_body_over_the_limit_gets_413_naming_the_limit(paper_index: Path, embedder: Embedder) -> None:
    for client in ready_client(Settings(index_dir=paper_index, max_body_bytes=1024), embedder):
        response = client.post("/api/ask", json={"question": "x" * 2000})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "body_too_large"
        assert "PQA_MAX_BODY_BYTES" in response.json()["error"]["message"]
        assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200


def test_too_many_requests_get_429_with_retry_after(paper_index: Path, embedder: Embedder) -> None:
    for client in ready_client(Settings(index_dir=paper_index, rate_limit=3), embedder):
        statuses = [client.get("/api/search", params={"q": QUESTION}).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        limited = client.get("/api/search", params={"q": QUESTION})
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "PQA_RATE_LIMIT" in limited.json()["error"]["message"]
        assert "script-src 'self'" in limited.headers["content-security-policy"], "rejections carry the CSP too"
        assert limited.headers["x-content-type-options"] == "nosniff"
        assert client.get("/readyz").status_code == 200, "health and readiness are never limited"


def test_cors_is_off_by_default_and_on_for_listed_origins(
    client: TestClient, paper_index: Path, embedder: Embedder
) -> None:
    origin = {"Origin": "https://intranet.example.org"}
    assert (
        "access-control-allow-origin" not in client.get("/api/search", params={"q": QUESTION}, headers=origin).headers
    )
    settings = Settings(index_dir=paper_index, cors_origins="https://intranet.example.org")  # type: ignore[arg-type]
    for cors_client in ready_client(settings, embedder):
        response = cors_client.get("/api/search", params={"q": QUESTION}, headers=origin)
        assert response.headers["access-control-allow-origin"] == "https://intranet.example.org"
        other = cors_client.get("/api/search", params={"q": QUESTION}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_openapi_has_examples_and_the_error_shape(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    search = schema["paths"]["/api/search"]["get"]
    assert {"200", "413", "422", "429", "503"} <= set(search["responses"])
    assert search["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert schema["components"]["schemas"]["SearchResponse"]["examples"]
    assert schema["components"]["schemas"]["AskRequest"]["examples"]


def test_api_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/swagger/swagger-ui-bundle.js" in page.text and "cdn" not in page.text.lower()
    bundle = client.get("/swagger/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
    assert "script-src 'self'" in page.headers["content-security-policy"]
