"""The OpenVINO runtime: same vectors as PyTorch within its precision's bound, converted once and cached, a loud
fallback, and a name that says what was compiled (on /readyz too)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import index.runtime
import index.tokenembedder
from index.cpu import cpu_has_bf16
from index.embedder import Embedder, SentenceTransformerEmbedder, adapted_name, load_embedder
from index.errors import ModelNotFound
from index.runtime import OpenVinoEmbedder
from service.app import create_app
from service.settings import Settings

from .conftest import PAPER

pytestmark = pytest.mark.skipif(not index.runtime.openvino_available(), reason="openvino is not installed")


@pytest.fixture(scope="module")
def pytorch() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="module")
def openvino(openvino_cache: Path) -> OpenVinoEmbedder:
    embedder = load_embedder(runtime="openvino", cache_dir=openvino_cache)
    assert isinstance(embedder, OpenVinoEmbedder)
    return embedder


# Least cosine to PyTorch's fp32 vectors, per precision that runs. int8 weights (NNCF, per-channel, fp32
# arithmetic) measured 0.99896 at worst over SciFact abstracts; what decides whether int8 may serve is the
# ranking (bench/accept.py), this only catches a broken runtime.
# w8a8 (int8 activations too) measured 0.996 at worst over 200 questions and 256 SciFact abstracts, and 0.989 for
# the one-letter query "x".
COSINE = {"fp32": 0.9999, "bf16": 0.9999, "int8": 0.998, "w8a8": 0.98}


def expected_name(embedder: OpenVinoEmbedder) -> str:
    """The name the compiled model earns, found independently: w8a8 where its matrix products multiply (u)int8
    activations, int8 where they read (u)int8 weights only."""
    weights, inputs = set(), set()
    for op in embedder.compiled.get_runtime_model().get_ops():
        if str(op.get_rt_info()["layerType"].astype(str)).startswith("FullyConnected"):
            inputs.add(op.input(0).get_element_type().get_type_name())
            weights.add(op.input(1).get_element_type().get_type_name())
    if inputs & {"u8", "i8"}:
        return "openvino-w8a8"
    if weights & {"u8", "i8"}:
        return "openvino-int8"
    compiled = embedder.compiled_precision.get_type_name()  # type: ignore[attr-defined]
    return {"bf16": "openvino-bf16", "f32": "openvino-fp32"}[compiled]


def paper_paragraphs() -> list[str]:
    text = PAPER.read_text(encoding="utf-8")
    return [block.strip() for block in text.split("\n\n") if len(block.strip()) > 40][:40]


QUERIES = ["How does IOM define protection?", "IDPs", "What did the 2023 MOPAN assessment say?", "x"]


def test_openvino_vectors_match_pytorch_within_their_precision(pytorch: Embedder, openvino: OpenVinoEmbedder) -> None:
    texts = paper_paragraphs()
    assert len(texts) >= 20
    reference = pytorch.embed_documents(texts)
    fast = openvino.embed_documents(texts)
    assert fast.shape == reference.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    bound = COSINE[openvino.precision]
    assert float((fast * reference).sum(axis=1).min()) >= bound
    for query in QUERIES:
        assert float(openvino.embed_query(query) @ pytorch.embed_query(query)) >= bound


def test_long_text_is_truncated_like_the_model(pytorch: Embedder, openvino: OpenVinoEmbedder) -> None:
    long = " ".join(paper_paragraphs())  # thousands of word pieces: both keep the first 256
    assert len(openvino.token_spans(long)) > 1000
    bound = COSINE[openvino.precision]
    assert float(openvino.embed_documents([long])[0] @ pytorch.embed_documents([long])[0]) >= bound
    # one text alone takes the one-question path, which must truncate the same way
    assert float(openvino.embed_query(long) @ pytorch.embed_query(long)) >= bound


def test_same_name_tokens_and_budget_so_indexes_are_interchangeable(pytorch: Embedder, openvino: Embedder) -> None:
    assert openvino.name == pytorch.name == adapted_name()  # the bundled model with its adapter
    assert openvino.dim == pytorch.dim == 384
    assert openvino.max_tokens == pytorch.max_tokens == 254
    for text in [*paper_paragraphs()[:10], "Art. 33(1) — “non-refoulement”, IDPs’ rights"]:
        assert openvino.token_spans(text) == pytorch.token_spans(text)


def test_runtime_names_what_actually_runs(openvino: OpenVinoEmbedder, pytorch: Embedder) -> None:
    # the name and what OpenVINO says it compiled must agree, whatever this CPU is and whatever auto chose
    assert openvino.runtime == expected_name(openvino)
    assert openvino.runtime == f"openvino-{openvino.precision}"
    assert openvino.precision_reason
    assert pytorch.runtime == "pytorch-fp32"


@pytest.mark.parametrize("runtime", ["openvino-fp32", "openvino-bf16", "openvino-int8", "openvino-w8a8"])
def test_a_forced_precision_is_named_by_what_compiled(openvino: OpenVinoEmbedder, runtime: str) -> None:
    forced = load_embedder(runtime=runtime, cache_dir=openvino.cache_folder.parent)
    assert isinstance(forced, OpenVinoEmbedder)
    assert forced.runtime == expected_name(forced)
    if runtime == "openvino-int8":
        # really compressed: every matrix product reads uint8 weights, and the file is a quarter of fp32's
        assert index.runtime.matrix_weight_types(forced.compiled) == {"u8"}
        # and fp32 arithmetic: no int8 activations, which only CPUs with VNNI would compute (other vectors)
        assert forced.compiled.get_property("DYNAMIC_QUANTIZATION_GROUP_SIZE") == 0
        assert forced.vectors_key.endswith("-dq0")
        assert (
            forced.model_xml.with_suffix(".bin").stat().st_size
            < 0.3 * (openvino.cache_folder / "model.bin").stat().st_size
        )
    elif runtime == "openvino-w8a8":
        assert forced.runtime == runtime and forced.rest_precision in ("bf16", "fp32")
        texts = paper_paragraphs()[:8]
        fp32 = load_embedder(runtime="openvino-fp32", cache_dir=openvino.cache_folder.parent)
        assert float((forced.embed_documents(texts) * fp32.embed_documents(texts)).sum(axis=1).min()) >= COSINE["w8a8"]
    elif runtime == "openvino-bf16" and not cpu_has_bf16():
        assert forced.runtime == "openvino-fp32"  # OpenVINO fell back, and the name says so
    else:
        assert forced.runtime == runtime


def test_precision_names_follow_openvino_types() -> None:
    import openvino

    assert index.runtime.precision_name(openvino.Type.bf16) == "bf16"
    assert index.runtime.precision_name(openvino.Type.f32) == "fp32"
    assert index.runtime.precision_name(openvino.Type.f16) == "fp16"
    assert index.runtime.precision_name("<Type: 'bfloat16'>") == "bf16"
    assert index.runtime.precision_name("<Type: 'float32'>") == "fp32"
    with pytest.raises(ValueError, match="expected one of"):
        index.runtime.precision_name("<Type: 'int4'>")


def test_batching_does_not_change_vectors(openvino: OpenVinoEmbedder) -> None:
    texts = paper_paragraphs()[:12] + QUERIES
    together = openvino.embed_documents(texts)
    alone = np.stack([openvino.embed_query(t) for t in texts])
    cosines = (together * alone).sum(axis=1)
    if openvino.precision in ("fp32", "int8"):
        # fp32 arithmetic (int8 weights are decompressed to fp32): padding changes nothing a reader could see
        assert np.abs(together - alone).max() < 1e-4
    else:
        # bf16 rounds each product to 8 bits of mantissa, so padded batches differ by ~5e-4 per element;
        # what a user would notice is the ranking, and cosine 0.9999 keeps every SciFact/paper answer
        assert float(cosines.min()) >= 0.9999, float(cosines.min())
    assert openvino.embed_documents([]).shape == (0, 384)


def test_document_batches_hold_at_most_batch_tokens_as_padded(
    openvino: OpenVinoEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batches were planned on unpadded lengths, so a batch could run up to PAD_TO - 1 tokens a row over its budget
    shapes: list[tuple[int, int]] = []
    infer = openvino._model.infer

    def recording(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        shapes.append(ids.shape)
        return infer(ids, mask)

    monkeypatch.setattr(openvino._model, "infer", recording)
    monkeypatch.setattr(index.tokenembedder, "BATCH_TOKENS", 512)
    texts = [" ".join(["protection"] * n) for n in (1, 15, 16, 17, 30, 31, 33, 47, 49, 60, 90, 120, 250, 300)]
    vectors = openvino.embed_documents(texts)
    assert vectors.shape == (len(texts), 384)
    assert sum(rows for rows, _ in shapes) == len(texts)
    for rows, width in shapes:
        assert width % index.tokenembedder.PAD_TO == 0 or width == index.tokenembedder.MAX_SEQUENCE
        assert rows * width <= 512 or rows == 1, (rows, width)
    assert len(shapes) >= 3  # the budget split them


def test_queries_from_several_threads_at_once(openvino: Embedder) -> None:
    expected = {q: openvino.embed_query(q) for q in QUERIES}
    failures: list[str] = []

    def worker() -> None:
        for _ in range(5):
            for q in QUERIES:
                if np.abs(openvino.embed_query(q) - expected[q]).max() > 1e-5:
                    failures.append(q)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_the_conversion_is_cached_and_reused(openvino: OpenVinoEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = openvino.cache_folder
    assert (folder / "model.xml").exists() and (folder / "model.bin").exists()

    def no_conversion(*args: object) -> Path:
        raise AssertionError("converted again although the cache holds the model")

    monkeypatch.setattr(index.runtime, "convert", no_conversion)
    again = load_embedder(runtime="openvino", cache_dir=folder.parent)
    assert isinstance(again, OpenVinoEmbedder) and again.cache_folder == folder
    assert float(again.embed_query("protection") @ openvino.embed_query("protection")) > 0.99999


def test_auto_falls_back_to_pytorch_loudly(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import index.ortruntime

    monkeypatch.setattr(index.runtime, "openvino_available", lambda: False)
    monkeypatch.setattr(index.ortruntime, "onnxruntime_available", lambda: False)  # neither faster runtime
    with caplog.at_level(logging.WARNING, logger="pqa.embedder"):
        embedder = load_embedder(runtime="auto")
    assert embedder.runtime == "pytorch-fp32"
    assert "falling back to PyTorch" in caplog.text and "pip install openvino" in caplog.text
    with pytest.raises(ModelNotFound, match="pip install openvino"):
        load_embedder(runtime="openvino")
    with pytest.raises(ValueError, match="expected one of auto, openvino, openvino-bf16, openvino-w8a8, openvino-int8"):
        load_embedder(runtime="onnx")


def test_readyz_names_the_runtime_the_service_loaded(paper_index: Path, tmp_path: Path) -> None:
    import time

    settings = Settings(index_dir=paper_index, runtime="pytorch", model_cache=tmp_path)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["runtime"] == "pytorch-fp32"


def test_the_int8_bench_measures_the_model_it_recompiled(openvino_cache: Path) -> None:
    """bench/int8_static.py swaps an embedder's compiled model for another IR or setting: the embedder must then
    compute with that one (it once replaced models the embedder no longer used, and measured fp32 as int8)."""
    from bench.int8_static import recompiled

    base = load_embedder(runtime="openvino-fp32", cache_dir=openvino_cache)
    assert isinstance(base, OpenVinoEmbedder)
    swapped = recompiled(base, base.model_xml, "openvino-probe", {"DYNAMIC_QUANTIZATION_GROUP_SIZE": 7})
    assert swapped.runtime == "openvino-probe"
    assert int(swapped.compiled.get_property("DYNAMIC_QUANTIZATION_GROUP_SIZE")) == 7
    vector = swapped.embed_query("How does IOM define protection?")
    assert vector.shape == (swapped.dim,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
