"""The follower of the index's CURRENT generation: it loads a new generation when the pointer moves.

Each `refresh()` reads the pointer and swaps in a new Searcher when the generation changed; a
request keeps the Searcher it started with, so queries in flight finish on the old generation. A
generation that fails to load is refused (and never tried again) and the service stays on, or
falls back to, the last good one. `follow()` calls `refresh()` every few seconds until stopped.
(Not to be confused with service/corpuswatcher.py, which watches the documents and re-indexes.)
"""

from __future__ import annotations

import logging
import shlex
import threading
from collections.abc import Sequence
from pathlib import Path

from index.embedder import Embedder
from index.errors import IndexNotFound, SearchIndexError
from index.fusion import Fusion
from index.reranker import Reranker
from index.search import Searcher
from index.snapshot import Snapshot
from index.store import Store

from .memory import settle_memory
from .settings import Settings

log = logging.getLogger("pqa.follower")


def ingest_command(root: Path, corpus: Sequence[Path] = ()) -> str:
    """The command that builds an index in `root` from `corpus` (the folders this service re-indexes; the default
    library when none are given): a bare `pqa ingest` writes to the default folder, so any other is named
    (`--index`), as `pqa index` says it."""
    sources = " ".join("corpus/" if str(p) == "corpus" else shlex.quote(str(p)) for p in corpus) or "corpus/"
    if root == Settings.model_fields["index_dir"].default:
        return f"pqa ingest {sources}"
    return f"pqa ingest {sources} --index {shlex.quote(str(root))}"


class Follower:
    """The Searcher of the current generation, and what became of the last attempt to load one.

    `state` is "loading" before the first refresh, then "ready", "no_index" or "failed"; `message`
    says why a generation was refused or missing.
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        fusion: Fusion,
        reranker: Reranker | None = None,
        rerank_by_default: bool = True,
        corpus: Sequence[Path] = (),
    ) -> None:
        self.store, self.embedder, self.fusion, self.reranker = store, embedder, fusion, reranker
        self.corpus = tuple(corpus)  # what the no-index message tells to ingest
        self.rerank_by_default = rerank_by_default  # False: only for questions that ask for it (PQA_RERANK=ask)
        self.searcher: Searcher | None = None
        self.state = "loading"
        self.message: str | None = None
        self.swaps = 0
        self._refused: set[str] = set()
        self._lock = threading.Lock()

    def follow(self, stop: threading.Event, interval: float) -> None:
        """Refresh every `interval` seconds until `stop` is set."""
        while not stop.wait(interval):
            self.refresh()

    def refresh(self) -> bool:
        """Load the current generation if it is new; returns whether a swap happened."""
        with self._lock:
            name = self.store.current_name()
            loaded = self.searcher.snapshot.generation if self.searcher else None
            if name is None:
                if self.searcher is None:
                    self.state = "no_index"
                    root = self.store.root
                    self.message = str(IndexNotFound(f"no index in {root}; run: {ingest_command(root, self.corpus)}"))
                return False
            if name == loaded or name in self._refused:
                return False
            if self._try_load(name):
                return True
            refusal = self.message
            for candidate in [] if loaded else self._fallbacks(name):
                if self._try_load(candidate):
                    self.message = f"{refusal}; serving the last good generation {candidate}"
                    return True
            if self.searcher is None:
                self.state = "failed"
            return False

    def catch_up(self, name: str) -> bool:
        """Serve generation `name`, the one another process serves (a search process follows the serving process):
        CURRENT as `refresh()` does, and `name` itself where this process is not on CURRENT after that (CURRENT is
        refused here, or gone). A process that started after CURRENT was refused falls back on its own to the newest
        good generation before it, which need not be the one a process serving since before falls back to; where
        this one is on CURRENT, it stays (the other is behind, and follows). Returns whether a swap happened."""
        swapped = self.refresh()
        with self._lock:
            loaded = self.searcher.snapshot.generation if self.searcher else None
            if loaded == name or name in self._refused or (loaded is not None and loaded == self.store.current_name()):
                return swapped
            message = self.message
            if self._try_load(name):
                self.message = message  # why CURRENT is not served still holds
                return True
            return swapped

    def _fallbacks(self, name: str) -> list[str]:
        """Other generations to try when the current one cannot load: older ones newest first, then newer ones."""
        names = [n for n in self.store.names() if n != name and n not in self._refused]
        return [n for n in reversed(names) if n < name] + [n for n in names if n > name]

    def _try_load(self, name: str) -> bool:
        try:
            snapshot = Snapshot.load(self.store.open(name))
            searcher = Searcher(
                snapshot, self.embedder, self.fusion, reranker=self.reranker, rerank_by_default=self.rerank_by_default
            )
            searcher.warm()  # before it serves: no question pays for counting a document's words
        except SearchIndexError as exc:
            self._refused.add(name)
            self.message = f"generation {name} refused: {exc}"
            log.error("%s", self.message)
            return False
        # said before it is "ready": `pqa serve` prints the address to open once it reads ready, as the last line
        log.info("serving generation %s (%d passages)", name, len(snapshot.searchable))
        self.searcher = searcher
        self.state, self.message = "ready", None
        self.swaps += 1
        settle_memory()
        return True
