"""The embedding model on ONNX Runtime with int8 matrix products: the fast path for CPUs with AVX2 alone.

Where the CPU has neither bf16 arithmetic nor VNNI (AVX2 alone), OpenVINO's best is fp32 (its int8 products
without VNNI were 0.58-0.60x fp32's speed), while ONNX Runtime's own int8 matrix kernel (MLAS, u8 x s8 with
AVX2's vpmaddubsw) multiplies at about twice fp32's rate: on the AMD EPYC with AVX2 alone, one 4096x384 by 384x1536
product 359 GOP/s against 154-180 GFLOP/s in fp32 (ONNX Runtime and PyTorch).

The model (the same merged weights the other runtimes run) is exported from PyTorch once per machine
(index/ortbuild.py), its attention, layer norms and GELU fused by ONNX Runtime's transformer optimizer, then
quantized: every matrix product multiplies 7-bit weights (per output channel) by uint8 activations rounded per call
(dynamic quantization: each product's input range is read from the call it computes, so every text runs alone),
except the few input channels of each second feed-forward product whose activations dwarf the others' (`OUTLIERS`,
index/ortrecipe.py), which multiply in fp32 beside it; attention's softmax, the layer norms and GELU stay fp32.
Built under the conversion cache (`onnxruntime-int8-<recipe key>/`) in about 35 s on 2 cores, atomically. Whether it
may serve is decided like every other precision: `bench/accept.py` measures it against fp32 and records the verdict
under the recipe's key (index/precision.py).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import conversion
from .cpu import cpu_suits_ort_int8
from .errors import ModelNotFound
from .ortbuild import build_int8, int8_nodes, model_shape
from .ortrecipe import ONNX_NAME, ORT_INT8, model_folder, recipe_key
from .tokenembedder import WARM_TOKENS, TokenEmbedder, warm_shapes

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger("pqa.runtime")


def onnxruntime_available() -> bool:
    """Whether ONNX Runtime and onnx (for the export and the quantization) are installed; found without importing."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


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
