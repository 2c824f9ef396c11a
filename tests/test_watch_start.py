"""A service that re-indexes its own folders names them when it has no index, and `--watch` builds the missing
index at start instead of waiting for a file to change (an outside tester's `pqa serve --watch --corpus mylib`
said "run: pqa ingest corpus/" and stayed without an index until a file was edited)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from service.app import create_app
from service.follower import ingest_command
from service.settings import Settings

from .conftest import LiveServer
from .reindex_support import make_corpus


def test_the_command_names_the_folders_this_service_reindexes() -> None:
    default = Settings.model_fields["index_dir"].default
    assert ingest_command(Path("/srv/x"), [Path("/data/my lib"), Path("extra")]) == (
        "pqa ingest '/data/my lib' extra --index /srv/x"
    )
    assert ingest_command(default, [Path("mylib")]) == "pqa ingest mylib"
    assert ingest_command(Path("/srv/x"), [Path("corpus")]) == "pqa ingest corpus/ --index /srv/x"
    assert ingest_command(Path("/srv/x"), [Path("corpus"), Path("extra")]) == "pqa ingest corpus/ extra --index /srv/x"


def test_no_index_names_the_configured_corpus(tmp_path: Path, embedder: Embedder) -> None:
    empty, library = tmp_path / "empty", tmp_path / "my library"
    app = create_app(Settings(index_dir=empty, corpus=[library], reload_interval=0.2), embedder=embedder)
    with TestClient(app) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").json()["status"] in ("starting", "loading") and time.monotonic() < deadline:
            time.sleep(0.05)
        command = f"run: pqa ingest '{library}' --index {empty}"
        assert client.get("/readyz").json()["message"].endswith(command)
        assert client.get("/api/search?q=refugee").json()["error"]["message"] == f"no index in {empty}; {command}"


@pytest.mark.slow
def test_watch_builds_a_missing_index_at_start(tmp_path: Path) -> None:
    corpus, index = make_corpus(tmp_path / "mylib"), tmp_path / "index"
    env = {"PQA_RELOAD_INTERVAL": "0.5", "PQA_WATCH_DEBOUNCE": "0.5", "PQA_SEARCH_PROCESSES": "0"}
    server = LiveServer(index, ["--watch", "--corpus", str(corpus)], env=env)
    try:
        server.wait_ready(timeout=240)  # ready means an index was built and loaded: nothing else would build one
        hits = httpx.get(f"{server.url}/api/search", params={"q": "How does IOM define protection?"}, timeout=30)
        assert hits.status_code == 200 and hits.json()["passages"], hits.text
        assert (index / "CURRENT").is_file()
        log = server.output()
    finally:
        server.stop()
    assert f"no index in {index}: building it from {corpus}" in log, log[-3000:]
