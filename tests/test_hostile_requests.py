"""Requests at the edge of the contract, through the real app: chunked bodies over the limit, HEAD, `k` that is
not a JSON integer, and what /api/documents reveals about the server's disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.store import Store
from service.app import create_app
from service.reindex import ingest
from service.settings import Settings

from .reindex_support import make_corpus
from .test_api import wait_ready

QUESTION = "How does IOM define protection?"


@pytest.fixture(scope="module")
def client(paper_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    settings = Settings(index_dir=paper_index, rate_limit=0, max_body_bytes=1024)
    with TestClient(create_app(settings, embedder=embedder)) as test_client:
        wait_ready(test_client)
        yield test_client


def test_a_chunked_body_over_the_limit_gets_413_not_a_parse_error(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    response = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "body_too_large"
    assert "PQA_MAX_BODY_BYTES" in response.json()["error"]["message"]
    assert response.headers["connection"] == "close", "the rest of the body was not read"

    def small() -> Iterator[bytes]:
        yield b'{"question": "How does IOM '
        yield b'define protection?"}'

    answered = client.post("/api/ask", content=small(), headers={"content-type": "application/json"})
    assert answered.status_code == 200 and answered.json()["passages"]


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/api/documents", "/documents", "/api/search?q=IDP"])
def test_head_answers_wherever_get_does_with_its_headers_and_no_body(client: TestClient, path: str) -> None:
    get, head = client.get(path), client.head(path)
    assert get.status_code == 200
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert "script-src 'self'" in head.headers["content-security-policy"]


@pytest.mark.parametrize("k", ["3", True, 2.5, [3]])
def test_k_must_be_a_json_integer(client: TestClient, k: object) -> None:
    response = client.post("/api/ask", json={"question": QUESTION, "k": k})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["message"].startswith("k:")
    for integer in (3, 3.0):  # 3.0 is an integer to JSON Schema, which the OpenAPI document speaks
        answer = client.post("/api/ask", json={"question": QUESTION, "k": integer})
        assert answer.status_code == 200 and len(answer.json()["passages"]) == 3


def test_documents_are_listed_with_paths_relative_to_the_corpus(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "deployment" / "corpus"
    make_corpus(corpus, with_note=False)
    monkeypatch.chdir(tmp_path)
    ingest([corpus.resolve()], Store(tmp_path / "index"), lambda: embedder)  # absolute, as a deployment gives it
    settings = Settings(index_dir=tmp_path / "index", corpus=[corpus.resolve()])
    with TestClient(create_app(settings, embedder=embedder)) as client:
        wait_ready(client)
        sources = [d["source"] for d in client.get("/api/documents").json()["documents"]]
    assert sources == ["iom-approach-to-protection.md"]
    other = Settings(index_dir=tmp_path / "index", corpus=[Path("elsewhere")])
    with TestClient(create_app(other, embedder=embedder)) as client:
        wait_ready(client)
        listed = client.get("/api/documents").text
    assert str(tmp_path) not in listed, "an index built from another path shows file names only"


@pytest.mark.parametrize("encoded", ["%ED%A0%80refugee", "%FF%FErefugee", "refugee%C3"])
def test_a_query_string_that_is_not_utf8_gets_422_not_a_search_for_replacement_characters(
    client: TestClient, encoded: str
) -> None:
    response = client.get(f"/api/search?q={encoded}&k=3")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_query" and "not valid UTF-8" in error["message"]
    assert "percent-encode" in error["message"]
    fine = client.get("/api/search?q=r%C3%A9fugi%C3%A9+protection&k=3")  # "réfugié protection", real UTF-8
    assert fine.status_code == 200 and fine.json()["query"] == "réfugié protection"


def test_a_body_that_is_not_utf8_json_says_what_to_send(client: TestClient) -> None:
    response = client.post(
        "/api/ask", content=b'{"question": "\xff\xfe refugee"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert "not JSON in UTF-8" in message and '"question"' in message


def test_a_method_an_endpoint_does_not_take_names_the_one_it_does(client: TestClient) -> None:
    response = client.delete("/api/search?q=IDP")
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert response.json()["error"]["message"].startswith("this endpoint does not take that method; it takes GET")
