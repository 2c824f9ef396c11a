"""Incremental re-ingest with the real model: only what changed is parsed and embedded, ids and URLs stay put,
a run with no change does nothing, a deleted file disappears, and bad input loses nothing."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.snapshot import Snapshot
from index.store import Store
from service.app import create_app
from service.reindex import IngestRefused, ingest
from service.settings import Settings

from .conftest import PAPER_ID, FakeEmbedder
from .reindex_support import NOTE_ID, NOTE_QUESTION, edit_paragraph_7, make_corpus, run_pqa


class CountingEmbedder:
    """The real model, recording every text it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.name, self.dim, self.max_tokens, self.runtime = inner.name, inner.dim, inner.max_tokens, inner.runtime

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self.inner.token_spans(text)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A corpus (the paper and a short note) and its index, built once; tests work on copies."""
    root = tmp_path_factory.mktemp("pristine")
    report = ingest([make_corpus(root / "corpus")], Store(root / "index"), lambda: embedder)
    assert report.added == [NOTE_ID, PAPER_ID] and not report.failures
    return root


@pytest.fixture
def work(pristine: Path, tmp_path: Path) -> tuple[Path, Store]:
    shutil.copytree(pristine / "corpus", tmp_path / "corpus")
    shutil.copytree(pristine / "index", tmp_path / "index")
    return tmp_path / "corpus", Store(tmp_path / "index")


@pytest.fixture
def client(work: tuple[Path, Store], embedder: Embedder) -> Iterator[TestClient]:
    settings = Settings(index_dir=work[1].root, reload_interval=0.2, load_in_background=False)
    with TestClient(create_app(settings, embedder=embedder)) as test_client:
        yield test_client


def wait_served(client: TestClient, generation: str | None) -> None:
    deadline = time.monotonic() + 30
    while client.get("/readyz").json()["generation"] != generation:
        assert time.monotonic() < deadline, f"{generation} not served within 30 s"
        time.sleep(0.05)


def urls(client: TestClient, question: str) -> dict[str, str]:
    response = client.get("/api/search", params={"q": question, "k": 10})
    assert response.status_code == 200
    return {p["id"]: p["citation"]["url"] for p in response.json()["passages"]}


def test_editing_one_paragraph_re_embeds_only_it_and_keeps_every_other_passage(
    work: tuple[Path, Store], client: TestClient, embedder: Embedder
) -> None:
    corpus, store = work
    before = Snapshot.load(store.current())
    question = "When did the organization get its current name?"
    links_before = urls(client, question)
    assert next(iter(links_before)) == f"{PAPER_ID}#para-5"

    edit_paragraph_7(corpus, "It also covers the protection of stateless persons at sea.")
    counting = CountingEmbedder(embedder)
    report = ingest([corpus], store, lambda: counting)

    assert (report.updated, report.unchanged, report.added, report.removed) == ([PAPER_ID], [NOTE_ID], [], [])
    assert report.passages_re_embedded == 1
    assert report.passages_reused == report.passages - 1 == len(before.searchable) - 1
    assert report.passages_removed == 0
    after = Snapshot.load(store.current())
    para_7 = after.searchable[after.row_of[f"{PAPER_ID}#para-7"]]
    assert para_7.text.endswith("It also covers the protection of stateless persons at sea.")
    # nothing else was embedded: each text is a piece of paragraph 7 (a window is read after its context line)
    assert counting.texts and all(text.rsplit("\n", 1)[-1] in para_7.text for text in counting.texts)
    assert report.embedded == len(counting.texts) and report.reused > 90
    assert [p.id for p in after.passages] == [p.id for p in before.passages]
    old = {p.id: p for p in before.passages}
    assert [p.id for p in after.passages if p != old[p.id]] == [f"{PAPER_ID}#para-7"]

    wait_served(client, report.generation)
    links_after = urls(client, question)
    assert next(iter(links_after)) == f"{PAPER_ID}#para-5"
    shared = set(links_before) & set(links_after)
    assert len(shared) >= 8
    assert all(links_after[i] == links_before[i] == f"/documents/{i}" for i in shared)
    new_text = client.get("/api/search", params={"q": "protection of stateless persons at sea", "k": 1}).json()
    assert new_text["passages"][0]["id"] == f"{PAPER_ID}#para-7"


def test_a_second_run_with_no_change_does_nothing(work: tuple[Path, Store]) -> None:
    corpus, store = work
    names, current = store.names(), store.current_name()

    def no_model() -> Embedder:
        raise AssertionError("the model must not even load when nothing changed")

    report = ingest([corpus], store, no_model)
    assert report.generation is None and not report.changed
    assert report.unchanged == [NOTE_ID, PAPER_ID] and not (report.added or report.updated or report.removed)
    assert report.passages_re_embedded == 0 and report.passages_reused == report.passages > 30
    assert (store.names(), store.current_name()) == (names, current)

    result = run_pqa(["ingest", str(corpus), "--index", str(store.root), "--json"], timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["generation"] is None
    assert "loading the embedding model" not in result.stderr
    assert (store.names(), store.current_name()) == (names, current)


def test_a_deleted_file_is_gone_from_results_and_documents(work: tuple[Path, Store], client: TestClient) -> None:
    corpus, store = work
    hits = client.get("/api/search", params={"q": NOTE_QUESTION, "k": 10}).json()["passages"]
    assert hits[0]["id"] == f"{NOTE_ID}#para-2"
    assert client.get(f"/documents/{NOTE_ID}").status_code == 200

    # a third document, so that two remain: a library of one document reads no names (index/context.py), and
    # going down to one re-embeds its passages without them (test_a_library_of_one_reads_no_names)
    (corpus / "third.md").write_text(THIRD, encoding="utf-8")
    model = client.app.state.engine.embedder  # type: ignore[attr-defined]
    ingest([corpus], store, lambda: model)
    (corpus / f"{NOTE_ID}.md").unlink()
    report = ingest([corpus], store, lambda: model)
    assert report.removed == [NOTE_ID] and report.unchanged == [PAPER_ID, "third"]
    assert report.passages_removed == 3 and report.passages_re_embedded == 0 and report.embedded == 0

    wait_served(client, report.generation)
    documents = client.get("/api/documents").json()["documents"]
    assert sorted(d["id"] for d in documents) == sorted([PAPER_ID, "third"])
    hits = client.get("/api/search", params={"q": NOTE_QUESTION, "k": 50}).json()["passages"]
    assert hits and all(h["citation"]["document_id"] != NOTE_ID for h in hits)
    assert client.get(f"/documents/{NOTE_ID}").status_code == 404
    filtered = client.get("/api/search", params={"q": NOTE_QUESTION, "document": NOTE_ID})
    assert filtered.status_code == 404 and filtered.json()["error"]["code"] == "unknown_document"


THIRD = "# A third note\n\n1. Registration of births protects children from statelessness.\n"


def test_a_library_of_one_reads_no_names(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    corpus = make_corpus(tmp_path / "corpus")
    store = Store(tmp_path / "index")
    ingest([corpus], store, lambda: fake)
    named = Snapshot.load(store.current())
    paper = [c for p, c in zip(named.searchable, named.contexts, strict=True) if p.document_id == PAPER_ID]
    assert paper and all(c.startswith("IOM's Approach to") for c in paper)  # the paper's title, as far as it fits
    (corpus / f"{NOTE_ID}.md").unlink()
    report = ingest([corpus], store, lambda: fake)
    alone = Snapshot.load(store.current())
    assert report.removed == [NOTE_ID] and report.embedded > 0  # the paper's windows are read again, without a name
    assert not any(c.startswith("IOM's Approach to") for c in alone.contexts)


def test_a_path_that_does_not_exist_is_an_error_not_a_deletion(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    corpus = make_corpus(tmp_path / "corpus")
    note = corpus / f"{NOTE_ID}.md"
    store = Store(tmp_path / "index")
    first = ingest([corpus / "iom-approach-to-protection.md", note], store, lambda: fake, model_name=fake.name)
    assert first.added == [PAPER_ID, NOTE_ID]

    note.rename(tmp_path / "elsewhere.md")
    report = ingest([corpus / "iom-approach-to-protection.md", note], store, lambda: fake, model_name=fake.name)
    assert [f.path for f in report.failures] == [str(note)]
    assert "no such file" in report.failures[0].reason
    assert report.kept == [NOTE_ID] and report.removed == [] and report.generation is None
    assert set(Snapshot.load(store.current()).documents) == {PAPER_ID, NOTE_ID}


def test_an_empty_corpus_does_not_empty_the_index_unless_forced(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    store = Store(tmp_path / "index")
    ingest([make_corpus(tmp_path / "corpus")], store, lambda: fake, model_name=fake.name)
    current = store.current_name()
    (tmp_path / "empty").mkdir()

    with pytest.raises(IngestRefused, match=r"found no documents to index .* keeps its 2 documents.*--force"):
        ingest([tmp_path / "empty"], store, lambda: fake, model_name=fake.name)
    assert store.current_name() == current

    report = ingest([tmp_path / "empty"], store, lambda: fake, model_name=fake.name, force=True)
    assert report.removed == [NOTE_ID, PAPER_ID] and report.documents == 0
    assert Snapshot.load(store.current()).documents == {}


def test_naming_one_file_does_not_drop_the_documents_of_the_rest_of_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeEmbedder()
    corpus = make_corpus(tmp_path / "corpus")
    store = Store(tmp_path / "index")
    ingest([corpus], store, lambda: fake, model_name=fake.name)
    current = store.current_name()
    monkeypatch.chdir(tmp_path)  # the library was named absolute; this run names a file of it relative

    one = Path("corpus") / "iom-approach-to-protection.md"
    with pytest.raises(IngestRefused) as refused:
        ingest([one], store, lambda: fake, model_name=fake.name)
    assert str(refused.value) == (
        f"this run names {one} and would drop 1 document indexed from elsewhere ({corpus / NOTE_ID}.md); nothing "
        f"was changed. Name every folder of the library (pqa ingest {corpus} --index {store.root}), or pass "
        "--force to index only what you named"
    )
    assert store.current_name() == current
    assert set(Snapshot.load(store.current()).documents) == {PAPER_ID, NOTE_ID}

    # the library's folder named relative: the same documents, nothing removed
    assert ingest([Path("corpus")], store, lambda: fake, model_name=fake.name).removed == []
    # a file deleted from a folder the run names is removed, as it should be
    (corpus / f"{NOTE_ID}.md").unlink()
    report = ingest([Path("corpus")], store, lambda: fake, model_name=fake.name)
    assert report.removed == [NOTE_ID] and report.generation is not None


def test_force_indexes_only_the_file_named(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    corpus = make_corpus(tmp_path / "corpus")
    store = Store(tmp_path / "index")
    ingest([corpus], store, lambda: fake, model_name=fake.name)
    report = ingest([corpus / f"{NOTE_ID}.md"], store, lambda: fake, model_name=fake.name, force=True)
    assert report.removed == [PAPER_ID] and report.unchanged == [NOTE_ID]
    assert set(Snapshot.load(store.current()).documents) == {NOTE_ID}


def test_a_sidecar_broken_later_keeps_the_last_good_version(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    corpus = make_corpus(tmp_path / "corpus")
    store = Store(tmp_path / "index")
    ingest([corpus], store, lambda: fake, model_name=fake.name)
    sidecar = corpus / "iom-approach-to-protection.meta.toml"
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace("year = 2024", 'year = "abc"'), encoding="utf-8")

    report = ingest([corpus], store, lambda: fake, model_name=fake.name)
    (failure,) = report.failures
    assert failure.path == str(corpus / "iom-approach-to-protection.md")
    assert 'gives year = "abc", which is not a year: give a whole number, e.g. year = 2024' in failure.reason
    assert report.kept == [PAPER_ID] and report.removed == [] and report.generation is None
    assert set(Snapshot.load(store.current()).documents) == {PAPER_ID, NOTE_ID}


def test_a_library_moved_to_another_folder_is_not_refused(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    store = Store(tmp_path / "index")
    ingest([make_corpus(tmp_path / "old")], store, lambda: fake, model_name=fake.name)
    moved = (tmp_path / "old").rename(tmp_path / "new")
    (moved / f"{NOTE_ID}.md").unlink()
    report = ingest([moved], store, lambda: fake, model_name=fake.name)
    assert report.removed == [NOTE_ID] and report.unchanged == [PAPER_ID]
    # the index now records where the paper is: naming another folder later does not drop it silently
    assert Snapshot.load(store.current()).documents[PAPER_ID].source == str(moved / "iom-approach-to-protection.md")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "memo.md").write_text("# Memo\n\n1. The hotline answers within two days.\n")
    with pytest.raises(IngestRefused, match="would drop 1 document indexed from elsewhere"):
        ingest([tmp_path / "other"], store, lambda: fake, model_name=fake.name)
