"""`pqa ingest --ray`: the same generation as a local run, and a run that survives (or reports) a dead actor.

Ray runs only inside a network namespace of loopback alone (tests/ray_support.py); the service the
fault test queries runs outside it, on 127.0.0.1, over the same index folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.embedder import Embedder
from index.records import citation_label
from index.search import Searcher
from index.snapshot import Snapshot
from index.store import Store
from service.cli import main
from service.reindex import ingest

from .conftest import ROOT, LiveServer
from .ray_support import big_document, in_namespace, namespace_problem, ray_env
from .reindex_support import QueryLoop, make_corpus, wait_until
from .test_golden import golden

pytestmark = pytest.mark.slow


@pytest.fixture
def ray_here() -> None:
    if problem := namespace_problem():
        pytest.skip(f"SKIPPED LOUDLY: Ray cannot run on loopback only here: {problem}")


def pqa_in_namespace(args: list[str], timeout: float = 420) -> subprocess.CompletedProcess[str]:
    argv = in_namespace([sys.executable, "-m", "service.cli", *args])
    return subprocess.run(argv, cwd=ROOT, env=ray_env(), capture_output=True, text=True, timeout=timeout, check=False)


def loaded(index: Path) -> Snapshot:
    return Snapshot.load(Store(index).current())


def comparable(report: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in report.items() if k not in ("generation", "seconds")}


def test_ray_and_local_runs_give_the_same_generation(ray_here: None, tmp_path: Path, embedder: Embedder) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / "empty.md").write_text("")  # refused on the driver, before any task
    (corpus / "binary.md").write_bytes(b"\x00\x01 not text")  # refused by the parser, in the sandbox on Ray
    local = ingest([corpus], Store(tmp_path / "local"), lambda: embedder)
    assert local.generation is not None and len(local.failures) == 2
    run = pqa_in_namespace(["ingest", str(corpus), "--index", str(tmp_path / "ray"), "--ray", "--json"])
    assert run.returncode == 1, run.stderr[-4000:]  # some input failed: the same two files
    assert comparable(json.loads(run.stdout)) == comparable(local.to_dict())
    assert "embedding passages: 0/" in run.stderr and "embedding sentences: " in run.stderr  # the same stages

    a, b = loaded(tmp_path / "local"), loaded(tmp_path / "ray")
    assert list(a.documents) == list(b.documents) == ["family-reunification-note", "iom-approach-to-protection"]
    assert a.documents == b.documents  # titles, sources, sha256, pages...
    assert a.passages == b.passages  # ids, labels, paragraphs, pages, sections, offsets, text
    assert [p.id for p in a.searchable] == [p.id for p in b.searchable]
    assert a.contexts == b.contexts
    assert np.array_equal(a.windows, b.windows) and np.array_equal(a.sentences, b.sentences)
    assert a.manifest.documents.keys() == b.manifest.documents.keys()
    assert b.manifest.model == a.manifest.model and b.manifest.dense_kind == "flat"
    window_cosines = np.sum(a.dense.vectors * b.dense.vectors, axis=1)
    assert a.sentence_vectors is not None and b.sentence_vectors is not None
    sentence_cosines = np.sum(a.sentence_vectors * b.sentence_vectors, axis=1)
    assert window_cosines.min() >= 0.9999 and sentence_cosines.min() >= 0.9999, (
        window_cosines.min(),
        sentence_cosines.min(),
    )

    local_searcher, ray_searcher = Searcher(a, embedder), Searcher(b, embedder)
    for item in golden():
        expected = [
            (h.passage.id, citation_label(h.passage, h.document.title))
            for h in local_searcher.search(item["question"], k=3)
        ]
        got = [
            (h.passage.id, citation_label(h.passage, h.document.title))
            for h in ray_searcher.search(item["question"], k=3)
        ]
        assert got == expected, item["question"]


@pytest.fixture
def served(tmp_path: Path, embedder: Embedder) -> Iterator[tuple[LiveServer, Path, Path, str]]:
    """A `pqa serve` (outside the namespace) over an index of the paper alone; the corpus then grows."""
    corpus, index = make_corpus(tmp_path / "corpus", with_note=False), tmp_path / "index"
    first = ingest([corpus], Store(index), lambda: embedder)
    assert first.generation is not None
    server = LiveServer(index, env={"PQA_RELOAD_INTERVAL": "0.5"})
    try:
        server.wait_ready(timeout=240)
        yield server, corpus, index, first.generation
    finally:
        server.stop()


def test_a_killed_embedding_actor_on_a_two_node_cluster_is_retried_or_reported_while_serving_goes_on(
    ray_here: None, tmp_path: Path, served: tuple[LiveServer, Path, Path, str]
) -> None:
    server, corpus, index, old = served
    make_corpus(corpus)  # adds the note
    (corpus / "synthetic-guidance.md").write_text(big_document(240), encoding="utf-8")
    result = tmp_path / "fault.json"
    with QueryLoop(server.url) as loop:
        wait_until(lambda: loop.ok >= 3, 60, "the server answers")
        argv = in_namespace([sys.executable, "-m", "tests.ray_support", "fault", str(corpus), str(index), str(result)])
        run = subprocess.run(argv, cwd=ROOT, env=ray_env(), capture_output=True, text=True, timeout=480, check=False)
        assert run.returncode == 0, run.stderr[-4000:]
        outcome = json.loads(result.read_text())
        assert outcome["killed"] is not None and outcome["done_at_kill"] < outcome["total"], outcome
        if "report" in outcome:  # Ray restarted the actor and retried its batch
            new = outcome["report"]["generation"]
            assert new is not None and outcome["report"]["failures"] == []
            assert max(outcome["restarts"]) >= 1, outcome
            loop.wait_for_generation(new, timeout=60)
            snapshot = loaded(index)
            assert snapshot.generation == new and len(snapshot.documents) == 3
            assert snapshot.dense.size == len(snapshot.windows)
        else:  # the run gave up: it says so, and nothing changed
            assert "failed while embedding" in outcome["error"] and "nothing was written" in outcome["error"]
            assert Store(index).current_name() == old
            answered = loop.ok
            wait_until(lambda: loop.ok >= answered + 5, 30, "answers from the last good generation")
            assert loop.seen[-1][1] == old
    assert loop.failures == []
    what = outcome.get("report", {}).get("generation") or outcome.get("error")
    print(
        f"\n[ray fault] killed at {outcome['done_at_kill']}/{outcome['total']}: {what}; restarts {outcome['restarts']}"
    )


def test_ray_without_ray_installed_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("ray", "ray.data"):
        monkeypatch.setitem(sys.modules, name, None)  # an import of it now fails as if it were not installed
    code = main(["ingest", str(make_corpus(tmp_path / "corpus")), "--index", str(tmp_path / "index"), "--ray"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'protection-qa[ray]'" in err and "--ray needs Ray Data" in err
    assert not (tmp_path / "index").exists()


def test_the_service_and_the_cli_do_not_import_ray() -> None:
    code = "import sys, service.cli, service.app, service.distributed; print('ray' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.strip() == "False"
