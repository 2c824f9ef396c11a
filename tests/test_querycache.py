"""The question-embedding cache: bounded, least recently used out first, keyed by model, runtime and text, counted."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.querycache import QueryCache, normalise
from service.app import create_app
from service.batcher import SerializedEmbedder
from service.settings import Settings

from .conftest import FakeEmbedder


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(8).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_hits_and_misses_are_counted() -> None:
    cache = QueryCache(4)
    assert cache.get("m", "openvino-int8", "What is protection?") is None
    cache.put("m", "openvino-int8", "What is protection?", unit(1))
    hit = cache.get("m", "openvino-int8", "  What is   protection? ")  # the same question, spaced otherwise
    assert hit is not None and np.array_equal(hit, unit(1))
    assert (cache.hits, cache.misses) == (1, 1)
    assert not hit.flags.writeable  # shared by every request that hits it


def test_the_key_holds_the_runtime_and_the_model() -> None:
    cache = QueryCache(4)
    cache.put("all-MiniLM-L6-v2", "openvino-int8", "IDPs", unit(1))
    assert cache.get("all-MiniLM-L6-v2", "openvino-fp32", "IDPs") is None
    assert cache.get("other-model", "openvino-int8", "IDPs") is None
    assert cache.get("all-MiniLM-L6-v2", "openvino-int8", "IDPs") is not None
    assert cache.key("m", "r", " a\tb\n") == ("m", "r", "a b") == ("m", "r", normalise("a  b"))


def test_the_size_is_bounded_and_the_least_recently_used_goes_first() -> None:
    cache = QueryCache(2)
    cache.put("m", "r", "first", unit(1))
    cache.put("m", "r", "second", unit(2))
    assert cache.get("m", "r", "first") is not None  # now "second" is the least recently used
    cache.put("m", "r", "third", unit(3))
    assert len(cache) == 2
    assert cache.get("m", "r", "second") is None
    assert cache.get("m", "r", "first") is not None and cache.get("m", "r", "third") is not None


def test_size_zero_keeps_and_counts_nothing() -> None:
    cache = QueryCache(0)
    cache.put("m", "r", "q", unit(1))
    assert cache.get("m", "r", "q") is None
    assert (len(cache), cache.hits, cache.misses) == (0, 0, 0)
    with pytest.raises(ValueError, match="0 \\(off\\) or more"):
        QueryCache(-1)


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.questions = 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
        self.questions += len(texts)
        return super().embed_queries(texts)


def test_a_repeated_question_skips_the_model_unless_the_cache_is_off() -> None:
    inner = CountingEmbedder()
    cached = SerializedEmbedder(inner, cache=QueryCache(8))
    first = cached.embed_query("Who funded DIAP?")
    again = cached.embed_query("Who funded  DIAP?")
    assert np.array_equal(first, again) and inner.questions == 1
    assert (cached.cache.hits, cached.cache.misses) == (1, 1)
    off = SerializedEmbedder(inner)  # no cache given: off, as every benchmark runs unless it says otherwise
    off.embed_query("Who funded DIAP?")
    off.embed_query("Who funded DIAP?")
    assert inner.questions == 3 and len(off.cache) == 0


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_metrics_show_hits_misses_and_the_runtime(paper_index: Path, embedder: Embedder) -> None:
    settings = Settings(index_dir=paper_index, query_cache=16, rate_limit=0)
    with TestClient(create_app(settings, embedder=embedder)) as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(3):
            assert client.get("/api/search", params={"q": "How does IOM define protection?"}).status_code == 200
        text = client.get("/metrics").text
        ready = client.get("/readyz").json()
    assert metric(text, "pqa_query_cache_misses_total") == 1
    assert metric(text, "pqa_query_cache_hits_total") == 2
    assert metric(text, "pqa_query_cache_entries") == 1
    label = f'pqa_embedding_runtime_info{{model="{embedder.name}",runtime="{embedder.runtime}"}}'
    assert metric(text, label) == 1
    assert ready["runtime"] == embedder.runtime
