"""The bundled model converted locally to OpenVINO IR, and its int8-weight variant, cached on disk.

The conversion reads the model's own safetensors (no download) with transformers + torch, once; the
IR is kept under `cache_dir/<key>/` where the key is the sha256 of the weights, the model's config and
the OpenVINO version, so a changed model or runtime converts again. The int8 variant
(`<key>/int8/`) is NNCF's weight compression of that IR: every matrix stored as uint8 with a scale and
zero point per output channel, decompressed to fp32 inside the matrix products. Each IR folder holds
`weights.json` with the sha256 of its `model.bin`: what an acceptance record (index/precision.py)
names, so a measurement applies only to the very weights it measured.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ModelNotFound
from .store import file_sha256

IR_NAME = "model.xml"
MAX_SEQUENCE = 256  # the model's max_seq_length, special tokens included
WEIGHTS = "model.bin"
META = "weights.json"
INT8 = "int8"
INT8_METHOD = "nncf.compress_weights int8_asym, per output channel"


def default_cache_dir() -> Path:
    """Where converted models live unless the caller says otherwise."""
    return Path.home() / ".cache" / "protection-qa" / "openvino"


def model_digest(model_dir: Path, runtime: str) -> Any:
    """A sha256 started with `model_dir`'s weights, config and tokenizer (what every conversion of it reads); says
    that `runtime` needs a full model folder where one is missing."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        path = model_dir / name
        if not path.exists():
            raise ModelNotFound(f"{model_dir} has no {name}; the {runtime} runtime needs a full model folder")
        digest.update(file_sha256(path).encode())
    return digest


def conversion_key(model_dir: Path) -> str:
    """The cache folder's name for `model_dir`: its weights, config and tokenizer, and the OpenVINO version."""
    import openvino

    digest = model_digest(model_dir, "OpenVINO")
    digest.update(openvino.__version__.encode())
    return str(digest.hexdigest()[:24])


def weights_sha256(folder: Path) -> str:
    """The sha256 of `folder/model.bin`, from `weights.json` (written once; computed for an older cache)."""
    meta_path = folder / META
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if isinstance(meta.get("weights_sha256"), str):
            return str(meta["weights_sha256"])
    digest = file_sha256(folder / WEIGHTS)
    _write_meta(folder, {"weights_sha256": digest})
    return digest


def _write_meta(folder: Path, meta: dict[str, object]) -> None:
    partial = folder / f".{META}.{os.getpid()}"
    partial.write_text(json.dumps(meta, indent=1) + "\n")
    os.replace(partial, folder / META)


def build_atomically(
    target: Path, build: Callable[[Path], dict[str, object]], model: str = IR_NAME, weights: str = WEIGHTS
) -> Path:
    """Run `build(staging)`, which writes a model there (`model`, its weights in `weights`), then move it to
    `target` in one step; returns `target / model`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        meta = build(staging)
        _write_meta(staging, {**meta, "weights_sha256": file_sha256(staging / weights)})
        try:
            os.replace(staging, target)
        except OSError:  # another process built it first: keep theirs
            if not (target / model).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / model


def convert(model_dir: Path, target: Path) -> Path:
    """Convert the transformer of `model_dir` to an OpenVINO IR in `target` (atomically); returns the .xml."""

    def build(staging: Path) -> dict[str, object]:
        import openvino
        import torch
        from transformers import AutoModel

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
        return {"model": str(model_dir), "method": "openvino.convert_model, fp32"}

    return build_atomically(target, build)


def nncf_available() -> bool:
    """Whether NNCF is installed; found without importing it (its import holds about 400 MB in a server that only
    loads an IR NNCF made earlier)."""
    import importlib.util

    return importlib.util.find_spec("nncf") is not None


def compress_int8(folder: Path) -> Path:
    """The int8-weight IR next to the fp32 one in `folder` (built once, in about 2 s); returns its .xml."""
    target = folder / INT8
    if (target / IR_NAME).exists():
        return target / IR_NAME
    if not nncf_available():
        raise ModelNotFound("int8 weights need the package nncf; run: pip install nncf")

    def build(staging: Path) -> dict[str, object]:
        import contextlib
        import logging
        import sys

        import nncf
        import openvino

        # NNCF reports on stdout (a table through its logger, a progress bar through rich), where the CLI
        # writes its results: keep the table quiet and send the bar to stderr
        logging.getLogger("nncf").setLevel(logging.WARNING)
        with contextlib.redirect_stdout(sys.stderr):
            compressed = nncf.compress_weights(openvino.Core().read_model(str(folder / IR_NAME)))
        openvino.save_model(compressed, str(staging / IR_NAME), compress_to_fp16=False)
        return {"source": weights_sha256(folder), "method": INT8_METHOD, "nncf": nncf.__version__}

    return build_atomically(target, build)


W8A8 = "w8a8"
CALIBRATION = Path(__file__).parent / "data" / "calibration.jsonl"
# How the w8a8 IR is made; every field is part of its key, so a changed recipe builds (and is measured) anew.
# Measured on the AMD EPYC over 200 questions and 256 SciFact abstracts, cosine to fp32 (least / median):
# SmoothQuant's alpha 0.7 gave 0.996 / 0.9976 against 0.989-0.992 at NNCF's default 0.95, at 0.5 and at 0.6, and
# 0.988 without it; keeping the first layer's second feed-forward product (1536 -> 384, the widest activations)
# out of int8 took the median to 0.9984 at no measurable cost in passages/s (all six layers' would give 0.9990
# at about a fifth fewer passages/s). SciFact nDCG@10 with alpha 0.7 alone fell 0.0049 (bench/accept.py).
W8A8_RECIPE: dict[str, object] = {
    "method": "nncf.quantize (static: int8 weights per output channel, int8 activations per tensor)",
    "preset": "MIXED",
    "model_type": "TRANSFORMER",
    "smooth_quant_matmul": 0.7,
    "not_quantized": [r".*encoder\.layer\.0\.output\.dense/.*MatMul"],
}


def calibration_texts() -> list[str]:
    """The texts that calibrate the w8a8 activations' ranges: windows of the default library as the index embeds
    them (its contexts included), spread over its documents; written by `bench/int8_static.py --calibration`."""
    return [json.loads(line) for line in CALIBRATION.read_text(encoding="utf-8").splitlines() if line]


def w8a8_key(folder: Path) -> str:
    """The sha256 of what makes the w8a8 IR of the fp32 IR in `folder`: its weights, the calibration texts, the
    recipe and NNCF's version. What an acceptance record of w8a8 names: the IR's own bytes are known only once
    built, and can differ in the last bits of a scale from one CPU to another (the ranges are measured by
    running the fp32 model), so the record names the recipe that a measurement accepted, not the bytes."""
    from importlib.metadata import PackageNotFoundError, version  # not `import nncf`: seconds at every start

    digest = hashlib.sha256()
    digest.update(weights_sha256(folder).encode())
    digest.update(file_sha256(CALIBRATION).encode())
    digest.update(json.dumps(W8A8_RECIPE, sort_keys=True).encode())
    try:
        digest.update(version("nncf").encode())
    except PackageNotFoundError:  # quantize_w8a8 says what to install, where it needs NNCF
        digest.update(b"nncf not installed")
    return digest.hexdigest()


def calibration_dataset(tokenizer_json: Path, texts: list[str]) -> list[dict[str, Any]]:
    """`texts` as the model's inputs, one text each, tokenized as index/tokenembedder.py does (truncated to 256)."""
    import numpy as np
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    tokenizer.enable_truncation(max_length=MAX_SEQUENCE)
    items = []
    for text in texts:
        ids = np.asarray([tokenizer.encode(text).ids], dtype=np.int64)
        items.append({"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)})
    return items


def quantize_w8a8(folder: Path, tokenizer_json: Path, key: str | None = None) -> Path:
    """The w8a8 IR of the fp32 one in `folder` (int8 weights and activations, NNCF's post-training quantization
    calibrated on `calibration_texts()`), built once (about 30 s on 2 cores) under `folder/w8a8-<key>/`;
    returns its .xml. `key`: `w8a8_key(folder)` where the caller has it already."""
    key = key or w8a8_key(folder)
    target = folder / f"{W8A8}-{key[:16]}"
    if (target / IR_NAME).exists():
        return target / IR_NAME
    if not nncf_available():
        raise ModelNotFound("w8a8 needs the package nncf; run: pip install nncf")
    import logging

    logging.getLogger("pqa.runtime").info("quantizing %s to w8a8 in %s (once, about 30 s)", folder / IR_NAME, target)

    def build(staging: Path) -> dict[str, object]:
        import contextlib
        import sys

        import nncf
        import openvino

        items = calibration_dataset(tokenizer_json, calibration_texts())
        logging.getLogger("nncf").setLevel(logging.WARNING)
        with contextlib.redirect_stdout(sys.stderr):
            quantized = nncf.quantize(
                openvino.Core().read_model(str(folder / IR_NAME)),
                nncf.Dataset(items),
                preset=nncf.QuantizationPreset[str(W8A8_RECIPE["preset"])],
                model_type=nncf.ModelType[str(W8A8_RECIPE["model_type"])],
                subset_size=len(items),
                ignored_scope=nncf.IgnoredScope(patterns=list(W8A8_RECIPE["not_quantized"])),  # type: ignore[call-overload]
                advanced_parameters=nncf.AdvancedQuantizationParameters(
                    smooth_quant_alphas=nncf.AdvancedSmoothQuantParameters(
                        matmul=float(W8A8_RECIPE["smooth_quant_matmul"])  # type: ignore[arg-type]
                    )
                ),
            )
        openvino.save_model(quantized, str(staging / IR_NAME), compress_to_fp16=False)
        return {
            "source": weights_sha256(folder),
            "recipe": W8A8_RECIPE,
            "recipe_sha256": key,
            "calibration_texts": len(items),
            "nncf": nncf.__version__,
        }

    return build_atomically(target, build)
