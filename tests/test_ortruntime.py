"""ONNX Runtime's int8 path: built once from the merged weights, named by what its graph computes, vectors close to
PyTorch's, and chosen by `auto` only on a CPU with AVX2 alone and only for a recipe a measurement accepted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import index.cpu
from index import ortbuild, ortrecipe, ortruntime, precision
from index.embedder import Embedder, SentenceTransformerEmbedder, adapted_name, load_embedder
from index.errors import ModelNotFound

from .conftest import PAPER

pytestmark = pytest.mark.skipif(not ortruntime.onnxruntime_available(), reason="onnxruntime is not installed")

# Least cosine to PyTorch's fp32 vectors. int8 activations rounded per call measured 0.993 at worst over SciFact
# abstracts (AMD EPYC, AVX2 alone) and less for one-letter queries; whether it may serve is decided by the ranking
# (bench/accept.py), this catches a broken build.
COSINE = 0.97
QUERIES = ["How does IOM define protection?", "IDPs", "What did the 2023 MOPAN assessment say?", "x"]


@pytest.fixture(scope="module")
def pytorch() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="module")
def int8(openvino_cache: Path) -> ortruntime.OnnxRuntimeEmbedder:
    embedder = load_embedder(runtime="onnxruntime-int8", cache_dir=openvino_cache)
    assert isinstance(embedder, ortruntime.OnnxRuntimeEmbedder)
    return embedder


def paragraphs() -> list[str]:
    blocks = [b.strip() for b in PAPER.read_text(encoding="utf-8").split("\n\n")]
    return [b for b in blocks if len(b) > 40][:24]


def graph_ops(path: Path) -> list[str]:
    import onnx

    return [node.op_type for node in onnx.load(str(path)).graph.node]


def test_the_name_says_what_the_graph_computes(int8: ortruntime.OnnxRuntimeEmbedder) -> None:
    ops = graph_ops(int8.model_path)
    # found independently of the runtime's own reading: int8 products in the graph, and fused attention
    assert {"MatMulInteger", "DynamicQuantizeLinear", "QAttention"} <= set(ops)
    assert int8.runtime == "onnxruntime-int8" and int8.precision == "int8"
    assert int8.vectors_key.startswith("onnxruntime-int8-")
    # the recipe's products kept in fp32 (the outlier channels of each layer's second feed-forward product) were
    # found by name, not missed
    meta = json.loads((int8.model_path.parent / "weights.json").read_text())
    assert meta["excluded"] == [f"/encoder/encoder/layer.{i}/output/dense/outliers/MatMul" for i in range(6)]
    assert meta["key"] == int8.acceptance_key == ortrecipe.recipe_key(Path(meta["model"]))
    assert ops.count("MatMul") == 6  # those products, in fp32
    outliers = meta["outliers"]
    assert len(outliers) == 6 and all(len(set(c)) == ortrecipe.OUTLIERS and max(c) < 1536 for c in outliers)
    # the products' 10.6 M weights in int8 (42 MB in fp32), the outliers' 4,608 and the word embeddings' 11.7 M in
    # fp32: 59 MB against fp32's 90
    assert int8.model_path.stat().st_size < 62_000_000


def test_only_a_model_laid_out_as_bert_is_split() -> None:
    import torch
    from transformers import BertConfig, BertModel, DistilBertConfig, DistilBertModel

    tiny = {"hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 16, "num_hidden_layers": 2}
    assert ortbuild.bert_layers(BertModel(BertConfig(**tiny)))
    # DistilBERT's feed-forward products are `ffn.lin1` / `ffn.lin2`: exported whole, every product int8
    distil = DistilBertModel(DistilBertConfig(dim=8, n_heads=2, hidden_dim=16, n_layers=2))
    assert not ortbuild.bert_layers(distil) and not ortbuild.bert_layers(torch.nn.Linear(2, 2))


def test_a_split_product_is_the_product() -> None:
    import torch

    torch.manual_seed(0)
    dense = torch.nn.Linear(64, 16)
    split = ortbuild.split_product(dense, [3, 40])
    x = torch.randn(2, 5, 64)
    x[..., 3] *= 30  # an outlier channel, as GELU gives in the first layers
    with torch.no_grad():
        assert torch.allclose(split(x), dense(x), atol=1e-5)
        # the int8 part never sees the outliers; the fp32 part sees nothing else
        assert torch.equal(split.rest.weight[:, [3, 40]], torch.zeros(16, 2))
        assert torch.equal(split.outliers.weight, dense.weight[:, [3, 40]])


def test_vectors_match_pytorch_within_int8(pytorch: Embedder, int8: ortruntime.OnnxRuntimeEmbedder) -> None:
    texts = paragraphs()
    reference, fast = pytorch.embed_documents(texts), int8.embed_documents(texts)
    assert fast.shape == reference.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert float((fast * reference).sum(axis=1).min()) >= COSINE
    for query in QUERIES:
        assert float(int8.embed_query(query) @ pytorch.embed_query(query)) >= COSINE
    # questions are embedded alone even when several come at once: a question's vector never depends on the others
    together = int8.embed_queries(QUERIES)
    for query, vector in zip(QUERIES, together, strict=True):
        assert float(vector @ int8.embed_query(query)) > 0.99999
    # the same tokens and budget as every other runtime, so an index built by one is searched by another
    assert int8.name == pytorch.name == adapted_name()
    assert int8.max_tokens == pytorch.max_tokens
    assert int8.token_spans(texts[0]) == pytorch.token_spans(texts[0])
    assert int8.embed_documents([]).shape == (0, 384)


def test_the_build_is_cached_and_reused(int8: ortruntime.OnnxRuntimeEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_build(*args: object) -> Path:
        raise AssertionError("built again although the cache holds the model")

    monkeypatch.setattr(ortruntime, "build_int8", no_build)
    again = load_embedder(runtime="onnxruntime-int8", cache_dir=int8.cache_folder.parent)
    assert isinstance(again, ortruntime.OnnxRuntimeEmbedder) and again.model_path == int8.model_path
    assert float(again.embed_query("protection") @ int8.embed_query("protection")) > 0.99999


def record(key: str, accepted: bool) -> precision.Acceptance:
    reason = f"{ortrecipe.ORT_INT8} {'accepted' if accepted else 'rejected'}: SciFact nDCG@10 (test record)"
    return precision.Acceptance(ortrecipe.ORT_INT8, key, 0.74, 0.738, 52, 52, accepted, reason, "test")


@pytest.mark.parametrize(
    ("flags", "verdict", "expected"),
    [
        ({"avx2", "fma"}, True, "onnxruntime-int8"),  # AVX2 alone and accepted: int8 on ONNX Runtime
        ({"avx2", "fma"}, False, "openvino"),  # measured and rejected: OpenVINO, with a warning
        ({"avx2", "fma"}, None, "openvino"),  # never measured on this recipe
        ({"avx2", "avx512f", "avx512_vnni"}, True, "openvino"),  # VNNI: OpenVINO's w8a8 or fp32
        ({"avx2", "avx512f", "avx512_bf16"}, True, "openvino"),  # bf16: OpenVINO's bf16
    ],
)
def test_auto_runs_onnxruntime_int8_only_where_it_suits_and_was_accepted(
    int8: ortruntime.OnnxRuntimeEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    flags: set[str],
    verdict: bool | None,
    expected: str,
) -> None:
    monkeypatch.setattr(index.cpu, "cpu_flags", lambda: flags)
    monkeypatch.setattr(precision, "SHIPPED", tmp_path / "none.json")  # only this test's record counts
    records = int8.cache_folder / precision.RECORDS
    records.unlink(missing_ok=True)
    if verdict is not None:
        precision.save_record(records, record(int8.acceptance_key, verdict))
    try:
        with caplog.at_level(logging.INFO, logger="pqa.runtime"):
            chosen = load_embedder(runtime="auto", cache_dir=int8.cache_folder.parent)
    finally:
        records.unlink(missing_ok=True)
    assert chosen.runtime.startswith(expected)
    if expected == "onnxruntime-int8":
        assert "accepted" in getattr(chosen, "precision_reason", "")
    elif verdict is False:
        assert "ONNX Runtime int8 not used" in caplog.text and "rejected" in caplog.text
    elif verdict is None:
        assert "never measured" in caplog.text


def test_a_forced_int8_without_onnxruntime_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, openvino_cache: Path
) -> None:
    monkeypatch.setattr(ortruntime, "onnxruntime_available", lambda: False)
    with pytest.raises(ModelNotFound, match="pip install"):
        load_embedder(runtime="onnxruntime-int8", cache_dir=openvino_cache)
    # auto does not need it: it runs what else there is
    assert not load_embedder(runtime="auto", cache_dir=openvino_cache).runtime.startswith("onnxruntime")
