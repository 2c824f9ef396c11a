"""A live `pqa serve` picks up new generations by itself while it keeps answering: a client queries it in a
loop (127.0.0.1, bounded) while `pqa ingest`, `POST /api/reindex` or `--watch` re-index, and no request fails.

Each test prints what it measured (run with -s): requests answered, failures, and the time from the
file change to the first answer from the new generation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index.embedder import Embedder
from index.store import Store
from service.reindex import ingest

from .conftest import PAPER_ID, LiveServer
from .reindex_support import QueryLoop, edit_paragraph_7, make_corpus, run_pqa, served_generation, wait_until

pytestmark = pytest.mark.slow

TOKEN = "live-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def serve(root: Path, embedder: Embedder, watch: bool) -> Iterator[tuple[LiveServer, Path, Path]]:
    corpus, index = make_corpus(root / "corpus"), root / "index"
    report = ingest([corpus], Store(index), lambda: embedder)
    assert report.generation is not None
    env = {
        "PQA_RELOAD_INTERVAL": "0.5",
        "PQA_ADMIN_TOKEN": TOKEN,
        "PQA_WATCH_DEBOUNCE": "1.0",
        "PQA_RATE_LIMIT": "0",  # the query loop is one client asking fast; this is not a rate-limit test
    }
    server = LiveServer(index, ["--corpus", str(corpus), *(["--watch"] if watch else [])], env=env)
    try:
        server.wait_ready(timeout=240)
        yield server, corpus, index
    finally:
        log = server.output()
        server.stop()
        assert "Traceback" not in log, log[-4000:]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[LiveServer, Path, Path]]:
    yield from serve(tmp_path_factory.mktemp("live"), embedder, watch=False)


@pytest.fixture(scope="module")
def watching(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[LiveServer, Path, Path]]:
    yield from serve(tmp_path_factory.mktemp("watching"), embedder, watch=True)


def warm(loop: QueryLoop) -> str:
    wait_until(lambda: loop.ok >= 5, 60, "the server answers")
    return loop.seen[-1][1]


def measured(what: str, loop: QueryLoop, changed_at: float, served_at: float, extra: str = "") -> None:
    print(
        f"\n[{what}] requests answered: {loop.ok}, failed: {len(loop.failures)}, "
        f"file change -> new generation served: {served_at - changed_at:.2f} s{extra}"
    )


def test_pqa_ingest_while_serving_swaps_generations_with_zero_failed_requests(
    live: tuple[LiveServer, Path, Path],
) -> None:
    server, corpus, index = live
    with QueryLoop(server.url) as loop:
        old = warm(loop)
        edit_paragraph_7(corpus, "Its protection work also reaches stateless persons.")
        changed_at = time.monotonic()
        result = run_pqa(["ingest", str(corpus), "--index", str(index), "--json"], timeout=300)
        ingested_at = time.monotonic()
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads(result.stdout)
        assert report["updated"] == [PAPER_ID] and report["passages_re_embedded"] == 1
        served_at = loop.wait_for_generation(report["generation"], timeout=30)
        answered = loop.ok
        wait_until(lambda: loop.ok >= answered + 5, 30, "answers from the new generation")
    assert loop.failures == []
    assert [generation for _, generation in loop.seen] == [old, report["generation"]]
    assert loop.ok >= 20
    measured(
        "pqa ingest",
        loop,
        changed_at,
        served_at,
        f" (pqa ingest took {ingested_at - changed_at:.1f} s, served {served_at - ingested_at:.2f} s after it exited)",
    )


def test_post_api_reindex_while_serving_swaps_generations_with_zero_failed_requests(
    live: tuple[LiveServer, Path, Path],
) -> None:
    server, corpus, _ = live
    with QueryLoop(server.url) as loop:
        old = warm(loop)
        assert httpx.post(f"{server.url}/api/reindex", timeout=10).status_code == 401
        wrong = httpx.post(f"{server.url}/api/reindex", headers={"Authorization": "Bearer nope"}, timeout=10)
        assert wrong.status_code == 403
        edit_paragraph_7(corpus, "Consular law is also relevant to it.")
        changed_at = time.monotonic()
        response = httpx.post(f"{server.url}/api/reindex", headers=ADMIN, timeout=10)
        assert response.status_code == 202
        location = f"{server.url}{response.headers['Location']}"
        deadline = time.monotonic() + 180
        while (job := httpx.get(location, headers=ADMIN, timeout=10).json())["state"] == "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["state"] == "done" and job["result"] == "swapped", job
        assert job["served"] == job["report"]["generation"] != old
        served_at = loop.wait_for_generation(job["report"]["generation"], timeout=30)
        answered = loop.ok
        wait_until(lambda: loop.ok >= answered + 5, 30, "answers from the new generation")
    assert loop.failures == []
    assert [generation for _, generation in loop.seen] == [old, job["report"]["generation"]]
    measured("POST /api/reindex", loop, changed_at, served_at)


def test_serve_watch_reindexes_a_burst_of_saves_once_with_zero_failed_requests(
    watching: tuple[LiveServer, Path, Path],
) -> None:
    server, corpus, _ = watching
    with QueryLoop(server.url) as loop:
        old = warm(loop)
        for i in range(5):
            edit_paragraph_7(corpus, f"Watched revision {i}.")
            time.sleep(0.2)
        changed_at = time.monotonic()
        wait_until(lambda: loop.seen[-1][1] != old, 120, "a new generation is served")
        served_at, new = loop.seen[-1]
        time.sleep(4)  # well past another debounce period: a second job would have started by now
        answered = loop.ok
        wait_until(lambda: loop.ok >= answered + 5, 30, "answers from the new generation")
    assert loop.failures == []
    assert [generation for _, generation in loop.seen] == [old, new]
    jobs = httpx.get(f"{server.url}/api/reindex", headers=ADMIN, timeout=10).json()["jobs"]
    assert [(j["trigger"], j["state"], j["result"]) for j in jobs] == [("watch", "done", "swapped")]
    assert jobs[0]["report"]["generation"] == new and jobs[0]["report"]["updated"] == [PAPER_ID]
    top = httpx.get(f"{server.url}/api/search", params={"q": "Watched revision", "k": 1}, timeout=30).json()
    assert top["passages"][0]["id"] == f"{PAPER_ID}#para-7"
    assert "Watched revision 0. Watched revision 1." in top["passages"][0]["text"]
    assert top["passages"][0]["text"].count("Watched revision") == 5  # all five saves, in one generation
    assert served_generation(server.url) == new
    measured("pqa serve --watch", loop, changed_at, served_at, " (after the last of 5 saves, debounce 1.0 s)")
