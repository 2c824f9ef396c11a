"""The generation store on real files: the writer lock across processes, leftovers, corrupt generations,
prune, list and rollback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.errors import IndexCorrupt, IndexLocked, IndexNotFound
from index.manifest import MANIFEST
from index.snapshot import DENSE
from index.store import Store
from service.cli import main
from service.reindex import ingest
from service.report import IngestReport
from service.rollback import rollback

from .conftest import ROOT, FakeEmbedder
from .reindex_support import copy_generation, edit_paragraph_7, make_corpus

HOLDER = """
import sys, time
from index.store import Store
with Store(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(root: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the writer lock for `seconds` (it says when it has it)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), str(seconds)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    return process


def build(corpus: Path, root: Path, fake: FakeEmbedder) -> IngestReport:
    return ingest([corpus], Store(root), lambda: fake, model_name=fake.name)


def test_a_second_writer_fails_naming_the_holders_pid(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 60)
    try:
        expected = f"being written by pid {holder.pid}; wait for it"
        with pytest.raises(IndexLocked, match=expected), Store(tmp_path).lock():
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_waiting_writer_gets_the_lock_once_the_holder_finishes_cleanly(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 1.0)
    started = time.monotonic()
    with Store(tmp_path).lock(wait=30) as hold:
        waited = time.monotonic() - started
        assert (tmp_path / ".lock").read_text() == str(os.getpid())
    assert holder.wait(timeout=10) == 0
    assert 0.3 < waited < 30
    assert hold.dead_pid is None and hold.recovered is None  # a clean release leaves no pid behind
    assert (tmp_path / ".lock").read_text() == ""


def test_a_writer_killed_holding_the_lock_blocks_nobody_and_is_named(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / ".lock").read_text() == str(holder.pid)  # the file still says who held it
    with Store(tmp_path).lock(wait=0) as hold:
        assert hold.dead_pid == holder.pid
        assert hold.recovered is not None and f"pid {holder.pid}" in hold.recovered


def test_taking_the_lock_sweeps_what_dead_writers_left(tmp_path: Path) -> None:
    store = Store(tmp_path)
    half = store.generations / ".tmp-4242-deadbeef"
    half.mkdir(parents=True)
    (half / "passages.jsonl").write_text("{")
    (tmp_path / ".CURRENT.4242.tmp").write_text("g-half\n")
    with store.lock() as hold:
        assert hold.swept == [".tmp-4242-deadbeef", ".CURRENT.4242.tmp"]
        assert hold.recovered is not None and ".tmp-4242-deadbeef" in hold.recovered
    assert not half.exists() and not (tmp_path / ".CURRENT.4242.tmp").exists()


def test_a_cut_faiss_file_or_a_missing_manifest_is_refused_with_a_message(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    report = build(make_corpus(tmp_path / "corpus"), tmp_path / "index", fake)
    store = Store(tmp_path / "index")
    assert report.generation is not None
    cut = copy_generation(store, report.generation, "1")
    dense = store.generations / cut / DENSE
    dense.write_bytes(dense.read_bytes()[: dense.stat().st_size // 2])
    no_manifest = copy_generation(store, report.generation, "2")
    (store.generations / no_manifest / MANIFEST).unlink()

    with pytest.raises(IndexCorrupt, match=f"generation {cut}: {DENSE} does not match its manifest"):
        store.open(cut)
    with pytest.raises(IndexCorrupt, match=f"generation {no_manifest} .* has no {MANIFEST}"):
        store.open(no_manifest)
    problems = {g.name: g.problem for g in store.summaries()}
    assert problems[report.generation] is None
    assert "does not match its manifest" in (problems[cut] or "")
    assert "has no manifest.json" in (problems[no_manifest] or "")


def test_prune_keeps_the_newest_five_and_never_the_current_one(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    corpus = make_corpus(tmp_path / "corpus")
    store = Store(tmp_path / "index")
    made = []
    for i in range(7):
        edit_paragraph_7(corpus, f"Revision {i}.")
        report = build(corpus, store.root, fake)
        assert report.generation is not None
        made.append(report.generation)
    assert store.names() == made[-5:]  # each ingest prunes
    rollback(store, made[2])
    edit_paragraph_7(corpus, "Revision 7.")
    newest = build(corpus, store.root, fake).generation
    assert store.current_name() == newest
    assert store.names() == [*made[3:], newest]
    rollback(store, made[3])
    assert store.prune(keep=1) == made[4:]
    assert store.names() == [made[3], newest]  # the current one survives any prune


def test_pqa_index_list_and_rollback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeEmbedder()
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    first = build(corpus, index, fake).generation
    edit_paragraph_7(corpus, "A later revision.")
    second = build(corpus, index, fake).generation
    store = Store(index)
    broken = copy_generation(store, str(second), "9")
    (store.generations / broken / DENSE).write_bytes(b"")

    assert main(["index", "list", "--index", str(index), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["generations"]
    assert [g["name"] for g in listed] == [first, second, broken]
    assert [g["current"] for g in listed] == [False, True, False]
    assert listed[0]["documents"] == 2 and listed[0]["passages"] > 30 and listed[0]["problem"] is None
    assert "does not match its manifest" in listed[2]["problem"]

    assert main(["index", "list", "--index", str(index)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith(f"* {second}") and "BROKEN" in lines[2]

    assert main(["index", "rollback", str(first), "--index", str(index)]) == 0
    assert f"current generation: {first} (was {second})" in capsys.readouterr().out
    assert store.current_name() == first

    assert main(["index", "rollback", broken, "--index", str(index)]) == 1
    assert "does not match its manifest" in capsys.readouterr().err
    assert main(["index", "rollback", "g-nope", "--index", str(index)]) == 1
    assert "no generation g-nope" in capsys.readouterr().err
    assert store.current_name() == first  # a refused rollback changes nothing
    with pytest.raises(IndexNotFound):
        store.point_to("g-nope")
