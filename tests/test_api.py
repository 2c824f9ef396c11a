"""The HTTP contract, through the real app and lifespan (TestClient) and against a live `pqa serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from service.app import create_app
from service.follower import ingest_command
from service.settings import Settings

from .conftest import PAPER_ID, LiveServer

QUESTION = "How does IOM define protection?"


def wait_ready(client: TestClient) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready: {client.get('/readyz').json()}")


@pytest.fixture(scope="module")
def client(paper_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    app = create_app(Settings(index_dir=paper_index), embedder=embedder)
    with TestClient(app) as test_client:
        wait_ready(test_client)
        yield test_client


def check_passage_shape(passage: dict[str, Any]) -> None:
    assert set(passage) >= {"rank", "score", "text", "highlight", "citation"}
    citation = passage["citation"]
    assert set(citation) >= {"document_id", "document_title", "label", "paragraph", "kind", "section", "page", "url"}
    assert citation["kind"] in {"paragraph", "footnote", "article", "list-item", "heading", "text"}
    highlight = passage["highlight"]
    if highlight is not None:
        assert 0 <= highlight["start"] < highlight["end"] <= len(passage["text"])


def test_search_returns_paragraph_7_first_with_its_citation(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": QUESTION, "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == QUESTION
    assert len(body["passages"]) == 3
    assert [p["rank"] for p in body["passages"]] == [1, 2, 3]
    scores = [p["score"] for p in body["passages"]]
    assert scores == sorted(scores, reverse=True)
    top = body["passages"][0]
    check_passage_shape(top)
    assert top["citation"] == {
        "document_id": PAPER_ID,
        "document_title": "IOM's Approach to the Protection of Migrants and Displaced Persons",
        "label": "para. 7",
        "paragraph": "7",
        "kind": "paragraph",
        "section": "Protection and rights throughout the history of IOM",
        "page": 2,
        "page_label": None,
        "url": f"/documents/{PAPER_ID}#para-7",
    }
    assert top["text"].startswith("The IOM definition of protection is based on the 1999 definition")
    assert body["took_ms"] > 0
    assert body["index"]["passages"] == 35
    assert body["index"]["generation"].startswith("g")


def test_get_and_post_give_the_same_passages(client: TestClient) -> None:
    got = client.get("/api/search", params={"q": QUESTION, "k": 5}).json()
    posted = client.post("/api/ask", json={"question": QUESTION, "k": 5}).json()
    assert [p["citation"] for p in got["passages"]] == [p["citation"] for p in posted["passages"]]
    assert [p["text"] for p in got["passages"]] == [p["text"] for p in posted["passages"]]


def test_k_defaults_to_5(client: TestClient) -> None:
    assert len(client.get("/api/search", params={"q": "funding"}).json()["passages"]) == 5


def test_footnotes_are_cited_as_footnotes(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "Which book tells the history of IOM from 1951 to 2016?"}).json()
    footnote = next(p for p in body["passages"] if p["citation"]["kind"] == "footnote")
    assert footnote["citation"]["label"] == "footnote 3"
    assert footnote["citation"]["paragraph"] == "3"
    assert footnote["citation"]["url"] == f"/documents/{PAPER_ID}#fn-3"


def test_filters_by_kind_and_document(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": QUESTION, "kind": "footnote", "k": 3}).json()
    assert body["passages"] and {p["citation"]["kind"] for p in body["passages"]} == {"footnote"}
    body = client.get("/api/search", params={"q": QUESTION, "document": PAPER_ID}).json()
    assert {p["citation"]["document_id"] for p in body["passages"]} == {PAPER_ID}
    response = client.get("/api/search", params={"q": QUESTION, "document": "nope"})
    assert response.status_code == 404
    assert "unknown document 'nope'" in response.json()["error"]["message"]
    response = client.get("/api/search", params={"q": QUESTION, "kind": "chapter"})
    assert response.status_code == 422
    assert "expected one of" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({"q": ""}, "invalid_query", "the question is empty"),
        ({"q": "   "}, "invalid_query", "the question is empty"),
        ({"q": "x" * 1001}, "invalid_query", "the limit is 1000"),
        ({"q": QUESTION, "k": 0}, "invalid_k", "k must be between 1 and 50, got 0"),
        ({"q": QUESTION, "k": 51}, "invalid_k", "k must be between 1 and 50, got 51"),
        ({"q": QUESTION, "k": "many"}, "invalid_request", "k:"),
        ({}, "invalid_request", "q:"),
    ],
)
def test_bad_queries_get_a_422_that_says_what_is_wrong(
    client: TestClient, params: dict[str, Any], code: str, fragment: str
) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code
    assert fragment in error["message"]


def test_bad_ask_bodies_get_a_422(client: TestClient) -> None:
    assert client.post("/api/ask", json={"k": 3}).status_code == 422
    response = client.post("/api/ask", json={"question": "", "k": 3})
    assert response.status_code == 422 and "empty" in response.json()["error"]["message"]
    response = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    # not JSON at all: the README's 400 saying what to send (tests/test_validation.py), not a 422
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


def test_documents_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    docs = client.get("/api/documents").json()["documents"]
    assert [d["id"] for d in docs] == [PAPER_ID]
    assert docs[0]["passages"] == 35 and len(docs[0]["version"]) == 64 and docs[0]["indexed_at"]


def test_the_document_view_and_the_page_are_served(client: TestClient) -> None:
    view = client.get(f"/documents/{PAPER_ID}")
    assert view.status_code == 200 and view.headers["content-type"].startswith("text/html")
    assert 'id="para-7"' in view.text and 'id="fn-6"' in view.text
    assert client.get("/documents/missing").status_code == 404
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_no_index_gives_503_with_the_command_that_builds_one(tmp_path: Path, embedder: Embedder) -> None:
    """The command names the folder this service serves: a bare `pqa ingest corpus/` would build var/index."""
    empty = tmp_path / "empty"
    app = create_app(Settings(index_dir=empty, reload_interval=0.2), embedder=embedder)
    with TestClient(app) as client:
        import time

        deadline = time.monotonic() + 30
        while client.get("/readyz").json()["status"] in ("starting", "loading") and time.monotonic() < deadline:
            time.sleep(0.05)
        command = f"run: pqa ingest corpus/ --index {empty}"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["message"].endswith(command)
        for path in ("/api/search?q=refugee", "/api/documents"):
            response = client.get(path)
            assert response.status_code == 503 and response.headers["retry-after"] == "5"
            error = response.json()["error"]
            assert error["code"] == "index_not_found"
            assert error["message"] == f"no index in {empty}; {command}"
        assert client.get("/healthz").status_code == 200


def test_the_command_for_the_default_index_needs_no_folder() -> None:
    default = Settings.model_fields["index_dir"].default
    assert ingest_command(default) == "pqa ingest corpus/"
    assert ingest_command(Path("/srv/my index")) == "pqa ingest corpus/ --index '/srv/my index'"


@pytest.mark.parametrize("kind", ["form", "table", "signature", "contents", "front-matter", "fragment", "lead-in"])
def test_a_kind_that_is_set_aside_is_a_422_that_lists_the_searched_kinds(client: TestClient, kind: str) -> None:
    for response in (
        client.get("/api/search", params={"q": QUESTION, "kind": kind}),
        client.post("/api/ask", json={"question": QUESTION, "kind": ["paragraph", kind]}),
    ):
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_query"
        assert f"kind '{kind}' is never searched" in error["message"]
        assert "set aside and not searched" in error["message"]
        assert "expected one of paragraph, footnote, article, list-item, text," in error["message"]


def test_a_heading_filter_and_an_unknown_kind_name_only_the_searched_kinds(client: TestClient) -> None:
    heading = client.get("/api/search", params={"q": QUESTION, "kind": "heading"})
    assert heading.status_code == 422
    assert "headings are not searched as passages of their own" in heading.json()["error"]["message"]
    unknown = client.get("/api/search", params={"q": QUESTION, "kind": "chapter"}).json()["error"]["message"]
    assert unknown == "unknown kind 'chapter'; expected one of paragraph, footnote, article, list-item, text"
    for kind in ("paragraph", "footnote", "article", "list-item", "text"):  # searched: answered, maybe with none
        assert client.get("/api/search", params={"q": QUESTION, "kind": kind}).status_code == 200


def test_live_pqa_serve_answers_over_real_http(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/api/search", params={"q": QUESTION, "k": 3}, timeout=30)
    assert response.status_code == 200
    top = response.json()["passages"][0]
    assert top["citation"]["label"] == "para. 7"
    assert top["citation"]["page"] == 2
    view = httpx.get(f"{live_server.url}{top['citation']['url'].split('#')[0]}", timeout=30)
    assert view.status_code == 200 and 'id="para-7"' in view.text
    bad = httpx.get(f"{live_server.url}/api/search", params={"q": QUESTION, "k": 99}, timeout=30)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_k"
