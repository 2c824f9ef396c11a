"""Safety with real processes: kill -9 of `pqa ingest` at known points, two writers at once, corrupt generations.

Where a writer is killed: `PQA_TEST_PAUSE_AT` (an explicit, off-by-default test hook, see
service.reindex.pausing) makes `pqa ingest` print its pid and sleep at one point of its run, and the
test kills it there with SIGKILL. Timing alone cannot hit "files written but not sealed" on a corpus
this small (the write takes milliseconds), and a slow large corpus would still leave the point to chance.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.manifest import MANIFEST
from index.snapshot import DENSE
from index.store import Store
from service.app import create_app
from service.reindex import ingest
from service.settings import Settings

from .conftest import PAPER_ID, FakeEmbedder, LiveServer
from .reindex_support import (
    Pqa,
    copy_generation,
    edit_paragraph_7,
    leftovers,
    make_corpus,
    point_at,
    run_pqa,
    served_generation,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[LiveServer, Path, Store]]:
    """A live `pqa serve` over an index of a two-document corpus; tests re-index and damage that index."""
    root = tmp_path_factory.mktemp("safety")
    corpus, store = make_corpus(root / "corpus"), Store(root / "index")
    assert ingest([corpus], store, lambda: embedder).generation is not None
    server = LiveServer(store.root, env={"PQA_RELOAD_INTERVAL": "0.5", "PQA_RATE_LIMIT": "0"})
    try:
        server.wait_ready(timeout=240)
        yield server, corpus, store
    finally:
        server.stop()


def still_answers_from(server: LiveServer, generation: str | None) -> None:
    """The service answers, from `generation`, after having had time to notice any change."""
    time.sleep(1.5)  # three reload intervals
    response = httpx.get(f"{server.url}/api/search", params={"q": "How does IOM define protection?"}, timeout=30)
    assert response.status_code == 200 and response.json()["passages"]
    assert response.json()["index"]["generation"] == generation
    assert served_generation(server.url) == generation


def serves_marker(server: LiveServer, generation: str, marker: str) -> None:
    wait_until(lambda: served_generation(server.url) == generation, 30, f"{generation} served")
    hit = httpx.get(f"{server.url}/api/search", params={"q": marker, "k": 1}, timeout=30).json()["passages"][0]
    assert hit["id"] == f"{PAPER_ID}#para-7" and marker in hit["text"]


@pytest.mark.parametrize(
    "pause_at",
    [
        "embedding sentences:0",  # during embedding: the passages' vectors are made, the sentences' not yet
        "writing:1",  # during the write: every file is in the hidden folder, no manifest, not renamed
        "writing:2",  # the generation is sealed and renamed, but CURRENT does not name it yet
    ],
)
def test_kill_9_of_pqa_ingest_leaves_the_last_good_generation_served_and_the_next_run_completes(
    live: tuple[LiveServer, Path, Store], embedder: Embedder, pause_at: str
) -> None:
    server, corpus, store = live
    good, names = store.current_name(), store.names()
    marker = f"Marker {uuid.uuid4().hex[:8]} added before a kill."
    edit_paragraph_7(corpus, marker)
    writer = Pqa(["ingest", str(corpus), "--index", str(store.root)], env={"PQA_TEST_PAUSE_AT": pause_at})
    try:
        writer.wait_for(f"test pause at {pause_at.partition(':')[0]}", timeout=300)
        assert (store.root / ".lock").read_text() == str(writer.pid)
        if pause_at == "writing:1":
            assert [p.name for p in store.generations.glob(".tmp-*/*")]  # half a generation on disk
        if pause_at == "writing:2":
            assert len(store.names()) == len(names) + 1  # a whole one, not current
        writer.kill9()
    finally:
        writer.stop()
    assert writer.process.returncode == -9

    assert store.current_name() == good
    still_answers_from(server, good)

    report = ingest([corpus], store, lambda: embedder)  # the next run: no --wait, nothing blocks it
    assert report.recovered is not None and f"writer pid {writer.pid} stopped without finishing" in report.recovered
    if pause_at == "writing:1":
        assert ".tmp-" in report.recovered
    assert leftovers(store) == []
    assert report.generation is not None and store.current_name() == report.generation
    assert report.updated == [PAPER_ID] and report.passages_re_embedded == 1
    serves_marker(server, report.generation, marker)


def test_two_writers_the_second_fails_or_waits_and_an_early_kill_blocks_nobody(
    live: tuple[LiveServer, Path, Store],
) -> None:
    server, corpus, store = live
    good = store.current_name()
    marker = f"Marker {uuid.uuid4().hex[:8]} for two writers."
    edit_paragraph_7(corpus, marker)
    first = Pqa(["ingest", str(corpus), "--index", str(store.root)], env={"PQA_TEST_PAUSE_AT": "scanning:0"})
    third = None
    try:
        first.wait_for("test pause at scanning", timeout=120)  # early: it holds the lock, has read nothing

        second = run_pqa(["ingest", str(corpus), "--index", str(store.root)], timeout=120)
        assert second.returncode == 1
        assert f"is being written by pid {first.pid}; wait for it to finish (or pass --wait" in second.stderr

        third = Pqa(["ingest", str(corpus), "--index", str(store.root), "--wait", "300", "--json"])
        third.wait_for(f"waiting up to 300 s for pid {first.pid}", timeout=120)
        first.kill9()
        code, out = third.finish(timeout=300)
    finally:
        first.stop()
        if third is not None:
            third.stop()
    assert code == 0, "".join(third.lines)[-3000:]
    report = json.loads(out)
    assert f"writer pid {first.pid} stopped without finishing" in report["recovered"]
    assert report["previous"] == good and report["generation"] != good
    assert leftovers(store) == [] and store.current_name() == report["generation"]
    serves_marker(server, report["generation"], marker)


@pytest.mark.parametrize("damage", ["cut the FAISS file", "delete the manifest"])
def test_a_corrupt_generation_is_refused_and_the_service_stays_on_the_good_one(
    live: tuple[LiveServer, Path, Store], damage: str
) -> None:
    server, _, store = live
    good = store.current_name()
    assert good is not None and served_generation(server.url) == good
    bad = copy_generation(store, good, "7" if damage.startswith("cut") else "8")
    if damage.startswith("cut"):
        dense = store.generations / bad / DENSE
        dense.write_bytes(dense.read_bytes()[: dense.stat().st_size // 3])
    else:
        (store.generations / bad / MANIFEST).unlink()
    point_at(store, bad)

    def refused() -> bool:
        message = httpx.get(f"{server.url}/readyz", timeout=10).json()["message"] or ""
        return f"generation {bad} refused" in message

    wait_until(refused, 30, "the bad generation is refused")
    ready = httpx.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["generation"] == good
    reason = "does not match its manifest" if damage.startswith("cut") else "has no manifest.json"
    assert reason in ready.json()["message"]
    still_answers_from(server, good)

    listed = run_pqa(["index", "list", "--index", str(store.root)], timeout=60)
    assert f"* {bad}" in listed.stdout and "BROKEN" in listed.stdout
    back = run_pqa(["index", "rollback", good, "--index", str(store.root)], timeout=60)
    assert back.returncode == 0 and f"current generation: {good} (was {bad})" in back.stdout
    assert store.current_name() == good
    still_answers_from(server, good)


def test_at_start_a_corrupt_current_generation_falls_back_to_the_last_good_one(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    store = Store(tmp_path / "index")
    good = ingest([make_corpus(tmp_path / "corpus")], store, lambda: fake, model_name=fake.name).generation
    assert good is not None
    bad = copy_generation(store, good, "1")
    (store.generations / bad / DENSE).write_bytes(b"FAISS, cut")
    point_at(store, bad)

    settings = Settings(index_dir=store.root, load_in_background=False)
    with TestClient(create_app(settings, embedder=fake)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["generation"] == good
        message = ready.json()["message"]
        assert f"generation {bad} refused" in message and f"serving the last good generation {good}" in message
        assert client.get("/api/search", params={"q": "protection"}).json()["index"]["generation"] == good
