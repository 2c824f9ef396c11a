"""One way to answer a question: `pqa ask --json` prints the body the HTTP route returns, and refuses alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.store import Store
from service.answer import InvalidQuestion, QuestionLimits
from service.app import create_app
from service.reindex import ingest
from service.settings import Settings

from .conftest import ROOT

# took_ms is the one timing in the body: each side measures its own search.
TIMINGS = ("took_ms",)
# Limits other than the defaults, set the same on both sides: the settings' limits are the ones applied.
LIMITS = {"max_k": 4, "default_k": 3}
LIMITS_ENV = {"PQA_MAX_K": "4", "PQA_DEFAULT_K": "3"}

SHELTER = """# Shelter Guidance Note

1. Shelter is provided to displaced families within seventy-two hours of their arrival at a transit site.

2. Each family receives a tent, blankets and a cooking set, and children under five receive winter clothing.

3. Camp managers consult women and girls about where latrines and water points are placed, so they are safe at night.
"""

RETURNS = """# Voluntary Return Note

1. Return is voluntary only when the person has accurate information about conditions in the place of origin.

2. Assistance with return includes transport, a reintegration grant and referral to local services.
"""


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    corpus = tmp_path_factory.mktemp("answer-corpus")
    (corpus / "shelter-note.md").write_text(SHELTER)
    (corpus / "return-note.md").write_text(RETURNS)
    folder = tmp_path_factory.mktemp("answer-index")
    report = ingest([corpus], Store(folder), lambda: embedder)
    assert report.generation is not None and not report.failures, report.failures
    return folder


def pqa_ask(index: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "ask", *args, "--index", str(index)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )


@pytest.fixture(scope="module")
def client(small_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    app = create_app(Settings(index_dir=small_index, load_in_background=False, **LIMITS), embedder=embedder)
    with TestClient(app) as test_client:
        yield test_client


def without_timings(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name not in TIMINGS}


@pytest.mark.parametrize(
    ("question", "extra", "request_body"),
    [
        ("How fast do displaced families get shelter?", ["--k", "2"], {"k": 2}),
        (
            "  What does assistance with return include?  ",
            ["--document", "return-note", "--kind", "paragraph"],
            {"document": ["return-note"], "kind": ["paragraph"]},
        ),
        ("Who regulates offshore cryptocurrency exchanges?", [], {}),
    ],
)
def test_pqa_ask_json_is_the_http_body(
    client: TestClient, small_index: Path, question: str, extra: list[str], request_body: dict[str, Any]
) -> None:
    http = client.post("/api/ask", json={"question": question, **request_body})
    assert http.status_code == 200, http.text
    cli = pqa_ask(small_index, question, "--json", *extra, env=LIMITS_ENV)
    assert cli.returncode == 0, cli.stderr
    printed, served = json.loads(cli.stdout), http.json()
    assert set(printed) == set(served) and set(TIMINGS) <= set(served)
    assert without_timings(printed) == without_timings(served)
    assert served["passages"], "the question must find passages, or the comparison says little"
    # the same serialisation: the bytes differ only where the timing is written
    took = f'"took_ms":{served["took_ms"]}'
    assert cli.stdout.strip().replace(f'"took_ms":{printed["took_ms"]}', took) == http.text


@pytest.mark.parametrize(
    ("question", "k", "code", "message"),
    [
        ("   ", None, "invalid_query", "the question is empty"),
        ("x" * 1001, None, "invalid_query", "the question is 1001 characters long; the limit is 1000"),
        ("shelter", 5, "invalid_k", "k must be between 1 and 4, got 5"),  # PQA_MAX_K=4 on both sides
        ("shelter", 0, "invalid_k", "k must be between 1 and 4, got 0"),
    ],
)
def test_a_bad_question_is_refused_with_the_same_message(
    client: TestClient, small_index: Path, question: str, k: int | None, code: str, message: str
) -> None:
    http = client.post("/api/ask", json={"question": question, "k": k})
    assert http.status_code == 422
    error = http.json()["error"]
    assert error["code"] == code and message in error["message"]
    cli = pqa_ask(small_index, question, *(["--k", str(k)] if k is not None else []), env=LIMITS_ENV)
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"pqa: error: {error['message']}"
    assert cli.stdout == ""
    as_json = pqa_ask(small_index, question, "--json", *(["--k", str(k)] if k is not None else []), env=LIMITS_ENV)
    assert as_json.returncode == 2 and as_json.stdout.strip() == http.text  # the body HTTP answers with


def test_an_unknown_document_is_404_over_http_and_a_usage_error_with_the_same_body_in_pqa_ask(
    client: TestClient, small_index: Path
) -> None:
    http = client.post("/api/ask", json={"question": "shelter", "document": ["nope"]})
    assert http.status_code == 404 and http.json()["error"]["code"] == "unknown_document"
    cli = pqa_ask(small_index, "shelter", "--document", "nope", "--json", env=LIMITS_ENV)
    assert cli.returncode == 2, cli.stderr
    assert cli.stdout.strip() == http.text
    assert cli.stderr.strip().splitlines()[-1] == f"pqa: error: {http.json()['error']['message']}"


def test_the_limits_come_from_the_settings() -> None:
    limits = QuestionLimits.of(Settings(max_query_chars=10, max_k=3, default_k=2))
    assert limits.check("  shelter  ", None) == ("shelter", 2)
    with pytest.raises(InvalidQuestion, match="the limit is 10") as long:
        limits.check("x" * 11, 1)
    assert long.value.code == "invalid_query"
    with pytest.raises(InvalidQuestion, match="between 1 and 3, got 4") as many:
        limits.check("shelter", 4)
    assert many.value.code == "invalid_k"
