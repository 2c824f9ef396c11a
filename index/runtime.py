"""A faster embedding runtime: the bundled all-MiniLM-L6-v2 converted locally to OpenVINO, cached on disk.

The conversion reads the model's own safetensors (no download) with transformers + torch, once; the
OpenVINO IR is kept under `cache_dir/<key>/` where the key is the sha256 of the weights, the model's
config and the OpenVINO version, so a changed model or runtime converts again. At load the IR is
compiled in bf16 where the CPU computes in bf16 (AVX-512 BF16 or AMX) and in fp32 elsewhere: the
`runtime` name ("openvino-bf16", "openvino-fp32") says which one actually runs.

Texts are tokenised with the model's own tokenizer (`tokenizer.json`), mean-pooled over the attention
mask and L2-normalised, exactly as the sentence-transformers pipeline does. Inference requests are
per thread, so the service's worker threads can embed queries at the same time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelNotFound

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger("pqa.runtime")

IR_NAME = "model.xml"
MAX_SEQUENCE = 256  # the model's max_seq_length, special tokens included
BATCH_TOKENS = 8192  # padded tokens per inference call: long texts go in small batches, short ones in large


def default_cache_dir() -> Path:
    """Where converted models live unless the caller says otherwise."""
    return Path.home() / ".cache" / "protection-qa" / "openvino"


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def _conversion_key(model_dir: Path) -> str:
    import openvino

    digest = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        path = model_dir / name
        if not path.exists():
            raise ModelNotFound(f"{model_dir} has no {name}; the OpenVINO runtime needs a full model folder")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    digest.update(openvino.__version__.encode())
    return digest.hexdigest()[:24]


def convert(model_dir: Path, target: Path) -> Path:
    """Convert the transformer of `model_dir` to an OpenVINO IR in `target` (atomically); returns the .xml."""
    import openvino
    import torch
    from transformers import AutoModel

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        model = AutoModel.from_pretrained(str(model_dir)).eval()
        example = {
            "input_ids": torch.ones((2, 16), dtype=torch.long),
            "attention_mask": torch.ones((2, 16), dtype=torch.long),
            "token_type_ids": torch.zeros((2, 16), dtype=torch.long),
        }
        # tracing warns about data-dependent branches that are constant for this encoder; they are noise here
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            converted = openvino.convert_model(model, example_input=example)
        openvino.save_model(converted, str(staging / IR_NAME), compress_to_fp16=False)
        (staging / "source.json").write_text(json.dumps({"model": str(model_dir)}))
        try:
            os.replace(staging, target)
        except OSError:  # another process converted it first: keep theirs
            if not (target / IR_NAME).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / IR_NAME


def cpu_has_bf16() -> bool:
    """Whether OpenVINO's CPU plugin computes in bf16 here (it silently falls back to fp32 otherwise)."""
    import openvino

    capabilities = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return "BF16" in capabilities


# OpenVINO's element types print as "<Type: 'bfloat16'>" and name themselves "bf16", "f32", "f16"
# (`get_type_name()`); the runtime's name uses the usual short words.
_PRECISIONS = {"bf16": "bf16", "bfloat16": "bf16", "f32": "fp32", "float32": "fp32", "f16": "fp16", "float16": "fp16"}


def precision_name(compiled_precision: object) -> str:
    """The short name ("bf16", "fp32", "fp16") of an OpenVINO element type as `compile_model` reports it."""
    get_type_name = getattr(compiled_precision, "get_type_name", None)
    text = str(get_type_name() if callable(get_type_name) else compiled_precision).lower()
    word = text.removeprefix("<type: '").removesuffix("'>")
    if word not in _PRECISIONS:
        raise ValueError(
            f"unknown OpenVINO inference precision {compiled_precision!r}; expected one of {sorted(_PRECISIONS)}"
        )
    return _PRECISIONS[word]


class OpenVinoEmbedder:
    """all-MiniLM-L6-v2 on OpenVINO's CPU plugin; the same vectors as the PyTorch path to ~1e-4 cosine."""

    def __init__(self, name: str, model_dir: Path, cache_dir: Path | None = None, precision: str = "auto") -> None:
        import openvino
        from tokenizers import Tokenizer

        self._name = name
        folder = (cache_dir or default_cache_dir()) / _conversion_key(model_dir)
        xml = folder / IR_NAME
        if not xml.exists():
            log.info("converting %s to OpenVINO in %s (once)", model_dir, folder)
            xml = convert(model_dir, folder)
        if precision == "auto":
            precision = "bf16" if cpu_has_bf16() else "f32"
        core = openvino.Core()
        self._compiled: Any = core.compile_model(
            core.read_model(str(xml)),
            "CPU",
            {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"},
        )
        self._precision = precision_name(self._compiled.get_property("INFERENCE_PRECISION_HINT"))
        self._runtime = f"openvino-{self._precision}"
        self._tokenizer: Any = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=MAX_SEQUENCE)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._spans: Any = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._spans.no_truncation()
        self._spans.no_padding()
        self._dim = int(self._compiled.outputs[0].get_partial_shape()[2].get_length())
        # One inference request, reused: its buffers grow to the largest batch seen, and one per thread
        # (the server's pool has 40) held about 150 MB more under load for no speed.
        self._request: Any = None
        self._request_lock = threading.Lock()
        self.cache_folder = folder

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return MAX_SEQUENCE - 2

    @property
    def runtime(self) -> str:
        return self._runtime

    @property
    def precision(self) -> str:
        """What the compiled model computes in ("bf16" or "fp32"), read back from OpenVINO, not from the hint asked."""
        return self._precision

    @property
    def compiled_precision(self) -> object:
        """OpenVINO's own report of the compiled inference precision (an `openvino.Type`)."""
        return self._compiled.get_property("INFERENCE_PRECISION_HINT")

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        encoded = self._spans.encode(text, add_special_tokens=False)
        return [(int(a), int(b)) for a, b in encoded.offsets]

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        lengths = [len(e.ids) for e in self._spans.encode_batch(list(texts), add_special_tokens=False)]
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        first = 0
        while first < len(order):
            longest = min(lengths[order[first]] + 2, MAX_SEQUENCE)
            last = first + 1
            # sorted ascending: the batch's last text is its longest, so grow while the padded size fits
            while last < len(order) and (last - first + 1) * min(lengths[order[last]] + 2, MAX_SEQUENCE) <= max(
                BATCH_TOKENS, longest
            ):
                last += 1
            batch = order[first:last]
            out[batch] = self._encode([texts[i] for i in batch])
            first = last
        return out

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.empty((0, self._dim), dtype=np.float32)
        return self._encode(texts)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        vector: NDArray[np.float32] = self._encode([text])[0]
        return vector

    def _encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
        with self._request_lock:
            if self._request is None:
                self._request = self._compiled.create_infer_request()
            inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            result = self._request.infer(inputs)
            # a copy: the output tensor is the request's own buffer, which the next call overwrites
            hidden = np.array(result[self._compiled.outputs[0]], dtype=np.float32, copy=True)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)
