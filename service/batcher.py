"""The model as the service shares it: one call at a time, and questions that arrive together embedded together.

The model is shared by requests and by re-index jobs running in the same process; its tokenizer
is not safe to call from two threads at once, so every call goes through one lock, and questions
that arrive together are embedded together.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from index.embedder import Embedder
from index.querycache import QueryCache

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger("pqa.batcher")


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
