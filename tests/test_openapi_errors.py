"""The OpenAPI schema documents the errors the service really answers: one shape, `{"error": {...}}`, on every route.

FastAPI documents a 422 as its own `{"detail": [...]}` (HTTPValidationError) unless a route says otherwise; the
service's handler (service/errors.py) answers every 422 in its own shape, so a route that forgets would mislead a
client generated from the schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from service.app import create_app
from service.settings import Settings

from .test_api import wait_ready

ERROR_REF = "#/components/schemas/ErrorResponse"
READINESS_REF = "#/components/schemas/Readiness"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """/openapi.json over HTTP (the schema needs no model or index: the lifespan is not run)."""
    response = TestClient(create_app(Settings(index_dir=Path("/nonexistent/index")))).get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_no_route_documents_fastapis_own_error_shape(schema: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in json.dumps(schema)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_every_documented_error_response_is_the_services_error_shape(schema: dict[str, Any]) -> None:
    errors = 0
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            errors += 1
            documented = response["content"]["application/json"]["schema"]["$ref"]
            expected = READINESS_REF if name == "GET /readyz" else ERROR_REF  # /readyz says why in its own fields
            assert documented == expected, f"{name} {status} is documented as {documented}"
    assert errors >= 20
    error = schema["components"]["schemas"]["ErrorResponse"]
    assert error["properties"]["error"]["$ref"] == "#/components/schemas/ErrorBody"
    assert set(schema["components"]["schemas"]["ErrorBody"]["properties"]) == {"code", "message"}


def test_the_reindex_routes_and_ask_document_what_they_answer(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    for path, method in (("/api/reindex", "post"), ("/api/reindex", "get"), ("/api/reindex/{job_id}", "get")):
        assert {"401", "403", "422"} <= set(paths[path][method]["responses"]), (method, path)
    assert {"400", "415", "422"} <= set(paths["/api/ask"]["post"]["responses"])


def test_the_kind_filters_offer_only_the_kinds_that_are_searched(schema: dict[str, Any]) -> None:
    searched = ["paragraph", "footnote", "article", "list-item", "text"]
    kind = next(p for p in schema["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "kind")
    assert kind["schema"]["items"]["enum"] == searched
    assert schema["components"]["schemas"]["AskRequest"]["properties"]["kind"]["items"]["enum"] == searched


def readiness_fields(schema: dict[str, Any]) -> set[str]:
    return set(schema["components"]["schemas"]["Readiness"]["properties"])


def test_readyz_documents_its_fields_for_200_and_503(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/readyz"]["get"]["responses"]
    for status in ("200", "503"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"] == READINESS_REF
    assert {"status", "runtime", "runtime_reason", "rerank", "message", "search_processes"} <= readiness_fields(schema)


def test_readyz_answers_the_documented_fields_ready_or_not(
    schema: dict[str, Any], paper_index: Path, embedder: Embedder, tmp_path: Path
) -> None:
    with TestClient(create_app(Settings(index_dir=paper_index), embedder=embedder)) as client:
        wait_ready(client)
        ready = client.get("/readyz")
        assert ready.status_code == 200 and set(ready.json()) == readiness_fields(schema)
    settings = Settings(index_dir=tmp_path / "empty", load_in_background=False)
    with TestClient(create_app(settings, embedder=embedder)) as client:
        missing = client.get("/readyz")
        assert missing.status_code == 503 and set(missing.json()) == readiness_fields(schema)
        assert missing.json()["status"] == "no_index"


def test_ask_documents_the_400_of_a_body_that_is_empty_or_not_json(schema: dict[str, Any]) -> None:
    """The 400 answers a body that is empty, malformed JSON or not UTF-8 (tests/test_validation.py); the schema says
    so, and no longer only "not JSON in UTF-8" while an empty body got a 422."""
    described = schema["paths"]["/api/ask"]["post"]["responses"]["400"]["description"]
    assert "empty" in described and "not valid JSON in UTF-8" in described and "invalid_json" in described
