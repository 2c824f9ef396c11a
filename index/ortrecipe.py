"""The ONNX Runtime int8 model's recipe: how it is made (RECIPE and the outlier split), its key and its folder.

The key (`recipe_key`) is the sha256 of the model's weights, config and tokenizer, the recipe, the calibration texts
and the versions of torch, onnx and ONNX Runtime: what an acceptance record of the model names (index/precision.py),
known before building it. A changed recipe is a new key: a new folder under the conversion cache, measured anew.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import conversion
from .store import file_sha256

ONNX_NAME = "model.onnx"
ORT_INT8 = "ort-int8"  # the precision's name in acceptance records and PQA_RUNTIME ("onnxruntime-int8")
RUNTIME = "onnxruntime-int8"
# The second feed-forward product of every layer (1536 -> 384) reads GELU's outputs, the widest activations, which one
# range per call rounds worst; kept whole in fp32 they cost about a sixth of the speed. The weights are rounded to 7
# bits (reduce_range): AVX2's u8 x s8 instruction (vpmaddubsw) adds pairs of products into 16 bits, which saturate when
# the activations fill their 8 bits, as they do when a call holds one text. Measured on the AMD EPYC with AVX2 alone,
# least / median cosine to PyTorch over 256 SciFact abstracts in batches of 8,192 tokens and one at a time:
# every product in int8 0.9882 / 0.9933 batched (SciFact nDCG@10 of the default pipeline 0.7328, fp32's 0.7376);
# the first layer's kept 0.9906 / 0.9944 (0.7305); all six kept 0.9935 / 0.9961 batched and 0.9897 / 0.9947
# alone (0.7355, batched); all six kept with 7-bit weights 0.9949 / 0.9969 batched, 0.9952 / 0.9971 alone; 7-bit
# weights and every product in int8 0.9879 / 0.9939 alone, the first layer's kept 0.9919 / 0.9948 alone.
#
# Those widest activations are wide in one or two channels: over the calibration texts, the largest GELU output
# of layer 0 is 24.7 in one of its 1,536 channels, the next 6.0 (99th percentile 5.0); layers 1-3 alike (20.3,
# 17.4 and 14.6, 13.6), layers 4-5 without one. One range per call spans that channel, so every other channel
# is rounded four times coarser than it needs. So each layer's product is split in two (LLM.int8()'s
# decomposition, with outliers chosen once): its `OUTLIERS` input channels of the largest activation (found once,
# over the first `CALIBRATION_TEXTS` texts of index/data/calibration.jsonl) multiply their rows of the weights in
# fp32, and the other channels (the outliers zeroed) in int8; the sum is the product. Measured on the AMD EPYC with
# AVX2 alone, least / median cosine to fp32 over 128 SciFact abstracts and 200 SciFact questions, one at a time:
# the product in fp32 0.9952 / 0.9972 and 0.9943 / 0.9964; split with 2 channels apart 0.9947 / 0.9963 and
# 0.9935 / 0.9958 (4 apart: no better); all of it int8 0.9906 / 0.9940 and 0.9889 / 0.9931; SmoothQuant's scaling
# (alpha 0.5: 0.9733 / 0.9821; 0.75: 0.9904 / 0.9947) no better, since the weights are rounded per output channel.
# Passages/s 28.1 fp32 product, 31.2 split, 33.1 all int8 (best of 3 alternating rounds, 128 abstracts).
OUTLIERS = 2
CALIBRATION_TEXTS = 128
NOT_QUANTIZED = r"/encoder/layer\.\d+/output/dense/outliers/MatMul$"
RECIPE: dict[str, object] = {
    "export": "torch.onnx.export (TorchScript), opset 17, eager attention",
    "optimize": "onnxruntime.transformers.optimizer, model_type bert",
    "quantize": "onnxruntime.quantization.quantize_dynamic: QInt8 weights per channel, QUInt8 activations",
    "reduce_range": True,
    "op_types": ["MatMul", "Attention"],
    "not_quantized": NOT_QUANTIZED,
    "outliers": f"each layer's second feed-forward product: its {OUTLIERS} input channels of the largest activation "
    f"over the first {CALIBRATION_TEXTS} calibration texts in fp32, the others in int8",
    "length": "each text alone at its own length, unpadded",
}


def recipe_versions() -> dict[str, str]:
    """The versions of torch, onnx and ONNX Runtime ("missing" where one is not installed): part of the recipe."""
    found = {}
    for package in ("torch", "onnx", "onnxruntime"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "missing"
    return found


def recipe_key(model_dir: Path) -> str:
    """The sha256 of what makes the int8 model: the model's weights, config and tokenizer, the recipe and the
    versions of torch, onnx and ONNX Runtime. What an acceptance record of it names (known before building it)."""
    digest = conversion.model_digest(model_dir, "ONNX Runtime")
    digest.update(json.dumps({"recipe": RECIPE, "versions": recipe_versions()}, sort_keys=True).encode())
    digest.update(file_sha256(conversion.CALIBRATION).encode())  # the texts the outliers are found on
    return str(digest.hexdigest())


def model_folder(key: str, cache_dir: Path | None = None) -> Path:
    """Where the int8 model of the recipe `key` (`recipe_key`) is built and its local acceptance records are kept:
    under the conversion cache."""
    return (cache_dir or conversion.default_cache_dir()) / f"{RUNTIME}-{key[:24]}"
