"""POST /api/reindex and GET /api/reindex/{job} through the real app and lifespan (plumbing: the fake model).

The fake model can be held inside `embed_documents`, which keeps a job running for as long as a test
needs it to (to see its progress and the 409 a second request gets), without any timing guesswork.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.store import Store
from service.app import create_app
from service.reindex import ingest
from service.settings import Settings

from .conftest import PAPER_ID, FakeEmbedder
from .reindex_support import NOTE_ID, edit_paragraph_7, make_corpus

TOKEN = "s3cret-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


class HeldEmbedder(FakeEmbedder):
    """The fake model, whose `embed_documents` waits while `hold` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = threading.Event()
        self.release = threading.Event()
        self.entered = threading.Event()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if self.hold.is_set():
            self.entered.set()
            assert self.release.wait(30), "the test never released the model"
        return super().embed_documents(texts)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    corpus = make_corpus(tmp_path / "corpus")
    fake = FakeEmbedder()
    ingest([corpus], Store(tmp_path / "index"), lambda: fake, model_name=fake.name)
    return corpus


def app_client(tmp_path: Path, embedder: FakeEmbedder, **settings: Any) -> TestClient:
    values = {"index_dir": tmp_path / "index", "reload_interval": 0.2, "load_in_background": False, **settings}
    return TestClient(create_app(Settings(**values), embedder=embedder))


@pytest.fixture
def held() -> HeldEmbedder:
    return HeldEmbedder()


@pytest.fixture
def client(tmp_path: Path, corpus: Path, held: HeldEmbedder) -> Iterator[TestClient]:
    with app_client(tmp_path, held, corpus=[corpus], admin_token=TOKEN) as test_client:
        yield test_client


def finished(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        job = client.get(f"/api/reindex/{job_id}", headers=ADMIN).json()
        if job["state"] != "running":
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"job still running after 30 s: {job}"
        time.sleep(0.05)


def test_without_a_configured_token_reindexing_is_disabled(tmp_path: Path, corpus: Path) -> None:
    with app_client(tmp_path, FakeEmbedder(), corpus=[corpus]) as client:
        for headers in ({}, ADMIN, {"Authorization": "Bearer "}):
            response = client.post("/api/reindex", headers=headers)
            assert response.status_code == 403
            error = response.json()["error"]
            assert error["code"] == "admin_disabled" and "PQA_ADMIN_TOKEN" in error["message"]
        assert client.get("/api/reindex/abc", headers=ADMIN).json()["error"]["code"] == "admin_disabled"
        assert client.get("/api/reindex", headers=ADMIN).status_code == 403


def test_no_token_is_401_and_a_wrong_one_is_403(client: TestClient) -> None:
    for headers in ({}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"}):
        response = client.post("/api/reindex", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "Authorization: Bearer" in response.json()["error"]["message"]
    for token in ("wrong", TOKEN + "x", TOKEN[:-1]):
        response = client.post("/api/reindex", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert client.get("/api/reindex").status_code == 401
    assert client.get("/api/reindex", headers=ADMIN).json() == {"jobs": []}  # nothing was started


def test_a_job_runs_in_the_background_reports_progress_and_a_second_one_gets_409(
    client: TestClient, corpus: Path, held: HeldEmbedder
) -> None:
    before = client.get("/readyz").json()["generation"]
    edit_paragraph_7(corpus, "Protection also reaches stateless persons.")
    held.hold.set()
    response = client.post("/api/reindex", headers=ADMIN)
    assert response.status_code == 202
    job = response.json()
    assert response.headers["Location"] == f"/api/reindex/{job['id']}"
    assert job["state"] == "running" and job["trigger"] == "api"
    assert held.entered.wait(30)

    running = client.get(f"/api/reindex/{job['id']}", headers=ADMIN).json()
    assert running["state"] == "running" and running["stage"] == "embedding passages"
    assert running["total"] >= 1 and running["report"] is None
    second = client.post("/api/reindex", headers=ADMIN)
    assert second.status_code == 409
    assert job["id"] in second.json()["error"]["message"] and second.json()["error"]["code"] == "reindex_running"
    assert client.get("/api/documents").json()["index"]["generation"] == before  # the old one serves meanwhile

    held.release.set()
    done = finished(client, job["id"])
    assert done["state"] == "done" and done["result"] == "swapped" and done["error"] is None
    report = done["report"]
    assert report["updated"] == [PAPER_ID] and report["unchanged"] == [NOTE_ID]
    assert report["passages_re_embedded"] == 1 and report["previous"] == before
    assert done["served"] == report["generation"] == client.get("/readyz").json()["generation"]
    hits = client.get("/api/search", params={"q": "stateless persons", "k": 1}).json()["passages"]
    assert hits[0]["id"] == f"{PAPER_ID}#para-7"

    held.hold.clear()
    again = client.post("/api/reindex", headers=ADMIN)
    assert again.status_code == 202  # the first one is over
    unchanged = finished(client, again.json()["id"])
    assert unchanged["result"] == "unchanged" and unchanged["report"]["generation"] is None
    listed = client.get("/api/reindex", headers=ADMIN).json()["jobs"]
    assert [j["id"] for j in listed] == [again.json()["id"], job["id"]]
    missing = client.get("/api/reindex/nope", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"


def test_a_job_over_a_corpus_that_is_gone_or_empty_loses_nothing(tmp_path: Path, corpus: Path) -> None:
    with app_client(tmp_path, FakeEmbedder(), corpus=[corpus], admin_token=TOKEN) as client:
        before = client.get("/readyz").json()["generation"]
        corpus.rename(tmp_path / "moved-away")  # an unmounted volume
        job = finished(client, client.post("/api/reindex", headers=ADMIN).json()["id"])
        assert job["state"] == "done" and job["result"] == "unchanged"
        assert "no such file or folder" in job["report"]["failures"][0]["reason"]
        assert sorted(job["report"]["kept_previous_version"]) == [NOTE_ID, PAPER_ID]

        corpus.mkdir()  # mounted, but empty
        job = finished(client, client.post("/api/reindex", headers=ADMIN).json()["id"])
        assert job["state"] == "failed" and job["report"] is None
        assert "found no documents to index" in job["error"] and "--force" in job["error"]
        assert job["served"] == before
        assert len(client.get("/api/documents").json()["documents"]) == 2


def reindex_runs(client: TestClient) -> dict[str, float]:
    """pqa_reindex_runs_total by result, from /metrics over HTTP."""
    runs = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith('pqa_reindex_runs_total{result="'):
            labels, _, value = line.rpartition(" ")
            runs[labels.split('"')[1]] = float(value)
    return runs


def test_each_run_is_counted_in_the_metrics_by_the_result_the_job_reports(tmp_path: Path, corpus: Path) -> None:
    with app_client(tmp_path, FakeEmbedder(), corpus=[corpus], admin_token=TOKEN) as client:
        assert reindex_runs(client) == {}
        edit_paragraph_7(corpus, "Protection also reaches stateless persons.")
        results = []
        for _ in range(2):
            results.append(finished(client, client.post("/api/reindex", headers=ADMIN).json()["id"])["result"])
        assert results == ["swapped", "unchanged"]
        assert reindex_runs(client) == {"swapped": 1.0, "unchanged": 1.0}

        shutil.rmtree(corpus)
        corpus.mkdir()  # mounted, but empty: the job fails
        assert finished(client, client.post("/api/reindex", headers=ADMIN).json()["id"])["state"] == "failed"
        assert reindex_runs(client) == {"swapped": 1.0, "unchanged": 1.0, "failed": 1.0}
        help_line = next(line for line in client.get("/metrics").text.splitlines() if "HELP pqa_reindex_runs" in line)
        assert all(result in help_line for result in ("swapped", "unchanged", "rejected", "failed")), help_line


def test_a_job_reports_a_copy_as_skipped_not_failed(tmp_path: Path, corpus: Path) -> None:
    shutil.copy(corpus / f"{NOTE_ID}.md", corpus / "note-copy.md")
    with app_client(tmp_path, FakeEmbedder(), corpus=[corpus], admin_token=TOKEN) as client:
        job = finished(client, client.post("/api/reindex", headers=ADMIN).json()["id"])
        assert job["state"] == "done" and job["result"] == "unchanged"
        assert job["report"]["failures"] == []
        assert job["report"]["skipped"] == [
            {
                "path": str(corpus / "note-copy.md"),
                "reason": f"the same file as {corpus / NOTE_ID}.md (its bytes and its metadata), indexed once, "
                "from that one",
            }
        ]
