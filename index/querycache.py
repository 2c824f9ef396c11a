"""Question embeddings kept in memory, least recently used dropped first, keyed by model, runtime and text.

People ask the same questions again (the page's examples, a shared link reloaded); a repeat costs a
dictionary look-up instead of the model. The key holds the model and the runtime that made the
vector, so vectors of one precision are never served as another's, and the question with its runs
of white space collapsed (the tokenizer splits on white space, so the vector is the same). Hits and
misses are counted for /metrics.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

Key = tuple[str, str, str]


def normalise(text: str) -> str:
    """The question as the cache knows it: stripped, white space collapsed to single spaces."""
    return " ".join(text.split())


class QueryCache:
    """A bounded LRU map (model, runtime, question) -> unit vector; `size` 0 keeps nothing and counts nothing."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"query cache size must be 0 (off) or more, not {size}")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._vectors: OrderedDict[Key, NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    @staticmethod
    def key(model: str, runtime: str, text: str) -> Key:
        return (model, runtime, normalise(text))

    def get(self, model: str, runtime: str, text: str) -> NDArray[np.float32] | None:
        """The cached vector (read-only), counting a hit or a miss; None when absent or when the cache is off."""
        if not self.size:
            return None
        key = self.key(model, runtime, text)
        with self._lock:
            vector = self._vectors.get(key)
            if vector is None:
                self.misses += 1
                return None
            self._vectors.move_to_end(key)
            self.hits += 1
            return vector

    def put(self, model: str, runtime: str, text: str, vector: NDArray[np.float32]) -> None:
        """Keep a copy of `vector`, dropping the least recently used entry beyond `size`."""
        if not self.size:
            return
        kept = np.array(vector, dtype=np.float32, copy=True)
        kept.setflags(write=False)  # shared by every request that hits it
        with self._lock:
            self._vectors[self.key(model, runtime, text)] = kept
            self._vectors.move_to_end(self.key(model, runtime, text))
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
