"""The second stage: the shipped cross-encoder re-scores the first stage's best passages and nothing else.

The real model with the shipped reranker weights (index/data/reranker) over the real default library; what it is
worth over many questions is measured by bench/library.py (README), not here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from index.embedder import Embedder
from index.errors import ModelNotFound
from index.fusion import Fusion
from index.reranker import RERANKER_DIR, SEPARATOR, Reranker, load_reranker, pair_text, read_settings
from index.search import Hit, Searcher
from index.snapshot import Snapshot
from index.store import Store
from service.app import create_app
from service.settings import Settings

pytestmark = pytest.mark.slow

REFOULEMENT = "Can a refugee be sent back to a country where his life or freedom would be threatened?"


@pytest.fixture(scope="module")
def reranker() -> Reranker:
    return load_reranker()


@pytest.fixture(scope="module")
def snapshot(library_index: Path) -> Snapshot:
    return Snapshot.load(Store(library_index).current())


def ids(hits: list[Hit]) -> list[str]:
    return [h.passage.id for h in hits]


def test_the_shipped_settings_name_the_reranker_and_how_it_is_used() -> None:
    settings = read_settings()
    meta = json.loads((RERANKER_DIR / "adapter.json").read_text(encoding="utf-8"))
    assert settings.name == meta["name"] and settings.top == meta["top"] >= 2 and 0 < settings.weight == meta["weight"]


def test_the_pair_is_the_question_the_separator_the_context_and_the_verbatim_passage(snapshot: Snapshot) -> None:
    passage = next(p for p in snapshot.searchable if p.label == "Article 33(1)")
    text = pair_text("  Who may be expelled? ", passage, snapshot.documents[passage.document_id])
    question, rest = text.split(SEPARATOR)
    assert question == "Who may be expelled?"
    context, body = rest.split("\n", 1)
    assert "Article 33" in context and body == passage.text


def test_the_reranker_reads_the_answer_higher_than_a_passage_on_something_else(
    snapshot: Snapshot, reranker: Reranker
) -> None:
    def pair(label: str, words: str) -> str:
        passage = next(p for p in snapshot.searchable if p.label == label and words in p.text)
        return pair_text(REFOULEMENT, passage, snapshot.documents[passage.document_id])

    answer = pair("Article 33(1)", "frontiers of territories where his life or freedom would be threatened")
    other = pair("Article 17(1)", "wage-earning employment")
    scores = reranker.scores([answer, other])
    assert scores.shape == (2,) and scores.dtype == np.float32
    assert scores[0] > scores[1]
    assert reranker.scores([]).shape == (0,)


def test_it_reorders_the_first_stage_top_only_and_says_so(
    snapshot: Snapshot, embedder: Embedder, reranker: Reranker
) -> None:
    top = reranker.top
    # a re-scored search starts from the default first stage (the learned ranker), which its weight was chosen over
    first = Searcher(snapshot, embedder).search(REFOULEMENT, k=top + 5)
    second = Searcher(snapshot, embedder, reranker=reranker).search(REFOULEMENT, k=top + 5)
    assert sorted(ids(second[:top])) == sorted(ids(first[:top]))  # the same passages, re-ordered
    assert ids(second[top:]) == ids(first[top:])  # the rest keep their order and scores
    assert [h.score for h in second[top:]] == [h.score for h in first[top:]]
    scores = [h.score for h in second]
    assert scores == sorted(scores, reverse=True)  # the re-scored stay above the rest
    rank_before = {h.passage.id: h.rank for h in first}
    for hit in second[:top]:
        assert hit.cross_score is not None and hit.first_stage_rank == rank_before[hit.passage.id]
    assert all(h.cross_score is None for h in second[top:])
    crosses = np.array([h.cross_score for h in second[:top]])
    assert np.all(np.diff(np.array(scores[:top])) <= 1e-9)
    if ids(second[:top]) != ids(first[:top]):  # where the order changed, the cross scores changed it
        assert np.ptp(crosses) > 0
    assert all(h.cross_score is None and h.first_stage_rank is None for h in first)


def test_weight_zero_is_the_first_stage(snapshot: Snapshot, embedder: Embedder, reranker: Reranker) -> None:
    question = "What protection do internally displaced persons have against arbitrary displacement?"
    for fusion in (Fusion(), Fusion("convex")):  # each first stage is what a re-scored search starts from
        first = Searcher(snapshot, embedder, fusion).search(question, k=10)
        flat = Searcher(snapshot, embedder, fusion, reranker=reranker.tuned(weight=0.0)).search(question, k=10)
        assert ids(flat) == ids(first)
        assert [h.score for h in flat] == [h.score for h in first]
        assert all(h.cross_score is not None for h in flat)
    assert Fusion().method == "learned"


def test_a_question_asking_for_a_cited_unit_alone_is_not_reranked(
    snapshot: Snapshot, embedder: Embedder, reranker: Reranker
) -> None:
    hits = Searcher(snapshot, embedder, reranker=reranker).search(
        "What does Article 33 of the 1951 Convention say?", k=5
    )
    assert hits[0].passage.label.startswith("Article 33")
    assert all(h.cross_score is None and h.first_stage_rank is None for h in hits)


def test_settings_missing_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match=r"bench/train_reranker.py.*PQA_RERANK=off"):
        read_settings(tmp_path)


@pytest.fixture(scope="module")
def client(library_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    settings = Settings(index_dir=library_index, load_in_background=False, rerank=True)
    assert settings.rerank == "on"  # true reads as on, as before 'ask' existed
    with TestClient(create_app(settings, embedder=embedder)) as c:
        yield c


@pytest.fixture(scope="module")
def plain(library_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    """The service as it starts by default: no reranker loaded."""
    settings = Settings(index_dir=library_index, load_in_background=False)
    with TestClient(create_app(settings, embedder=embedder)) as c:
        yield c


def passage_ids(body: dict[str, object]) -> list[str]:
    passages = body["passages"]
    assert isinstance(passages, list)
    return [p["id"] for p in passages]


def test_the_service_reranks_when_asked_and_names_what_runs(client: TestClient, reranker: Reranker) -> None:
    ready = client.get("/readyz").json()
    assert ready["reranker"] == f"{reranker.name} on {reranker.runtime}, top {reranker.top}, weight {reranker.weight}"
    assert ready["reranker_reason"] is None and ready["rerank"] == "on"
    body = client.get("/api/search", params={"q": REFOULEMENT, "k": 3}).json()
    assert body["reranked"] is True
    explain = [p["explain"] for p in body["passages"]]
    assert all(isinstance(e["cross_score"], float) and e["first_stage_rank"] >= 1 for e in explain)


def test_a_request_can_ask_for_the_first_stage_where_every_question_is_reranked(
    client: TestClient, plain: TestClient
) -> None:
    first = client.get("/api/search", params={"q": REFOULEMENT, "k": 10, "rerank": "false"}).json()
    assert first["reranked"] is False and all(p["explain"]["cross_score"] is None for p in first["passages"])
    assert passage_ids(first) == passage_ids(plain.get("/api/search", params={"q": REFOULEMENT, "k": 10}).json())
    posted = client.post("/api/ask", json={"question": REFOULEMENT, "k": 10, "rerank": False}).json()
    assert passage_ids(posted) == passage_ids(first)


def test_reranking_is_off_by_default_and_then_the_first_stage_answers(plain: TestClient) -> None:
    assert Settings().rerank == "off" and Settings().reranker() is None
    ready = plain.get("/readyz").json()
    assert ready["reranker"] is None and ready["rerank"] == "off"
    assert ready["reranker_reason"] == "off (PQA_RERANK=ask loads it for the questions that ask for it, on for all)"
    body = plain.get("/api/search", params={"q": REFOULEMENT, "k": 3}).json()
    assert body["reranked"] is False
    assert all(p["explain"]["cross_score"] is None for p in body["passages"])


def test_asking_for_the_reranker_where_none_is_loaded_is_a_409_that_says_what_to_do(plain: TestClient) -> None:
    for response in (
        plain.get("/api/search", params={"q": REFOULEMENT, "rerank": "true"}),
        plain.post("/api/ask", json={"question": REFOULEMENT, "rerank": True}),
    ):
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "reranker_off"
        assert "PQA_RERANK=ask" in error["message"] and "leave rerank out" in error["message"]
    # what the reader can fix comes first: a document that is not indexed is a 404 before the missing reranker
    unknown = plain.get("/api/search", params={"q": REFOULEMENT, "rerank": "true", "document": "zzz"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_document"


def test_ask_mode_reranks_only_the_questions_that_ask(library_index: Path, embedder: Embedder) -> None:
    settings = Settings(index_dir=library_index, load_in_background=False, rerank="ask")
    with TestClient(create_app(settings, embedder=embedder)) as c:
        ready = c.get("/readyz").json()
        assert ready["rerank"] == "ask" and ready["reranker"] is not None
        default = c.get("/api/search", params={"q": REFOULEMENT, "k": 10}).json()
        asked = c.get("/api/search", params={"q": REFOULEMENT, "k": 10, "rerank": "true"}).json()
        posted = c.post("/api/ask", json={"question": REFOULEMENT, "k": 10, "rerank": True}).json()
        not_a_bool = c.post("/api/ask", json={"question": REFOULEMENT, "rerank": "yes"})
        metrics = c.get("/metrics").text
    assert default["reranked"] is False and all(p["explain"]["cross_score"] is None for p in default["passages"])
    assert asked["reranked"] is True and all(isinstance(p["explain"]["cross_score"], float) for p in asked["passages"])
    assert sorted(passage_ids(asked)) == sorted(passage_ids(default))  # the same ten, re-ordered by the reranker
    assert passage_ids(posted) == passage_ids(asked)
    assert not_a_bool.status_code == 422 and "rerank" in not_a_bool.json()["error"]["message"]
    assert "(send true or false)" in not_a_bool.json()["error"]["message"]
    # two questions asked for it, ten passages each; the one that did not ask cost the reranker nothing
    assert re.search(r'^pqa_reranker_info\{mode="ask",name="[^"]+",runtime="[^"]+"\} 1\.0$', metrics, re.M)
    assert re.search(r"^pqa_reranked_questions_total 2\.0$", metrics, re.M)
    assert re.search(r"^pqa_reranked_passages_total 20\.0$", metrics, re.M)
    seconds = re.search(r"^pqa_rerank_seconds_total (\S+)$", metrics, re.M)
    assert seconds is not None and float(seconds.group(1)) > 0


@pytest.mark.parametrize(
    ("given", "read"), [("true", "on"), ("1", "on"), ("FALSE", "off"), ("no", "off"), ("ask", "ask")]
)
def test_pqa_rerank_reads_the_old_booleans_and_the_three_modes(
    given: str, read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PQA_RERANK", given)
    assert Settings().rerank == read


def test_a_pqa_rerank_that_is_no_mode_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PQA_RERANK", "sometimes")
    with pytest.raises(ValidationError, match="rerank"):
        Settings()


def test_a_reranker_that_fails_to_load_leaves_the_service_answering(
    library_index: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.reranker

    def broken(*args: object, **kwargs: object) -> Reranker:
        raise ModelNotFound("the reranker's weights are damaged")

    monkeypatch.setattr(index.reranker, "load_reranker", broken)
    settings = Settings(index_dir=library_index, load_in_background=False, rerank=True)
    with TestClient(create_app(settings, embedder=embedder)) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["reranker"] is None
        assert "weights are damaged" in ready.json()["reranker_reason"]
        assert "first stage" in ready.json()["reranker_reason"]
        response = c.get("/api/search", params={"q": REFOULEMENT, "k": 3})
    assert response.status_code == 200 and len(response.json()["passages"]) == 3
