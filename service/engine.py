"""The service's live state: the model, the current generation's Searcher, and the watch for new generations.

The model loads once. A background thread checks the index pointer every `reload_interval` seconds
and swaps in a new Searcher when the generation changes; a request keeps the Searcher it started
with, so queries in flight finish on the old generation. A generation that fails to load is
refused and the service stays on (or falls back to) the last good one.

The model is shared by requests and by re-index jobs running in the same process; its tokenizer
is not safe to call from two threads at once, so every call goes through one lock, and questions
that arrive together are embedded together.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from index.embedder import Embedder, load_embedder
from index.errors import IndexNotFound, SearchIndexError
from index.querycache import QueryCache
from index.search import Searcher
from index.snapshot import Snapshot
from index.store import Store

from .settings import Settings

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger("pqa.engine")


class NotReady(Exception):
    """The model or the index is still loading."""


@dataclass(frozen=True)
class Status:
    state: str  # "starting", "loading", "ready", "no_index", "failed"
    generation: str | None
    passages: int
    runtime: str | None
    message: str | None
    runtime_reason: str | None = None


class _Question:
    __slots__ = ("error", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: NDArray[np.float32] | None = None
        self.error: BaseException | None = None


class SerializedEmbedder:
    """An Embedder whose calls run one at a time, and whose concurrent questions are embedded together.

    HF fast tokenizers raise "Already borrowed" when two threads call them at once, so every call
    holds one lock. Questions that arrive while the model is busy wait in a queue, and whichever
    request takes the model next embeds all the waiting ones in one batch (up to `max_batch`):
    under load a batch of short questions costs little more than one, and at low load nothing
    waits for a batch to fill, since a question that finds the model free is embedded at once.
    A question asked before is answered from `cache` (bounded, per model and runtime) without the model.
    """

    def __init__(self, inner: Embedder, max_batch: int = 32, cache: QueryCache | None = None) -> None:
        self.inner = inner
        self.max_batch = max_batch
        self.cache = cache if cache is not None else QueryCache(0)
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Question] = []
        self.batches = 0  # batches of questions embedded, and the questions in them (for /metrics)
        self.questions = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    @property
    def runtime(self) -> str:
        return self.inner.runtime

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        with self._lock:
            return self.inner.token_spans(text)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        with self._lock:
            return self.inner.embed_documents(texts)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        with self._lock:
            return self.inner.embed_queries(texts)

    @property
    def runtime_reason(self) -> str | None:
        """Why this runtime and precision (the OpenVINO embedder's choice; None for the others)."""
        reason = getattr(self.inner, "precision_reason", None)
        return reason if isinstance(reason, str) else None

    def embed_query(self, text: str) -> NDArray[np.float32]:
        cached = self.cache.get(self.name, self.runtime, text)
        if cached is not None:
            return cached
        vector = self._embed_in_turn(text)
        self.cache.put(self.name, self.runtime, text, vector)
        return vector

    def _embed_in_turn(self, text: str) -> NDArray[np.float32]:
        mine = _Question(text)
        with self._queue_lock:
            self._queue.append(mine)
        while mine.vector is None and mine.error is None:
            with self._lock:
                if mine.vector is not None or mine.error is not None:
                    break  # embedded by the request that held the model before us
                with self._queue_lock:
                    batch = self._queue[: self.max_batch]
                    del self._queue[: self.max_batch]
                self._embed(batch)
        if mine.error is not None:
            raise mine.error
        assert mine.vector is not None
        return mine.vector

    def _embed(self, batch: list[_Question]) -> None:
        """Embed `batch` (the model's lock held); when it fails, each question again alone.

        One question the model cannot take must cost one request, not every request that happened
        to share its batch.
        """
        try:
            vectors = self.inner.embed_queries([q.text for q in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            log.warning("a batch of %d questions failed (%s); embedding each alone", len(batch), type(exc).__name__)
            for question in batch:
                self._embed([question])
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: every waiter hears it
            for question in batch:
                question.error = exc
            raise
        else:
            for question, vector in zip(batch, vectors, strict=True):
                question.vector = vector
            self.batches += 1
            self.questions += len(batch)


def settle_memory() -> None:
    """Move what is loaded now (the model, the served generation) out of the garbage collector's sight.

    The model's and the index's objects are long-lived; left in the oldest generation, every full
    collection walks them all (about 40 ms here), stalling whichever requests are in flight: the
    tail of the latency. Frozen, a full collection walks only what requests allocate. Unfreezing
    first lets a replaced generation's objects be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Engine:
    def __init__(self, settings: Settings, embedder_factory: Callable[[], Embedder] | None = None) -> None:
        self.settings = settings
        self.store = Store(settings.index_dir)
        self._factory = embedder_factory or (
            lambda: load_embedder(settings.model, settings.runtime, settings.model_cache)
        )
        self._fusion = settings.ranking()
        self.embedder: SerializedEmbedder | None = None
        self._searcher: Searcher | None = None
        self._state = "starting"
        self._message: str | None = None
        self._refused: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.swaps = 0

    # -- life cycle ------------------------------------------------------------------------

    def start(self, background: bool = True) -> None:
        if background:
            self._thread = threading.Thread(target=self._run, name="pqa-engine", daemon=True)
            self._thread.start()
        else:
            self._load_model()
            self.refresh()
            self._thread = threading.Thread(target=self._watch, name="pqa-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            self._load_model()
        except SearchIndexError as exc:
            self._state, self._message = "failed", str(exc)
            log.error("model failed to load: %s", exc)
            return
        self.refresh()
        self._watch()

    def _watch(self) -> None:
        while not self._stop.wait(self.settings.reload_interval):
            self.refresh()

    def _load_model(self) -> None:
        self._state = "loading"
        self.embedder = SerializedEmbedder(self._factory(), cache=QueryCache(self.settings.query_cache))

    def wait_model(self, timeout: float) -> Embedder:
        """The loaded model, waiting up to `timeout` seconds for it (re-index jobs share it)."""
        deadline = time.monotonic() + timeout
        while self.embedder is None:
            if self._state == "failed" or time.monotonic() >= deadline:
                raise NotReady(self._message or f"the model did not load within {timeout:.0f} s; see the service log")
            time.sleep(0.1)
        return self.embedder

    # -- generations -----------------------------------------------------------------------

    def refresh(self) -> bool:
        """Load the current generation if it is new; returns whether a swap happened."""
        if self.embedder is None:
            return False
        with self._lock:
            name = self.store.current_name()
            loaded = self._searcher.snapshot.generation if self._searcher else None
            if name is None:
                if self._searcher is None:
                    self._state = "no_index"
                    self._message = str(IndexNotFound(f"no index in {self.store.root}; run: pqa ingest corpus/"))
                return False
            if name == loaded or name in self._refused:
                return False
            if self._try_load(name):
                return True
            refusal = self._message
            for candidate in [] if loaded else self._fallbacks(name):
                if self._try_load(candidate):
                    self._message = f"{refusal}; serving the last good generation {candidate}"
                    return True
            if self._searcher is None:
                self._state = "failed"
            return False

    def _fallbacks(self, name: str) -> list[str]:
        """Other generations to try when the current one cannot load: older ones newest first, then newer ones."""
        names = [n for n in self.store.names() if n != name and n not in self._refused]
        return [n for n in reversed(names) if n < name] + [n for n in names if n > name]

    def _try_load(self, name: str) -> bool:
        assert self.embedder is not None
        try:
            snapshot = Snapshot.load(self.store.open(name))
            searcher = Searcher(snapshot, self.embedder, self._fusion)
        except SearchIndexError as exc:
            self._refused.add(name)
            self._message = f"generation {name} refused: {exc}"
            log.error("%s", self._message)
            return False
        self._searcher = searcher
        self._state, self._message = "ready", None
        self.swaps += 1
        log.info("serving generation %s (%d passages)", name, len(snapshot.searchable))
        settle_memory()
        return True

    # -- for requests ----------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The Searcher to use for one request; raises NotReady or IndexNotFound."""
        searcher = self._searcher
        if searcher is not None:
            return searcher
        if self._state == "no_index":
            raise IndexNotFound(self._message or "no index; run: pqa ingest corpus/")
        if self._state == "failed":
            raise NotReady(self._message or "the index failed to load; see the service log")
        raise NotReady("the model and index are loading; try again in a few seconds")

    def status(self) -> Status:
        searcher = self._searcher
        return Status(
            state=self._state,
            generation=searcher.snapshot.generation if searcher else None,
            passages=len(searcher.snapshot.searchable) if searcher else 0,
            runtime=self.embedder.runtime if self.embedder else None,
            message=self._message,
            runtime_reason=self.embedder.runtime_reason if self.embedder else None,
        )
