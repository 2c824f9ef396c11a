"""The ONNX Runtime int8 model built from the merged weights, by the recipe of index/ortrecipe.py, once per machine.

The transformer is exported from PyTorch, each layer's second feed-forward product split in two around its outlier
channels (`split_product`), its attention, layer norms and GELU fused by ONNX Runtime's transformer optimizer, then
quantized: every matrix product in int8 but the outlier channels' (NOT_QUANTIZED), built atomically under the
conversion cache. torch, transformers, onnx and onnxruntime are imported by the functions that use them, never at
import.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import conversion
from .ortrecipe import CALIBRATION_TEXTS, NOT_QUANTIZED, ONNX_NAME, OUTLIERS, RECIPE, recipe_versions

log = logging.getLogger("pqa.runtime")

# Node types that multiply int8 (what makes the name "int8"; the others compute in fp32)
INT8_OPS = {
    "DynamicQuantizeMatMul",
    "MatMulInteger",
    "MatMulIntegerToFloat",
    "QAttention",
    "QLinearMatMul",
    "DynamicQuantizeLinear",
}


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
            "versions": recipe_versions(),
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
