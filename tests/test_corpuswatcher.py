"""The corpus watcher on real files with real inotify (watchdog): debounced, writes only, documents only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.corpuswatcher import CorpusWatcher

from .reindex_support import NOTE_ID, make_corpus, paper

DEBOUNCE = 0.5
SETTLE = 2.5  # well past the debounce: anything that was going to fire has fired


class Calls:
    """The watcher's callback: counts calls; answers "busy" for the first `busy` of them."""

    def __init__(self, busy: int = 0) -> None:
        self.times: list[float] = []
        self.busy = busy
        self.event = threading.Event()

    def __call__(self) -> bool:
        self.times.append(time.monotonic())
        self.event.set()
        if self.busy:
            self.busy -= 1
            return False
        return True


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "corpus")


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def watcher(corpus: Path, calls: Calls, tmp_path: Path) -> Iterator[CorpusWatcher]:
    watcher = CorpusWatcher([corpus], calls, debounce=DEBOUNCE, ignore=[corpus / "index"])
    watcher.start()
    time.sleep(0.2)  # inotify watches are in place
    try:
        yield watcher
    finally:
        watcher.stop()


def test_a_burst_of_saves_is_one_call_after_the_quiet_period(
    corpus: Path, calls: Calls, watcher: CorpusWatcher
) -> None:
    note = corpus / f"{NOTE_ID}.md"
    last_save = 0.0
    for i in range(6):
        note.write_text(note.read_text() + f"\n{4 + i}. Another principle, number {i}.\n")
        last_save = time.monotonic()
        time.sleep(0.15)
    time.sleep(SETTLE)
    assert len(calls.times) == 1
    assert calls.times[0] - last_save >= DEBOUNCE * 0.9  # it waited for the quiet period
    assert watcher.changes >= 6 and watcher.triggers == 1

    paper(corpus).write_text(paper(corpus).read_text() + "\n")
    time.sleep(SETTLE)
    assert len(calls.times) == 2  # a later change is another call


def test_reads_and_files_that_are_not_documents_are_ignored(corpus: Path, calls: Calls, watcher: CorpusWatcher) -> None:
    for path in sorted(corpus.iterdir()):
        path.read_bytes()  # what a re-index does: it must not trigger another one
    (corpus / "notes.docx.swp").write_text("editor swap file")
    (corpus / ".hidden.md").write_text("1. A hidden draft.")
    (corpus / "drafts").mkdir()
    (corpus / "drafts" / ".~lock.md#").write_text("lock")
    (corpus / "index").mkdir()
    (corpus / "index" / "passages.md").write_text("1. Not a document: the index folder is ignored.")
    time.sleep(SETTLE)
    assert calls.times == [] and watcher.changes == 0

    (corpus / "drafts" / "new-policy.md").write_text("1. A new policy in a subfolder.")
    assert calls.event.wait(10)
    time.sleep(SETTLE)
    assert len(calls.times) == 1


def test_sidecar_edits_deletes_and_moves_count(corpus: Path, calls: Calls, watcher: CorpusWatcher) -> None:
    sidecar = corpus / "iom-approach-to-protection.meta.toml"
    sidecar.write_text(sidecar.read_text() + 'status = "superseded"\n')
    time.sleep(SETTLE)
    (corpus / f"{NOTE_ID}.md").unlink()
    time.sleep(SETTLE)
    paper(corpus).rename(corpus / "renamed.md")
    time.sleep(SETTLE)
    assert len(calls.times) == 3


def test_when_busy_it_asks_again_until_the_work_can_start(corpus: Path) -> None:
    calls = Calls(busy=2)
    watcher = CorpusWatcher([corpus], calls, debounce=DEBOUNCE)
    watcher.start()
    try:
        time.sleep(0.2)
        paper(corpus).write_text(paper(corpus).read_text() + "\n")
        time.sleep(DEBOUNCE * 3 + SETTLE)
    finally:
        watcher.stop()
    assert len(calls.times) == 3 and watcher.triggers == 1  # two refusals, then once


def test_a_single_watched_file_ignores_its_neighbours(corpus: Path, calls: Calls) -> None:
    watcher = CorpusWatcher([paper(corpus)], calls, debounce=DEBOUNCE)
    watcher.start()
    try:
        time.sleep(0.2)
        (corpus / f"{NOTE_ID}.md").write_text("1. A neighbour changed.")
        time.sleep(SETTLE)
        assert calls.times == []
        paper(corpus).write_text(paper(corpus).read_text() + "\n")
        assert calls.event.wait(10)
    finally:
        watcher.stop()
