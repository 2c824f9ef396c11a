"""A faster embedding runtime: the bundled all-MiniLM-L6-v2 on OpenVINO, in the fastest precision accepted here.

The IR comes from index/conversion.py (converted once, cached). At load the precision is chosen by
index/precision.py: w8a8 (static int8: int8 weights times int8 activations in every matrix product, the
rest in bf16 where the CPU has it) where the CPU has VNNI and no AMX and a measurement accepted it; bf16
arithmetic where the CPU has it (AVX-512 BF16 or AMX) and a measurement accepted it; else fp32; int8
weights alone (NNCF weight compression, fp32 arithmetic) only when asked for. The `runtime` name
("openvino-w8a8", "openvino-bf16", "openvino-int8", "openvino-fp32") is read back from what OpenVINO
compiled, not from what was asked, and `precision_reason` says why that one.

Texts are tokenised with the model's own tokenizer (`tokenizer.json`), mean-pooled over the attention mask and
L2-normalised, exactly as the sentence-transformers pipeline does (index/tokenembedder.py). Everything, one
question included, runs on one compiled model that uses every core: on the AMD EPYC with AVX-512 BF16 (no AMX),
200 questions of 21 tokens on average one at a time took 3.0-3.3 ms p50 on both cores against 4.9 ms on a
one-thread copy (p99 4.9 against 8.8 ms), and over HTTP at 8 clients the p99 fell from 73.7 to 60.8 ms
(bench/speed.py, same machine); one compiled model also holds one copy of the weights, not two. The first text of
each shape costs about 4 ms more while OpenVINO prepares that shape's kernels, and OpenVINO keeps what it
prepared: so texts are padded (masked) to a multiple of PAD_TO tokens (index/tokenembedder.py), and the four
shapes a question usually takes (up to 64 tokens) are run once at load.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import conversion, precision
from .conversion import IR_NAME, convert, default_cache_dir
from .cpu import cpu_has_bf16, cpu_suits_w8a8
from .tokenembedder import WARM_TOKENS, TokenEmbedder, warm_shapes

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger("pqa.runtime")

__all__ = ["IR_NAME", "OpenVinoEmbedder", "convert", "default_cache_dir"]

CHOICES = ("auto", *precision.PRECISIONS)


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


# OpenVINO's element types print as "<Type: 'bfloat16'>" and name themselves "bf16", "f32", "f16"
# (`get_type_name()`); the runtime's name uses the usual short words.
_PRECISIONS = {"bf16": "bf16", "bfloat16": "bf16", "f32": "fp32", "float32": "fp32", "f16": "fp16", "float16": "fp16"}
_INT8 = {"u8", "i8", "uint8_t", "int8_t"}


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


def matrix_weight_types(compiled: Any) -> set[str]:
    """Element types of the weights the compiled model's matrix products read ("f32", or "u8" when compressed)."""
    types: set[str] = set()
    for op in compiled.get_runtime_model().get_ops():
        if str(op.get_rt_info()["layerType"].astype(str)).startswith("FullyConnected"):
            types.add(str(op.input(1).get_element_type().get_type_name()))
    return types


def matrix_input_types(compiled: Any) -> set[str]:
    """Element types of the activations the compiled model's matrix products read ("f32", or "u8"/"i8" when static
    int8 quantization rounds them)."""
    types: set[str] = set()
    for op in compiled.get_runtime_model().get_ops():
        if str(op.get_rt_info()["layerType"].astype(str)).startswith("FullyConnected"):
            types.add(str(op.input(0).get_element_type().get_type_name()))
    return types


def compiled_name(compiled: Any) -> str:
    """What a compiled model really runs: "w8a8" when its matrix products multiply int8 activations by int8
    weights, "int8" when they read int8 weights only (decompressed), else its arithmetic ("bf16", "fp32")."""
    if matrix_input_types(compiled) & _INT8:
        return "w8a8"
    if matrix_weight_types(compiled) & _INT8:
        return "int8"
    return precision_name(compiled.get_property("INFERENCE_PRECISION_HINT"))


class OpenVinoEmbedder(TokenEmbedder):
    """all-MiniLM-L6-v2 on OpenVINO's CPU plugin; the same vectors as the PyTorch path to ~1e-3 cosine or better.

    `precision`: "auto" (the fastest accepted here, see index/precision.py), or "bf16", "int8", "fp32"
    to force one (a forced bf16 on a CPU without it runs fp32, and the name says so).
    """

    _model: _Compiled

    def __init__(
        self,
        name: str,
        model_dir: Path,
        cache_dir: Path | None = None,
        precision: str = "auto",
        threads: int | None = None,
    ) -> None:
        """`threads`: the cores one inference uses (None: OpenVINO's choice, every core)."""
        import openvino

        if precision not in CHOICES:
            raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(CHOICES)}")
        self._name = name
        folder = (cache_dir or default_cache_dir()) / conversion.conversion_key(model_dir)
        if not (folder / IR_NAME).exists():
            log.info("converting %s to OpenVINO in %s (once)", model_dir, folder)
            convert(model_dir, folder)
        plan = _resolve(folder, precision, model_dir / "tokenizer.json")
        self.precision_reason = plan.reason
        core = openvino.Core()
        model = core.read_model(str(plan.xml))
        config: dict[str, object] = {"INFERENCE_PRECISION_HINT": plan.hint, "PERFORMANCE_HINT": "LATENCY"}
        if threads:
            # a share of the cores, beside other processes with theirs (service/pool.py): OpenVINO would pin each
            # process's threads to the first cores, every process to the same ones (2 search processes of 1 thread
            # on 2 cores, 8 clients: 85-91 requests/s pinned, 133-141 not)
            config["INFERENCE_NUM_THREADS"] = threads
            config["ENABLE_CPU_PINNING"] = False
        if plan.precision == "int8":
            # Where the CPU has VNNI, OpenVINO would also round the activations to int8 (dynamic quantisation,
            # groups of 32): other vectors on other CPUs (AVX2 alone has no VNNI), so the acceptance measured
            # on one would not hold on the other. Off: int8 weights, fp32 arithmetic, the same on every CPU.
            config["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = 0
        self._model = _Compiled.prepared(core, model, config)
        self._precision = compiled_name(self.compiled)
        self._runtime = f"openvino-{self._precision}"
        if self._precision == "w8a8":
            self.precision_reason += f"; the other operations in {self.rest_precision}"
        if self._precision != plan.precision:
            self.precision_reason += f"; OpenVINO compiled {self._precision}, not {plan.precision}, on this CPU"
            log.warning("%s", self.precision_reason)
        log.info("OpenVINO runtime %s: %s", self._runtime, self.precision_reason)
        self._load_tokenizers(model_dir / "tokenizer.json")
        self._dim = int(self.compiled.outputs[0].get_partial_shape()[2].get_length())
        self.cache_folder = folder
        self.model_xml = plan.xml
        self.weights_sha256 = conversion.weights_sha256(plan.xml.parent)
        # what an acceptance record names (index/precision.py): the weights, or for w8a8 the recipe that made them
        self.acceptance_key = plan.w8a8_key if self._precision == "w8a8" and plan.w8a8_key else self.weights_sha256

    @property
    def vectors_key(self) -> str:
        """What makes this embedder's vectors: the runtime name, the weights compiled and, for int8 weights, the
        activations' dynamic quantisation group (0: none); caches of vectors key on it."""
        key = f"{self._runtime}-{self.weights_sha256[:12]}"
        if self._precision == "int8":
            key += f"-dq{int(self.compiled.get_property('DYNAMIC_QUANTIZATION_GROUP_SIZE'))}"
        if self._precision == "w8a8":
            key += f"-{self.rest_precision}"
        return key

    @property
    def rest_precision(self) -> str:
        """The arithmetic of what is not an int8 product ("bf16" or "fp32"): OpenVINO's inference precision."""
        return precision_name(self.compiled_precision)

    @property
    def compiled(self) -> Any:
        """The compiled model (every text, one question or a batch, runs on it)."""
        return self._model.compiled

    @property
    def compiled_precision(self) -> object:
        """OpenVINO's own report of the compiled inference precision (an `openvino.Type`)."""
        return self.compiled.get_property("INFERENCE_PRECISION_HINT")


class _Compiled:
    """A compiled model and its one inference request, reused under a lock.

    The request's buffers grow to the largest batch seen; one request per thread (the server's pool
    has 40) held about 150 MB more under load for no speed.
    """

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled
        self._request: Any = None
        self._lock = threading.Lock()

    @classmethod
    def prepared(cls, core: Any, model: Any, config: dict[str, object]) -> _Compiled:
        """`model` compiled for the CPU with `config`, the usual question lengths (WARM_TOKENS) already run."""
        compiled = cls(core.compile_model(model, "CPU", config))
        warm_shapes(compiled, WARM_TOKENS)
        return compiled

    def infer(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]:
        """The last hidden state for a batch of token ids (a copy: the request reuses its output buffer)."""
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            if self._request is None:
                self._request = self.compiled.create_infer_request()
            # share_inputs: OpenVINO reads the arrays in place instead of copying them in
            result = self._request.infer(inputs, share_inputs=True)
            return np.array(result[self.compiled.outputs[0]], dtype=np.float32, copy=True)


class _Plan(NamedTuple):
    xml: Path  # the IR to compile
    hint: str  # OpenVINO's INFERENCE_PRECISION_HINT
    precision: str  # what should come out: "bf16", "w8a8", "int8" or "fp32"
    reason: str
    w8a8_key: str = ""  # conversion.w8a8_key, where w8a8 is planned: what its acceptance record names


def _resolve(folder: Path, asked: str, tokenizer_json: Path) -> _Plan:
    """What to compile for the precision asked for ("auto": the fastest accepted here, index/precision.py)."""
    if asked == "fp32":
        return _Plan(folder / IR_NAME, "f32", "fp32", "fp32 asked for")
    if asked == "bf16":
        return _Plan(folder / IR_NAME, "bf16", "bf16", "bf16 asked for")
    if asked == "int8":
        return _Plan(conversion.compress_int8(folder), "f32", "int8", "int8 weights asked for")
    bf16_here = cpu_has_bf16()
    rest = "bf16" if bf16_here else "f32"  # w8a8's other operations: bf16 where the CPU has it
    if asked == "w8a8":
        key = conversion.w8a8_key(folder)
        return _Plan(conversion.quantize_w8a8(folder, tokenizer_json, key), rest, "w8a8", "w8a8 asked for", key)
    records = precision.load_records([folder / precision.RECORDS, precision.SHIPPED])
    bf16 = precision.find(records, "bf16", conversion.weights_sha256(folder)) if bf16_here else None
    w8a8_here = cpu_suits_w8a8() and conversion.nncf_available()
    key = conversion.w8a8_key(folder) if w8a8_here else ""
    w8a8 = precision.find(records, "w8a8", key) if w8a8_here else None
    choice = precision.choose(bf16_here, bf16, w8a8_here, w8a8)
    if choice.precision == "w8a8":
        return _Plan(conversion.quantize_w8a8(folder, tokenizer_json, key), rest, "w8a8", choice.reason, key)
    # slower than this CPU allows: a warning where bf16 was not run, or w8a8 was measured and rejected; a model whose
    # w8a8 nobody measured (the reranker's: a cross-encoder the calibration texts do not describe) is only noted
    if (bf16_here and choice.precision != "bf16") or (w8a8_here and w8a8 is not None):
        log.warning("OpenVINO falls back to %s: %s", choice.precision, choice.reason)
    elif w8a8_here:
        log.info("OpenVINO runs %s: %s", choice.precision, choice.reason)
    return _Plan(folder / IR_NAME, {"bf16": "bf16", "fp32": "f32"}[choice.precision], choice.precision, choice.reason)
