"""A document's id is in every link and filter: a file keeps its id while it is indexed, a new file whose name
gives the same id is the one told apart, and the id does not depend on how the folder was spelled. A library
may live below a hidden folder ("~/.local/share/library"); hidden folders below the library are skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.snapshot import Snapshot
from index.store import Store
from ingest.library import discover
from service.reindex import ingest
from service.report import IngestReport

from .conftest import FakeEmbedder

HOTLINE = (
    "<html><head><title>Ombudsperson Hotline Notice</title></head><body><h1>Ombudsperson Hotline Notice</h1>"
    "<p>The ombudsperson hotline answers every call about detention conditions within two working days.</p>"
    "</body></html>"
)
SECOND = "# Hotline Two\n\n1. The Zephyrine hotline answers questions about family reunification.\n"


def run(paths: list[Path], index: Path) -> IngestReport:
    return ingest(paths, Store(index), FakeEmbedder, model_name=FakeEmbedder.name)


def documents(index: Path) -> dict[str, str]:
    """The current generation's document ids and the file each was read from."""
    snapshot = Snapshot.load(Store(index).current())
    return {document_id: Path(entry.source).name for document_id, entry in snapshot.manifest.documents.items()}


def test_a_new_file_never_takes_the_id_of_an_indexed_document(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "hotline.html").write_text(HOTLINE, encoding="utf-8")
    run([corpus], index)
    assert documents(index) == {"hotline": "hotline.html"}
    (corpus / "Hotline.md").write_text(SECOND, encoding="utf-8")  # sorts before hotline.html, same slug
    report = run([corpus], index)
    assert report.unchanged == ["hotline"] and report.updated == [] and report.removed == []
    (added,) = report.added
    assert added.startswith("hotline-") and len(added) == len("hotline-") + 6
    assert documents(index) == {"hotline": "hotline.html", added: "Hotline.md"}
    # the same again: nothing changes, and the new file keeps its told-apart id too
    again = run([corpus], index)
    assert not again.changed and sorted(again.unchanged) == sorted(["hotline", added])


def test_ids_do_not_depend_on_how_the_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "lib"
    corpus.mkdir()
    (corpus / "hotline.html").write_text(HOTLINE, encoding="utf-8")
    (corpus / "Hotline.md").write_text(SECOND, encoding="utf-8")
    absolute = {s.path.name: s.document_id for s in discover([corpus])[0]}
    monkeypatch.chdir(tmp_path)
    relative = {s.path.name: s.document_id for s in discover([Path("lib")])[0]}
    assert absolute == relative and len(set(absolute.values())) == 2
    index = tmp_path / "index"
    run([corpus], index)
    before = documents(index)
    report = run([Path("lib")], index)  # the same files, the folder named another way
    assert not report.changed and report.added == [] and report.removed == []
    assert documents(index) == before


def test_a_file_named_twice_is_one_document(tmp_path: Path) -> None:
    corpus = tmp_path / "lib"
    corpus.mkdir()
    (corpus / "hotline.html").write_text(HOTLINE, encoding="utf-8")
    sources, failures = discover([corpus, corpus / "hotline.html"])
    assert failures == [] and [s.document_id for s in sources] == ["hotline"]


def test_a_library_below_a_hidden_folder_is_found_and_hidden_folders_in_it_are_not(tmp_path: Path) -> None:
    library = tmp_path / ".local" / "share" / "library"
    (library / ".git").mkdir(parents=True)
    (library / "hotline.html").write_text(HOTLINE, encoding="utf-8")
    (library / ".git" / "notes.md").write_text(SECOND, encoding="utf-8")
    (library / ".draft.md").write_text(SECOND, encoding="utf-8")
    sources, failures = discover([library])
    assert failures == [] and [s.path.name for s in sources] == ["hotline.html"]
    report = run([library], tmp_path / "index")
    assert report.added == ["hotline"] and report.failures == []


def test_a_copy_of_a_file_is_reported_and_indexed_once(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "memo.md").write_text(SECOND, encoding="utf-8")
    run([corpus], index)
    (corpus / "a-copy-of-memo.md").write_text(SECOND, encoding="utf-8")  # sorts first; memo.md is the one indexed
    (corpus / "other.md").write_text(SECOND.replace("Two", "Three"), encoding="utf-8")  # another title: not a copy
    report = run([corpus], index)
    assert report.added == ["other"] and report.unchanged == ["memo"] and report.removed == []
    assert report.failures == []  # a copy is not a failed input: nothing is wrong with it (exit 0)
    (copy,) = report.skipped
    assert Path(copy.path).name == "a-copy-of-memo.md"
    assert copy.reason == (
        f"the same file as {corpus / 'memo.md'} (its bytes and its metadata), indexed once, from that one"
    )
    assert report.to_dict()["skipped"] == [{"path": copy.path, "reason": copy.reason}]
    again = run([corpus], index)  # nothing changed: still one line, still no failure
    assert (
        again.generation is None
        and again.failures == []
        and [Path(s.path).name for s in again.skipped] == ["a-copy-of-memo.md"]
    )
    assert documents(index) == {"memo": "memo.md", "other": "other.md"}
    # with a sidecar of its own, the same bytes are another document
    (corpus / "a-copy-of-memo.meta.toml").write_text('title = "The memo, as adopted"\n', encoding="utf-8")
    assert "a-copy-of-memo" in run([corpus], index).added
