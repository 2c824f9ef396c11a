"""Serving replicas are stateless: two `pqa serve` over one index folder both follow CURRENT.

A client queries both in a loop while `pqa ingest` writes a new generation into the folder they
share; both must answer from it within 5 s of the ingest's end, and no request may fail.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embedder import Embedder
from index.store import Store
from service.reindex import ingest

from .conftest import LiveServer
from .reindex_support import NOTE_ID, QueryLoop, make_corpus, run_pqa, wait_until

pytestmark = pytest.mark.slow
SWAP_WITHIN_SECONDS = 5.0


@pytest.fixture
def replicas(tmp_path: Path, embedder: Embedder) -> Iterator[tuple[list[LiveServer], Path, Path]]:
    corpus, index = make_corpus(tmp_path / "corpus", with_note=False), tmp_path / "index"
    assert ingest([corpus], Store(index), lambda: embedder).generation is not None
    servers = [LiveServer(index) for _ in range(2)]  # the default reload interval (2 s)
    try:
        for server in servers:
            server.wait_ready(timeout=240)
        yield servers, corpus, index
    finally:
        for server in servers:
            server.stop()


def test_two_replicas_over_one_index_serve_a_new_generation_within_5_s_with_no_failed_request(
    replicas: tuple[list[LiveServer], Path, Path],
) -> None:
    servers, corpus, index = replicas
    loops = [QueryLoop(server.url) for server in servers]
    with loops[0], loops[1]:
        for loop in loops:
            wait_until(lambda loop=loop: loop.ok >= 3, 60, "both replicas answer")
        old = {loop.seen[-1][1] for loop in loops}
        assert old == {Store(index).current_name()}
        make_corpus(corpus)  # adds a second document
        result = run_pqa(["ingest", str(corpus), "--index", str(index), "--json"], timeout=300)
        ingested_at = time.monotonic()
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads(result.stdout)
        assert report["added"] == [NOTE_ID]
        lags = []
        for loop in loops:
            left = max(0.1, ingested_at + SWAP_WITHIN_SECONDS - time.monotonic())
            lags.append(loop.wait_for_generation(report["generation"], timeout=left) - ingested_at)
        answered = [loop.ok for loop in loops]
        for loop, before in zip(loops, answered, strict=True):
            wait_until(lambda loop=loop, before=before: loop.ok >= before + 3, 30, "answers from the new generation")
    for loop in loops:
        assert loop.failures == []
        assert [generation for _, generation in loop.seen] == [*old, report["generation"]]
    assert max(lags) <= SWAP_WITHIN_SECONDS, lags
    print(f"\n[replicas] requests {[loop.ok for loop in loops]}, new generation served {lags} s after ingest ended")
