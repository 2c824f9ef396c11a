"""The served generation is kept out of the garbage collector's walks, and a replaced one is still freed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.store import Store
from service.engine import Engine
from service.reindex import ingest
from service.settings import Settings

from .conftest import FakeEmbedder
from .reindex_support import edit_paragraph_7, make_corpus


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_loaded_index_is_frozen_and_a_replaced_generation_is_freed(tmp_path: Path, unfrozen: None) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    fake = FakeEmbedder()
    store = Store(tmp_path / "index")
    ingest([corpus], store, lambda: fake, model_name=fake.name)
    engine = Engine(Settings(index_dir=tmp_path / "index", reload_interval=3600), lambda: fake)
    engine.start(background=False)
    try:
        first = engine.searcher().snapshot
        first_generation = first.generation
        assert gc.get_freeze_count() > 0
        tracked = {id(o) for o in gc.get_objects()}
        assert id(first.searchable) not in tracked, "the served passages are frozen, out of every full collection"
        gone = weakref.ref(first)
        del first, tracked

        edit_paragraph_7(corpus, "A sentence added to paragraph 7 so that a new generation is written.")
        ingest([corpus], store, lambda: fake, model_name=fake.name)
        assert engine.refresh()
        assert engine.searcher().snapshot.generation != first_generation
        gc.collect()
        assert gone() is None, "the replaced generation was unfrozen and freed"
    finally:
        engine.stop()
