"""Input the service refuses with a 4xx that says what is wrong, through the real app: questions with no word in them,
empty filters and bodies that are not declared JSON; and what it must still answer (letters of any script, digits)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from service.app import create_app
from service.cli import main
from service.settings import Settings

from .conftest import PAPER_ID
from .test_api import wait_ready

QUESTION = "How does IOM define protection?"
NO_WORD = [
    "?!.,;:",
    "...",
    "\x01\x02\x03\x07\x1b",  # control characters
    "\u200b\u200b",  # zero-width spaces, which strip() keeps
    " ¿? — «» ",
    "\u0301",  # a combining accent alone
    "💡🔍",
]
WORDS = [
    "Article 33?",
    "1951",
    "Qu'est-ce que la protection des réfugiés ?",
    "ما هي حماية اللاجئين؟",
    "难民保护是什么？",
    "शरणार्थी",
    "IDP\u200b",
]


@pytest.fixture(scope="module")
def client(paper_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(index_dir=paper_index, rate_limit=0), embedder=embedder)) as test_client:
        wait_ready(test_client)
        yield test_client


def both_routes(client: TestClient, question: str, **filters: list[str]) -> list[httpx.Response]:
    """The same question (and filters) by GET /api/search and POST /api/ask."""
    body: dict[str, object] = {"question": question, "k": 3, **filters}
    return [client.get("/api/search", params={"q": question, "k": 3, **filters}), client.post("/api/ask", json=body)]


def assert_error(response: httpx.Response, status: int, code: str, fragment: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and fragment in error["message"], error
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("question", NO_WORD)
def test_a_question_with_no_letter_or_digit_gets_a_422_saying_so(client: TestClient, question: str) -> None:
    for response in both_routes(client, question):
        assert_error(response, 422, "invalid_query", "the question has no letter or digit")


@pytest.mark.parametrize("encoded", ["%3F%21.%2C%3B%3A", "...", "%01%02%03%07%1b", "%E2%80%8B%E2%80%8B"])
def test_the_testers_query_strings_get_the_422(client: TestClient, encoded: str) -> None:
    assert_error(client.get(f"/api/search?q={encoded}"), 422, "invalid_query", "no word to search for")


@pytest.mark.parametrize("question", WORDS)
def test_a_question_with_a_letter_or_digit_in_any_script_is_answered(client: TestClient, question: str) -> None:
    for response in both_routes(client, question):
        assert response.status_code == 200, response.text
        assert len(response.json()["passages"]) == 3


def test_white_space_alone_is_still_called_empty(client: TestClient) -> None:
    for response in both_routes(client, " \t\n"):
        assert_error(response, 422, "invalid_query", "the question is empty")


def test_pqa_ask_refuses_a_question_with_no_word_as_a_usage_error(
    paper_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "?!.,;:", "--index", str(paper_index)]) == 2
    assert "the question has no letter or digit" in capsys.readouterr().err


def test_pqa_ask_refuses_a_kind_that_is_never_searched(paper_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "protection", "--kind", "form", "--index", str(paper_index)]) == 2
    err = capsys.readouterr().err
    assert "kind 'form' is never searched: form passages are set aside" in err
    assert "expected one of paragraph, footnote, article, list-item, text" in err


@pytest.mark.parametrize(
    ("filters", "status", "code", "fragment"),
    [
        ({"document": [""]}, 404, "unknown_document", "a document filter is empty"),
        ({"document": [PAPER_ID, ""]}, 404, "unknown_document", "a document filter is empty"),
        ({"kind": [""]}, 422, "invalid_query", "a kind filter is empty; expected one of paragraph"),
        ({"kind": ["footnote", ""]}, 422, "invalid_query", "a kind filter is empty"),
    ],
)
def test_an_empty_filter_is_refused_not_dropped(
    client: TestClient, filters: dict[str, list[str]], status: int, code: str, fragment: str
) -> None:
    for response in both_routes(client, "refugee", **filters):
        assert_error(response, status, code, fragment)


def test_the_testers_empty_filters_in_a_query_string(client: TestClient) -> None:
    assert_error(client.get("/api/search?q=refugee&document="), 404, "unknown_document", "document filter is empty")
    assert_error(client.get("/api/search?q=refugee&kind="), 422, "invalid_query", "kind filter is empty")


def test_no_filter_or_an_empty_list_still_searches_everything(client: TestClient) -> None:
    assert client.get("/api/search", params={"q": "refugee"}).status_code == 200
    for body in ({"question": "refugee"}, {"question": "refugee", "document": [], "kind": []}):
        response = client.post("/api/ask", json=body)
        assert response.status_code == 200 and response.json()["passages"], response.text


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain; charset=utf-8", "multipart/form-data; boundary=x"],
)
def test_a_body_not_declared_json_gets_415_saying_what_to_send(client: TestClient, content_type: str) -> None:
    response = client.post("/api/ask", content=b'{"question":"refugee"}', headers={"content-type": content_type})
    assert_error(response, 415, "unsupported_media_type", "send e.g. {")
    message = response.json()["error"]["message"]
    assert content_type.partition(";")[0] in message and "Content-Type: application/json" in message


def test_a_body_with_no_content_type_gets_the_415_too(client: TestClient) -> None:
    response = client.post("/api/ask", content=b'{"question":"refugee"}')  # requests.post(data=...) sends this
    assert_error(response, 415, "unsupported_media_type", "sent without a Content-Type, not as JSON")


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_a_body_declared_json_is_answered(client: TestClient, content_type: str) -> None:
    response = client.post("/api/ask", content=b'{"question":"refugee","k":2}', headers={"content-type": content_type})
    assert response.status_code == 200 and len(response.json()["passages"]) == 2, response.text


def test_the_schema_documents_the_letter_or_digit_rule_and_the_415(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    q = next(p for p in schema["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q")
    question = schema["components"]["schemas"]["AskRequest"]["properties"]["question"]
    for documented in (q["schema"], question):
        assert documented["not"] == {"pattern": r"^[^\p{L}\p{N}]*$"} and documented["maxLength"] == 1000
    assert "415" in schema["paths"]["/api/ask"]["post"]["responses"]


@pytest.fixture(scope="module")
def limited(paper_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    """The service with small limits, as the tester ran it (PQA_MAX_QUERY_CHARS=20, PQA_MAX_K=10)."""
    settings = Settings(index_dir=paper_index, rate_limit=0, max_query_chars=20, max_k=10)
    with TestClient(create_app(settings, embedder=embedder)) as test_client:
        wait_ready(test_client)
        yield test_client


@pytest.mark.parametrize(
    ("question", "k", "code", "message"),
    [
        ("x" * 21, 3, "invalid_query", "the question is 21 characters long; the limit is 20 (PQA_MAX_QUERY_CHARS)"),
        ("refugee", 11, "invalid_k", "k must be between 1 and 10, got 11 (PQA_MAX_K)"),
    ],
)
def test_a_limit_names_the_setting_that_sets_it(
    limited: TestClient, question: str, k: int, code: str, message: str
) -> None:
    """As the 413, 429 and 408 do ("(PQA_MAX_BODY_BYTES)"): the operator knows which setting to raise."""
    responses = [
        limited.get("/api/search", params={"q": question, "k": k}),
        limited.post("/api/ask", json={"question": question, "k": k}),
    ]
    for response in responses:
        assert_error(response, 422, code, message)
        assert response.json()["error"]["message"] == message


def test_pqa_ask_names_the_limit_too(
    paper_index: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PQA_MAX_K", "10")
    assert main(["ask", "refugee", "--k", "11", "--index", str(paper_index)]) == 2
    assert capsys.readouterr().err.strip() == "pqa: error: k must be between 1 and 10, got 11 (PQA_MAX_K)"
    monkeypatch.setenv("PQA_MAX_QUERY_CHARS", "20")
    assert main(["ask", "x" * 21, "--index", str(paper_index)]) == 2
    expected = "pqa: error: the question is 21 characters long; the limit is 20 (PQA_MAX_QUERY_CHARS)"
    assert capsys.readouterr().err.strip() == expected


SEND = 'send e.g. {"question": "How does IOM define protection?", "k": 3} with Content-Type: application/json'


@pytest.mark.parametrize(
    ("sent", "headers", "problem"),
    [
        (b'{"question": "refugee" "k": 3}', {"content-type": "application/json"}, "the body is not valid JSON ("),
        (b'{"question": "refugee", "k": 3', {"content-type": "application/json"}, "the body is not valid JSON ("),
        (b"question=refugee", {"content-type": "application/json"}, "the body is not valid JSON ("),
        (b"", {"content-type": "application/json"}, "the body is empty; "),
        (b"", {}, "the body is empty; "),
        (b'{"question": "\xff refugee"}', {"content-type": "application/json"}, "the body is not JSON in UTF-8"),
    ],
    ids=["missing-comma", "truncated", "a-form", "empty", "empty-no-content-type", "not-utf8"],
)
def test_a_body_that_is_not_json_gets_the_400_saying_what_to_send(
    client: TestClient, sent: bytes, headers: dict[str, str], problem: str
) -> None:
    """Before: a 422 "0: JSON decode error", or "request: Field required" for an empty body."""
    response = client.post("/api/ask", content=sent, headers=headers)
    assert_error(response, 400, "invalid_json", problem)
    assert response.json()["error"]["message"].endswith(SEND)


def test_the_malformed_json_400_says_where(client: TestClient) -> None:
    sent = b'{"question": "refugee" "k": 3}'
    response = client.post("/api/ask", content=sent, headers={"content-type": "application/json"})
    assert response.json()["error"]["message"] == (
        f"the body is not valid JSON (Expecting ',' delimiter at character 23); {SEND}"
    )


def test_json_that_is_not_the_request_still_gets_the_422_naming_the_field(client: TestClient) -> None:
    for sent, field in ((b"{}", "question: Field required"), (b'{"question": "x", "k": "3"}', "k: ")):
        response = client.post("/api/ask", content=sent, headers={"content-type": "application/json"})
        assert_error(response, 422, "invalid_request", field)
