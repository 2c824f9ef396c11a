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

from .conftest import FakeEmbedder, run_script
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


GIVE_BACK = """
import sys
from service.memory import give_back_freed

def rss_mib():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024

junk = [bytearray(4096) for _ in range(50_000)]  # about 200 MiB in heap chunks, below malloc's mmap threshold
pinned = bytearray(4096)  # allocated above them: the heap's top cannot shrink past it
del junk
held = rss_mib()
handed = give_back_freed()
print(handed, held, rss_mib())
"""


def test_the_memory_a_replaced_generation_freed_is_handed_back_to_the_system(tmp_path: Path) -> None:
    """Freed heap pages below a live allocation stay resident until malloc is asked to hand them back."""
    done = run_script(tmp_path, "give_back.py", GIVE_BACK)
    assert done.returncode == 0, done.stderr[-2000:]
    handed, held, after = done.stdout.split()
    if handed == "False":  # not glibc: nothing to measure
        return
    assert int(held) - int(after) > 100, (held, after)  # most of the 200 MiB freed is no longer resident
