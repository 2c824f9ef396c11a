"""The README's examples are run against the real service, so they cannot drift from it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.records import citation_label
from index.search import Searcher
from index.snapshot import Snapshot
from index.store import Store
from service.app import create_app
from service.settings import Settings

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def client(paper_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(index_dir=paper_index), embedder=embedder)) as test_client:
        deadline = time.monotonic() + 60
        while test_client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield test_client


def shape(value: Any) -> Any:
    """The keys of a JSON value, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def test_the_quickstart_is_two_commands_first() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^    (make \w+)", quickstart, flags=re.MULTILINE)
    assert commands == ["make run", "make test"]
    curl = re.search(r"curl '(http://127\.0\.0\.1:8000/api/search\?[^']+)'", quickstart)
    assert curl is not None


def test_the_json_example_is_what_the_api_answers(client: TestClient) -> None:
    example = json.loads(README.split("A search answers:\n\n```json\n", 1)[1].split("```", 1)[0])
    real = client.get("/api/search", params={"q": example["query"], "k": len(example["passages"])}).json()
    assert shape(real) == shape(example)
    for shown, answered in zip(example["passages"], real["passages"], strict=True):
        assert answered["citation"] == shown["citation"]
        assert answered["citation_text"] == shown["citation_text"]
        assert answered["id"] == shown["id"]
        assert answered["text"].startswith(shown["text"].removesuffix("..."))
        assert answered["highlight"] == shown["highlight"]
    assert real["index"]["passages"] == example["index"]["passages"]


def test_the_cli_example_gives_the_citation_shown(paper_index: Path, embedder: Embedder) -> None:
    match = re.search(r'\$ \.venv/bin/pqa ask "([^"]+)" --k 1\n    1\. (.+?)  \(score', README)
    assert match is not None
    question, shown = match.groups()
    hit = Searcher(Snapshot.load(Store(paper_index).current()), embedder).search(question, k=1)[0]
    assert citation_label(hit.passage, hit.document.title) == shown


def test_every_setting_is_in_the_readme() -> None:
    documented = set(re.findall(r"`(PQA_[A-Z_]+)`", README))
    fields = {f"PQA_{name.upper()}" for name in Settings.model_fields if name != "test_pause_at"}
    assert fields - documented == set(), "settings missing from the README's table"
    assert documented - fields - {"PQA_TEST_PAUSE_AT"} == set(), "the README names settings that do not exist"
