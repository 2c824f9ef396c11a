"""The service's live state: the model, loaded once, and the follower of the index's current generation.

`start()` loads the model (in a background thread unless told otherwise), then a Follower
(service/follower.py) loads the current generation and polls the pointer every `reload_interval`
seconds. Requests ask for `searcher()`, health checks for `status()`; re-index jobs share the model
through `wait_model()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from index.embedder import Embedder, load_embedder
from index.errors import IndexNotFound, SearchIndexError
from index.querycache import QueryCache
from index.reranker import Reranker
from index.search import Searcher
from index.store import Store

from .batcher import SerializedEmbedder
from .follower import Follower, ingest_command
from .settings import Settings

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
    reranker: str | None = None  # "protection-scifact-cross-r16 on openvino-bf16, top 10, weight 0.07"; None: none runs
    reranker_reason: str | None = None  # why none runs: off by the settings, or failed to load
    rerank: str = "off"  # which questions it re-scores: "on" (all that do not say rerank=false), "ask", "off" (none)


class Engine:
    def __init__(
        self,
        settings: Settings,
        embedder_factory: Callable[[], Embedder] | None = None,
        threads: int | None = None,
    ) -> None:
        """`threads`: the cores one inference of the model may use (None: every core; a search process's share)."""
        self.settings = settings
        self.threads = threads
        self.store = Store(settings.index_dir)
        self._factory = embedder_factory or (
            lambda: load_embedder(settings.model, settings.runtime, settings.model_cache, threads)
        )
        self.embedder: SerializedEmbedder | None = None
        self.reranker: Reranker | None = None
        self.reranker_reason: str | None = None
        self._follower: Follower | None = None
        self._state = "starting"  # of the model; once it is loaded, the follower's state is the engine's
        self._message: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self, background: bool = True) -> None:
        if background:
            self._thread = threading.Thread(target=self._run, name="pqa-engine", daemon=True)
            self._thread.start()
        else:
            self._load_model()
            self.refresh()
            self._thread = threading.Thread(target=self._follow, name="pqa-follower", daemon=True)
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
        except Exception as exc:  # anything else would leave the service "loading" for ever, saying nothing
            self._state = "failed"
            self._message = f"the model failed to load ({type(exc).__name__}: {exc}); see the service log"
            log.exception("model failed to load")
            return
        self.refresh()
        self._follow()

    def _follow(self) -> None:
        assert self._follower is not None
        self._follower.follow(self._stop, self.settings.reload_interval)

    def _load_model(self) -> None:
        self._state = "loading"
        embedder = SerializedEmbedder(self._factory(), cache=QueryCache(self.settings.query_cache))
        self._load_reranker()
        self._follower = Follower(
            self.store,
            embedder,
            self.settings.ranking(),
            self.reranker,
            self.settings.rerank == "on",
            corpus=self.settings.corpus,
        )
        self.embedder = embedder

    def _load_reranker(self) -> None:
        """The cross-encoder, where the settings ask for it; one that fails to load leaves the first stage's order
        as the answer, and says why in /readyz."""
        if self.settings.rerank == "off":
            self.reranker = None
            self.reranker_reason = "off (PQA_RERANK=ask loads it for the questions that ask for it, on for all)"
            return
        try:
            self.reranker, self.reranker_reason = self.settings.reranker(self.threads), None
        except (SearchIndexError, OSError, RuntimeError, ValueError) as exc:
            self.reranker = None
            self.reranker_reason = f"the reranker failed to load ({exc}); answering in the first stage's order"
            log.error("%s", self.reranker_reason)

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
        """Load the current generation if it is new; returns whether a swap happened (never before the model)."""
        follower = self._follower
        return follower.refresh() if follower is not None else False

    def catch_up(self, generation: str) -> bool:
        """Serve `generation`, the one the serving process serves (service/follower.py `catch_up`)."""
        follower = self._follower
        return follower.catch_up(generation) if follower is not None else False

    @property
    def swaps(self) -> int:
        """Generations loaded since start-up."""
        follower = self._follower
        return follower.swaps if follower is not None else 0

    # -- for requests ----------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The Searcher to use for one request; raises NotReady or IndexNotFound."""
        follower = self._follower
        if follower is not None and follower.searcher is not None:
            return follower.searcher
        state, message = self._state_and_message()
        if state == "no_index":
            raise IndexNotFound(message or f"no index; run: {ingest_command(self.store.root, self.settings.corpus)}")
        if state == "failed":
            raise NotReady(message or "the index failed to load; see the service log")
        raise NotReady("the model and index are loading; try again in a few seconds")

    def _state_and_message(self) -> tuple[str, str | None]:
        follower = self._follower
        if follower is None:
            return self._state, self._message
        return follower.state, follower.message

    def status(self) -> Status:
        follower = self._follower
        searcher = follower.searcher if follower is not None else None
        state, message = self._state_and_message()
        return Status(
            state=state,
            generation=searcher.snapshot.generation if searcher else None,
            passages=len(searcher.snapshot.searchable) if searcher else 0,
            runtime=self.embedder.runtime if self.embedder else None,
            message=message,
            runtime_reason=self.embedder.runtime_reason if self.embedder else None,
            reranker=self._describe_reranker(),
            reranker_reason=self.reranker_reason,
            rerank=self.settings.rerank if self.reranker is not None else "off",
        )

    def _describe_reranker(self) -> str | None:
        r = self.reranker
        return f"{r.name} on {r.runtime}, top {r.top}, weight {r.weight}" if r is not None else None
