"""Questions that arrive while the model is busy are embedded together, each caller gets its own vector."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from index.embedder import Embedder
from service.batcher import SerializedEmbedder

from .conftest import FakeEmbedder


class GatedEmbedder(FakeEmbedder):
    """Records each batch of questions; the first batch waits until the test opens the gate.

    With `real`, the vectors (and the failures) are the real model's.
    """

    def __init__(self, fail_on: str | None = None, real: Embedder | None = None) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.fail_on = fail_on
        self.real = real

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        if len(self.batches) == 1:
            self.entered.set()
            assert self.gate.wait(30), "the test never opened the gate"
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError(f"cannot embed {self.fail_on!r}")
        if self.real is not None:
            return self.real.embed_queries(texts)
        return super().embed_queries(texts)


def ask_concurrently(
    wrapper: SerializedEmbedder, inner: GatedEmbedder, first: str, others: list[str]
) -> dict[str, np.ndarray | BaseException]:
    results: dict[str, np.ndarray | BaseException] = {}

    def ask(text: str) -> None:
        try:
            results[text] = wrapper.embed_query(text)
        except BaseException as exc:  # the test inspects it
            results[text] = exc

    threads = [threading.Thread(target=ask, args=(first,))]
    threads[0].start()
    assert inner.entered.wait(30)
    for text in others:
        threads.append(threading.Thread(target=ask, args=(text,)))
        threads[-1].start()
    deadline = time.monotonic() + 30
    while len(wrapper._queue) < len(others):
        assert time.monotonic() < deadline, "the other questions never queued"
        time.sleep(0.005)
    inner.gate.set()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    return results


def test_questions_waiting_for_the_model_share_one_batch_and_get_their_own_vectors() -> None:
    inner = GatedEmbedder()
    wrapper = SerializedEmbedder(inner)
    others = ["who is an IDP", "what is the GCM", "define protection", "what is AAP"]
    results = ask_concurrently(wrapper, inner, "first question", others)
    assert inner.batches[0] == ["first question"]
    assert len(inner.batches) == 2
    assert sorted(inner.batches[1]) == sorted(others)
    for text, vector in results.items():
        assert isinstance(vector, np.ndarray)
        np.testing.assert_array_equal(vector, FakeEmbedder().embed_query(text))
    assert wrapper.batches == 2


def test_a_batch_never_exceeds_max_batch() -> None:
    inner = GatedEmbedder()
    wrapper = SerializedEmbedder(inner, max_batch=2)
    others = [f"question {n}" for n in range(5)]
    results = ask_concurrently(wrapper, inner, "first", others)
    assert [len(b) for b in inner.batches] == [1, 2, 2, 1]
    assert sorted(t for b in inner.batches[1:] for t in b) == sorted(others)
    assert all(isinstance(v, np.ndarray) for v in results.values())


def test_a_failed_batch_is_retried_one_question_at_a_time_so_only_the_bad_one_fails() -> None:
    inner = GatedEmbedder(fail_on="poison")
    wrapper = SerializedEmbedder(inner)
    results = ask_concurrently(wrapper, inner, "first", ["poison", "bystander"])
    assert isinstance(results["first"], np.ndarray)
    assert isinstance(results["poison"], RuntimeError)
    assert isinstance(results["bystander"], np.ndarray)  # it shared the poisoned batch, then went alone
    np.testing.assert_array_equal(results["bystander"], FakeEmbedder().embed_query("bystander"))
    assert sorted(map(tuple, inner.batches[2:])) == [("bystander",), ("poison",)]
    np.testing.assert_array_equal(wrapper.embed_query("after"), FakeEmbedder().embed_query("after"))
    assert not wrapper._queue


def test_text_the_real_tokenizer_refuses_fails_its_own_request_only(embedder: Embedder) -> None:
    """A lone surrogate makes the real tokenizer raise; the questions batched with it still get their vectors."""
    inner = GatedEmbedder(real=embedder)
    wrapper = SerializedEmbedder(inner)
    good = ["How does IOM define protection?", "Who funded the DIAP initiative?"]
    results = ask_concurrently(wrapper, inner, "first question", ["protection \ud800", *good])
    assert isinstance(results["protection \ud800"], Exception)
    for text in good:
        vector = results[text]
        assert isinstance(vector, np.ndarray), vector
        assert float(vector @ embedder.embed_query(text)) > 0.9999


@pytest.mark.parametrize("texts", [["How does IOM define protection?", "IDP", "What must States do for returnees?"]])
def test_the_real_model_gives_the_same_vectors_batched_as_alone(embedder: Embedder, texts: list[str]) -> None:
    together = embedder.embed_queries(texts)
    assert together.shape == (len(texts), embedder.dim)
    for text, vector in zip(texts, together, strict=True):
        assert float(vector @ embedder.embed_query(text)) > 0.99999
