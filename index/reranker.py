"""The second stage: the question read together with each of the first stage's best passages.

The first stage (index/search.py) scores a passage and a question apart: their vectors meet only in a cosine,
their words only in BM25. Passages close in meaning (an article and its sibling, the same rule in two
instruments, two evaluation reports of one programme) are ordered by small differences of those scores. A
cross-encoder reads "question [SEP] name. heading. label. passage" as one text, so every word of the question
attends to every word of the passage, and scores the pair.

It is the bundled model with a second low-rank adapter (index/adapter.py) and a head: the pair's embedding (mean
of its token vectors, normalised, as the model embeds any text) dotted with `head`, plus `bias`. So it runs on
whatever runtime the embedder runs (OpenVINO, its conversion cache, PyTorch), and its weights travel with the
package (`index/data/reranker/`, 2.6 MB), learned by `bench/train_reranker.py` on the tune half of the library
question set and the written training questions (never the held-out half; see `adapter.json` for on what).

The first stage's `top` passages are re-scored as `fused + weight * cross` and put in that order; the rest keep
theirs below them. `weight` and `top` were chosen on questions the reranker never learned from (the written ones
kept for calibration). A question that asks for a cited unit and nothing else ("What does Article 33 say?") is not
re-scored: the unit it names is its answer.

It learned the written protection questions and SciFact's train queries side by side, so that it does not learn
the library alone (README, "The reranker"). The service loads it where PQA_RERANK=ask (re-scoring the questions
that ask for it) or on (every question): it costs a pass of the model per re-scored passage, tens of milliseconds
where the first stage takes a few.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .context import context_text
from .embedder import Embedder
from .errors import ModelNotFound
from .records import DocumentInfo, Passage

if TYPE_CHECKING:
    from numpy.typing import NDArray

RERANKER_DIR = Path(__file__).resolve().parent / "data" / "reranker"
SEPARATOR = " [SEP] "  # the tokenizer reads it as the model's own separator token
HEAD = "head.weight"
BIAS = "head.bias"


def pair_text(question: str, passage: Passage, info: DocumentInfo | None) -> str:
    """What the cross-encoder reads: 'question [SEP] GCM. Objective 13: ... Objective 13(b).\\npassage text'."""
    context = context_text(passage, info)
    body = f"{context}\n{passage.text}" if context else passage.text
    return f"{question.strip()}{SEPARATOR}{body}"


@dataclass(frozen=True)
class RerankerSettings:
    """What `adapter.json` says of how the scores are used."""

    name: str
    top: int  # how many of the first stage's passages are re-scored
    weight: float  # fused + weight * cross


def read_settings(folder: Path = RERANKER_DIR) -> RerankerSettings:
    path = folder / "adapter.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        return RerankerSettings(str(meta["name"]), int(meta["top"]), float(meta["weight"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFound(
            f"cannot read the reranker's settings in {path}: {exc}; retrain it with bench/train_reranker.py "
            "or turn reranking off (PQA_RERANK=off)"
        ) from exc


class Reranker:
    """Scores (question, passage) pairs with an embedder of the cross-encoder's weights and a linear head."""

    def __init__(
        self,
        embedder: Embedder,
        head: NDArray[np.float32],
        bias: float,
        settings: RerankerSettings,
        lock: threading.Lock | None = None,
    ) -> None:
        if head.shape != (embedder.dim,):
            raise ModelNotFound(f"the reranker's head has shape {head.shape}, its model embeds {embedder.dim} numbers")
        self.embedder = embedder
        self.head = head.astype(np.float32)
        self.bias = float(bias)
        self.settings = settings
        self._lock = lock or threading.Lock()  # one call at a time: fast tokenizers refuse two threads at once
        self.calls = 0  # questions re-scored by this instance (the service's, for /metrics)
        self.pairs = 0  # passages re-scored
        self.seconds = 0.0  # time in the model, waiting for the lock included

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def runtime(self) -> str:
        return self.embedder.runtime

    @property
    def top(self) -> int:
        return self.settings.top

    @property
    def weight(self) -> float:
        return self.settings.weight

    def tuned(self, top: int | None = None, weight: float | None = None) -> Reranker:
        """The same model with another `top` or `weight` (None: keep the shipped one); it shares this one's lock."""
        settings = replace(
            self.settings,
            top=self.settings.top if top is None else top,
            weight=self.settings.weight if weight is None else weight,
        )
        return Reranker(self.embedder, self.head, self.bias, settings, self._lock)

    def scores(self, pairs: Sequence[str]) -> NDArray[np.float32]:
        """One score per `pair_text`; higher reads as more likely to answer."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        started = time.perf_counter()
        with self._lock:
            vectors = self.embedder.embed_documents(list(pairs))
            self.calls += 1
            self.pairs += len(pairs)
            self.seconds += time.perf_counter() - started
        return np.asarray(vectors @ self.head + self.bias, dtype=np.float32)


@functools.cache
def load_reranker(
    runtime: str = "auto", cache_dir: Path | None = None, folder: Path = RERANKER_DIR, threads: int | None = None
) -> Reranker:
    """The shipped cross-encoder: its adapter merged into the bundled weights once per machine (under the model
    cache, like the embedder's), on `runtime` (as index.embedder.load_embedder, on `threads` cores). Loaded once per
    process and arguments: every service and test of a process shares it (it serialises its own calls)."""
    from safetensors.numpy import load_file

    from .adapter import WEIGHTS, merged_model
    from .conversion import default_cache_dir
    from .embedder import default_model_path, load_embedder

    settings = read_settings(folder)
    tensors = load_file(str(folder / WEIGHTS))
    if HEAD not in tensors or BIAS not in tensors:
        raise ModelNotFound(f"{folder / WEIGHTS} has no head; retrain it with bench/train_reranker.py")
    merged = merged_model(default_model_path(), folder, (cache_dir or default_cache_dir()) / "reranker")
    embedder = load_embedder(str(merged), runtime, cache_dir, threads)
    return Reranker(embedder, tensors[HEAD].reshape(-1), float(tensors[BIAS].reshape(-1)[0]), settings)
