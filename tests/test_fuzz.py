"""A property-based fuzz of the live API from its own OpenAPI schema: no 5xx, every response matches the schema.

Schemathesis generates the requests (valid and invalid) from /openapi.json; `call_and_validate` runs its checks:
no server error, status codes and content types the schema declares, bodies that match the response models.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import LiveServer

EXAMPLES_PER_OPERATION = 40


@pytest.fixture(scope="module")
def fuzz_server(paper_index: Path) -> Iterator[LiveServer]:
    server = LiveServer(paper_index, env={"PQA_RATE_LIMIT": "0"})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_the_api_never_fails_and_always_matches_its_schema(fuzz_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    names = {f"{op.method.upper()} {op.path}" for op in operations}
    assert {"GET /api/search", "POST /api/ask", "GET /api/documents", "GET /readyz"} <= names
    calls = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call_and_validate(base_url=fuzz_server.url)
            assert response.status_code < 500

        check()
    assert calls >= len(operations)
