"""Text that is not valid Unicode, control characters and very long words: a clear 422 or an answer, never a 5xx,
and never a failure for anyone else.

JSON's "\\ud800" escape gives the server a lone surrogate, which the tokenizer refuses; a query string cannot
carry one (the server decodes it as UTF-8 with replacement), so the GET tests send its UTF-8-like bytes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.embedder import Embedder
from service.app import create_app
from service.settings import Settings

from .conftest import PAPER_ID, LiveServer
from .test_api import wait_ready

QUESTION = "How does IOM define protection?"
SURROGATES = ["protection \ud800", "\udc00", "IDP \udfff returns", "\ud83d alone"]


@pytest.fixture(scope="module")
def client(paper_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(index_dir=paper_index, rate_limit=0), embedder=embedder)) as test_client:
        wait_ready(test_client)
        yield test_client


def ask_raw(client: TestClient, body: dict[str, object]) -> httpx.Response:
    """POST a JSON body written with ASCII escapes, the way a client puts a lone surrogate on the wire."""
    return client.post("/api/ask", content=json.dumps(body).encode(), headers={"content-type": "application/json"})


def search_raw(client: TestClient, text: str, **params: str) -> httpx.Response:
    query = quote(text.encode("utf-8", "surrogatepass"), safe="")
    extra = "".join(f"&{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in params.items())
    return client.get(f"/api/search?q={query}{extra}")


@pytest.mark.parametrize("question", SURROGATES)
def test_a_question_that_is_not_valid_unicode_gets_a_422_saying_so(client: TestClient, question: str) -> None:
    response = ask_raw(client, {"question": question})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_query"
    assert "not valid Unicode" in error["message"] and "UTF-8" in error["message"]
    assert response.headers["x-request-id"] and "script-src 'self'" in response.headers["content-security-policy"]


def test_filters_and_field_names_that_are_not_valid_unicode_get_a_4xx_in_the_error_shape(client: TestClient) -> None:
    unknown = ask_raw(client, {"question": QUESTION, "document": ["doc \ud800"]})
    assert unknown.status_code == 404 and "\\ud800" in unknown.json()["error"]["message"]
    extra = ask_raw(client, {"question": QUESTION, "k\udc00": 3})
    assert extra.status_code == 422 and extra.json()["error"]["code"] == "invalid_request"
    encoded = search_raw(client, "protection \ud800")  # a surrogate's bytes in a query string are not UTF-8
    assert encoded.status_code == 422 and "not valid UTF-8" in encoded.json()["error"]["message"]


# Arbitrary text, built from pieces so that the rare kinds come up often: words of the corpus, any character
# Python allows, lone surrogates, control and format characters, and words hundreds of characters long.
ANY_CHARACTER = st.characters(exclude_categories=())
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
CONTROL = st.characters(categories=["Cc", "Cf", "Zl", "Zp"])
LONG_WORD = st.builds(lambda c, n: c * n, st.one_of(ANY_CHARACTER, st.just("a")), st.integers(50, 400))
PIECE = st.one_of(st.sampled_from(["protection", " ", "IDP", QUESTION]), ANY_CHARACTER, SURROGATE, CONTROL, LONG_WORD)
TEXTS = st.lists(PIECE, max_size=12).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS, document=st.one_of(st.none(), st.just(PAPER_ID), st.lists(PIECE, max_size=3).map("".join)))
def test_arbitrary_text_never_gets_a_server_error(client: TestClient, text: str, document: str | None) -> None:
    body: dict[str, object] = {"question": text, "k": 3}
    if document is not None:
        body["document"] = [document]
    for response in (ask_raw(client, body), search_raw(client, text, **({"document": document} if document else {}))):
        assert response.status_code < 500, response.text
        assert response.status_code in (200, 404, 413, 422), response.text
        if response.status_code != 200:
            assert set(response.json()["error"]) == {"code", "message"}


def test_one_client_sending_bad_text_fails_no_other_client(live_server: LiveServer) -> None:
    """One client asks with a lone surrogate in a loop; 8 others search meanwhile: every search is answered."""
    stop = threading.Event()
    bad_statuses: list[int] = []
    failures: list[str] = []
    answered = [0]

    def poison() -> None:
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            while not stop.is_set():
                body = json.dumps({"question": "protection \ud800"}).encode()
                bad_statuses.append(
                    http.post("/api/ask", content=body, headers={"content-type": "application/json"}).status_code
                )

    def search(n: int) -> None:
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            while not stop.is_set():
                try:
                    response = http.get("/api/search", params={"q": f"{QUESTION} {n}", "k": 3})
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                    else:
                        answered[0] += 1
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    threads = [threading.Thread(target=poison), *(threading.Thread(target=search, args=(n,)) for n in range(8))]
    for thread in threads:
        thread.start()
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert answered[0] >= 40, "the searchers were answered throughout"
    assert len(bad_statuses) >= 10 and set(bad_statuses) == {422}
