"""The embedding model on ONNX Runtime with int8 matrix products: the fast path for CPUs with AVX2 alone.

Where the CPU has neither bf16 arithmetic nor VNNI (AVX2 alone), OpenVINO's best is fp32 (its int8 products
without VNNI were 0.58-0.60x fp32's speed), while ONNX Runtime's own int8 matrix kernel (MLAS, u8 x s8 with
AVX2's vpmaddubsw) multiplies at about twice fp32's rate: on the AMD EPYC with AVX2 alone, one 4096x384 by 384x1536
product 359 GOP/s against 154-180 GFLOP/s in fp32 (ONNX Runtime and PyTorch).

The model (the same merged weights the other runtimes run) is exported from PyTorch once per machine, its
attention, layer norms and GELU fused by ONNX Runtime's transformer optimizer, then quantized: every matrix
product multiplies 7-bit weights (per output channel) by uint8 activations rounded per call (dynamic
quantization: each product's input range is read from the call it computes, so every text runs alone), except the
few input channels of each second feed-forward product whose activations dwarf the others' (`OUTLIERS`), which
multiply in fp32 beside it; attention's softmax, the layer norms and GELU stay fp32. Built under the conversion cache
(`onnxruntime-int8-<recipe key>/`) in about 35 s on 2 cores, atomically. Whether it may serve is decided like
every other precision: `bench/accept.py` measures it against fp32 and records the verdict under the recipe's key
(index/precision.py).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import threading
import warnings
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import conversion
from .errors import ModelNotFound
from .runtime import WARM_TOKENS, TokenEmbedder, warm_shapes
from .store import file_sha256

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger("pqa.runtime")

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
# Node types that multiply int8 (what makes the name "int8"; the others compute in fp32)
INT8_OPS = {
    "DynamicQuantizeMatMul",
    "MatMulInteger",
    "MatMulIntegerToFloat",
    "QAttention",
    "QLinearMatMul",
    "DynamicQuantizeLinear",
}


def onnxruntime_available() -> bool:
    """Whether ONNX Runtime and onnx (for the export and the quantization) are installed; found without importing."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def cpu_suits_ort_int8() -> bool:
    """Whether ONNX Runtime's int8 is this CPU's fastest accepted arithmetic: AVX2, and neither VNNI (w8a8 on
    OpenVINO) nor bf16 (AVX-512 BF16 or AMX: OpenVINO in bf16). Read from the CPU's flags alone: oneDNN's ISA cap
    (bench/machine.py's AVX2 emulation) does not reach ONNX Runtime's kernels, so a capped run is no AVX2 measure."""
    from .runtime import cpu_flags

    flags = cpu_flags()
    faster = {"avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}
    return "avx2" in flags and not flags & faster


def _versions() -> dict[str, str]:
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
    digest.update(json.dumps({"recipe": RECIPE, "versions": _versions()}, sort_keys=True).encode())
    digest.update(file_sha256(conversion.CALIBRATION).encode())  # the texts the outliers are found on
    return str(digest.hexdigest())


def model_folder(key: str, cache_dir: Path | None = None) -> Path:
    """Where the int8 model of the recipe `key` (`recipe_key`) is built and its local acceptance records are kept:
    under the conversion cache."""
    return (cache_dir or conversion.default_cache_dir()) / f"{RUNTIME}-{key[:24]}"


def model_shape(model_dir: Path) -> tuple[int, int]:
    """(attention heads, hidden size) from the model's config.json: what the optimizer's fusion needs."""
    config = json.loads((model_dir / "config.json").read_text())
    return int(config.get("num_attention_heads", 12)), int(config.get("hidden_size", 384))


def build_int8(model_dir: Path, target: Path, key: str) -> Path:
    """Export, fuse and quantize the transformer of `model_dir` into `target` (atomically); returns the .onnx."""

    def build(staging: Path) -> dict[str, object]:
        exported, fused = staging / "exported.onnx", staging / "fused.onnx"
        outliers = export(model_dir, exported)
        # the optimizer and the quantizer report every node (and advice) on the root logger: quiet while they run
        logging.disable(logging.WARNING)
        try:
            excluded = fuse_and_quantize(model_dir, exported, fused, staging / ONNX_NAME)
        finally:
            logging.disable(logging.NOTSET)
        exported.unlink()
        fused.unlink()
        return {
            "model": str(model_dir),
            "recipe": RECIPE,
            "versions": _versions(),
            "key": key,
            "excluded": excluded,
            "outliers": outliers,
        }

    log.info("building the ONNX Runtime int8 model of %s in %s (once, about 30 s)", model_dir, target)
    return conversion.build_atomically(target, build, model=ONNX_NAME, weights=ONNX_NAME)


def export(model_dir: Path, path: Path) -> list[list[int]]:
    """The transformer of `model_dir` (eager attention, which the optimizer can fuse) as ONNX at `path`, each
    layer's second feed-forward product split (`split_product`); returns each layer's outlier channels."""
    import torch
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    outliers: list[list[int]] = []
    if bert_layers(encoder):
        outliers = outlier_channels(encoder, model_dir, conversion.calibration_texts()[:CALIBRATION_TEXTS], OUTLIERS)
        for layer, channels in zip(encoder.encoder.layer, outliers, strict=True):
            layer.output.dense = split_product(layer.output.dense, channels)
    else:  # a configured model of another architecture: nothing is split, and every product is int8
        log.warning("%s is not laid out as BERT is (encoder.layer[i].output.dense): no product kept in fp32", model_dir)

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = (torch.ones((2, 16), dtype=torch.long),) * 2 + (torch.zeros((2, 16), dtype=torch.long),)
    # tracing warns about data-dependent branches that are constant for this encoder; they are noise here
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(),
            example,
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    return outliers


def bert_layers(encoder: Any) -> bool:
    """Whether `encoder` is laid out as BERT is (the bundled model, MPNet alike): each of `encoder.encoder.layer`
    with an `intermediate` (the first feed-forward product and GELU) and an `output.dense` (the second)."""
    layers: Any = getattr(getattr(encoder, "encoder", None), "layer", None)
    return bool(layers) and all(
        hasattr(layer, "intermediate") and hasattr(getattr(layer, "output", None), "dense") for layer in layers
    )


def outlier_channels(encoder: Any, model_dir: Path, texts: Sequence[str], count: int) -> list[list[int]]:
    """For each layer, the `count` input channels of its second feed-forward product (GELU's outputs) whose
    largest magnitude over `texts` is largest, in PyTorch fp32."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    layers = encoder.encoder.layer
    largest: list[Any] = [None] * len(layers)

    def watch(index: int) -> Any:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            seen = output.detach().abs().amax(dim=(0, 1))
            largest[index] = seen if largest[index] is None else torch.maximum(largest[index], seen)

        return hook

    hooks = [layer.intermediate.register_forward_hook(watch(i)) for i, layer in enumerate(layers)]
    try:
        with torch.no_grad():
            for text in texts:
                encoder(**tokenizer(text, return_tensors="pt", truncation=True, max_length=conversion.MAX_SEQUENCE))
    finally:
        for hook in hooks:
            hook.remove()
    return [sorted(torch.argsort(m, descending=True)[:count].tolist()) for m in largest]


def split_product(dense: Any, channels: Sequence[int]) -> Any:
    """`dense` (a torch Linear) as the sum of two products: its input without `channels` (zeroed) by its weights
    without their columns, and `channels` alone by theirs (`outliers`, kept in fp32 by NOT_QUANTIZED). In exact
    arithmetic the same as `dense`."""
    import torch

    class Split(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            weight, bias = dense.weight.detach(), dense.bias.detach()
            keep = torch.ones(weight.shape[1], dtype=weight.dtype)
            keep[list(channels)] = 0
            self.keep = keep  # constants of the exported graph
            self.channels = torch.tensor(list(channels), dtype=torch.long)
            self.rest = torch.nn.Linear(weight.shape[1], weight.shape[0])
            self.rest.weight.data = weight * keep[None, :]
            self.rest.bias.data = bias.clone()
            self.outliers = torch.nn.Linear(len(channels), weight.shape[0], bias=False)
            self.outliers.weight.data = weight[:, list(channels)].clone()

        def forward(self, x: Any) -> Any:
            return self.rest(x * self.keep) + self.outliers(torch.index_select(x, -1, self.channels))

    return Split()


def fuse_and_quantize(model_dir: Path, exported: Path, fused: Path, quantized: Path) -> list[str]:
    """Fuse `exported` into `fused` and quantize that into `quantized` (RECIPE); returns the nodes left in fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    heads, hidden = model_shape(model_dir)
    optimize_model(str(exported), model_type="bert", num_heads=heads, hidden_size=hidden).save_model_to_file(str(fused))
    excluded = [name for name in _node_names(fused) if re.search(NOT_QUANTIZED, name)]
    quantize_dynamic(
        str(fused),
        str(quantized),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Attention"],
        nodes_to_exclude=excluded,
        reduce_range=True,
        extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT: the type of the fused nodes' outputs
    )
    return excluded


def _node_names(path: Path) -> list[str]:
    import onnx

    return [node.name for node in onnx.load(str(path), load_external_data=False).graph.node]


def int8_nodes(path: Path) -> int:
    """How many nodes of the model at `path` compute in int8 (what the runtime's name is read from)."""
    import onnx

    return sum(node.op_type in INT8_OPS for node in onnx.load(str(path), load_external_data=False).graph.node)


class _Session:
    """An ONNX Runtime session on `threads` cores (None: every core), one inference at a time."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()

    def infer(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return np.asarray(hidden, dtype=np.float32)


class OnnxRuntimeEmbedder(TokenEmbedder):
    """The model on ONNX Runtime with int8 matrix products (RECIPE); the name is read from the built graph."""

    def __init__(
        self,
        name: str,
        model_dir: Path,
        cache_dir: Path | None = None,
        reason: str = "",
        key: str = "",
        threads: int | None = None,
    ) -> None:
        """`key`: `recipe_key(model_dir)` where the caller has it already (it reads the whole weights file);
        `threads`: the cores one inference uses (None: every core)."""
        if not onnxruntime_available():
            raise ModelNotFound("the ONNX Runtime path needs the packages onnxruntime and onnx; run: pip install -e .")
        self._name = name
        self.acceptance_key = key or recipe_key(model_dir)
        target = model_folder(self.acceptance_key, cache_dir)
        path = target / ONNX_NAME
        if not path.exists():
            build_int8(model_dir, target, self.acceptance_key)
        self.cache_folder = target
        self.model_path = path
        self.weights_sha256 = conversion.weights_sha256(target)  # of model.onnx, written by the build
        self._precision = "int8" if int8_nodes(path) else "fp32"
        self._runtime = f"onnxruntime-{self._precision}"
        self.precision_reason = reason or "onnxruntime-int8 asked for"
        session = _Session(path, threads)
        self._model = session
        self._dim = int(model_shape(model_dir)[1])
        self._load_tokenizers(model_dir / "tokenizer.json")
        warm_shapes(session, WARM_TOKENS)
        log.info("ONNX Runtime %s: %s", self._runtime, self.precision_reason)

    @property
    def vectors_key(self) -> str:
        """What makes this embedder's vectors: the runtime, the model it built (the sha256 of its bytes) and how it
        runs it (the recipe's key: one text a call, at its own length)."""
        return f"{self._runtime}-{self.weights_sha256[:12]}-{self.acceptance_key[:8]}"

    def _width(self, tokens: int) -> int:
        # Each text at its own length: ONNX Runtime prepares no kernel per shape, and a padded position's activations
        # would widen the range each product's input is rounded to (a question padded to the next 16 tokens: least /
        # median cosine to fp32 over 200 library questions 0.9933 / 0.9959, at its own length 0.9944 / 0.9961), so
        # the vector would depend on how far its length is from the next multiple of 16; and the padding is work.
        return min(tokens, conversion.MAX_SEQUENCE)

    def _encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        # One text a call, passages and questions alike: each product's int8 range is read from the whole call's
        # activations, so in a batch a text's vector would depend on the texts beside it (a question batched with
        # others: cosine 0.9969 to itself alone), and an index or an answer on what was embedded with it. Alone, a
        # vector depends on its text only. It costs nothing here: 256 SciFact abstracts at 8,192 tokens a call
        # 27.2 passages/s, one at a time 27.7.
        return np.vstack([super(OnnxRuntimeEmbedder, self)._encode([text]) for text in texts])


def auto_reason(model_dir: Path, cache_dir: Path | None = None) -> tuple[str, str]:
    """(why `auto` runs ONNX Runtime's int8 here, the recipe's key), or ("", "") where it does not: the CPU suits it
    (AVX2 alone), the packages are installed and a measurement accepted this very recipe (index/precision.py). The
    key (a sha256 of the weights file) is read only where the CPU suits it."""
    from . import precision

    if not cpu_suits_ort_int8() or not onnxruntime_available() or not model_dir.is_dir():
        return "", ""
    key = recipe_key(model_dir)
    records = precision.load_records([model_folder(key, cache_dir) / precision.RECORDS, precision.SHIPPED])
    record = precision.find(records, ORT_INT8, key)
    if record is None:
        log.info("ONNX Runtime int8 was never measured on these weights (run: %s); OpenVINO instead", precision.MEASURE)
        return "", ""
    if not record.accepted:
        log.warning("ONNX Runtime int8 not used: %s", record.reason)
        return "", ""
    return f"{record.reason}; this CPU has AVX2 and neither VNNI nor bf16, where OpenVINO's fastest is fp32", key
