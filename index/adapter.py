"""The protection adapter: low-rank updates to the bundled model's matrices, learned on protection questions.

A low-rank adapter (LoRA) adds `scale * B @ A` to a matrix `W` of the model; A is (rank, in), B is (out,
rank), so the six matrices of each of the six layers change by about 0.66 M numbers in all (2.6 MB), which
travel with the package (`index/data/adapter/`) where the 90 MB of a fine-tuned copy could not. They were
learned by `bench/train_adapter.py` (see `adapter.json` for on what) and are merged into the bundled
weights once per machine: the merged model is an ordinary sentence-transformers folder under the model
cache, keyed by the sha256 of the base weights and of the adapter, so every runtime (PyTorch, OpenVINO
and its conversion cache) loads it like any model.

The merge is exact and the same on every CPU: it is done in float64 one rank at a time with element-wise
products and sums (no matrix product, whose summation order depends on the CPU's vector width), then
rounded once to float32, so the merged weights and everything keyed by their sha256 (the OpenVINO
conversion, the precision acceptance records) are the same bytes everywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import ModelNotFound
from .store import file_sha256

ADAPTER_DIR = Path(__file__).resolve().parent / "data" / "adapter"
WEIGHTS = "adapter.safetensors"
META = "adapter.json"
# the matrices an adapter may change, inside each "encoder.layer.{i}."
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
_DONE = ".merged"


def adapter_key(base: Path, adapter: Path) -> str:
    """The merged folder's name: the base weights, the adapter's weights and its metadata."""
    digest = hashlib.sha256()
    for path in (base / "model.safetensors", adapter / WEIGHTS, adapter / META):
        if not path.exists():
            raise ModelNotFound(f"{path} is missing; the adapter needs both the base model and its own files")
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()[:24]


def describe(adapter: Path) -> dict[str, object]:
    """The adapter's metadata: its name, rank, scale and what it was trained on."""
    meta = json.loads((adapter / META).read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise ModelNotFound(f"{adapter / META} has no adapter name; retrain it with bench/train_adapter.py")
    return meta


def merged_model(base: Path, adapter: Path, cache_dir: Path) -> Path:
    """A model folder with the adapter merged into `base`, made once under `cache_dir` and reused."""
    target = cache_dir / adapter_key(base, adapter)
    if (target / _DONE).exists():
        return target
    import numpy as np
    from safetensors.numpy import load_file, save_file

    meta = describe(adapter)
    scale = float(meta["alpha"]) / float(meta["rank"])  # type: ignore[arg-type]
    weights = load_file(str(base / "model.safetensors"))
    updates = load_file(str(adapter / WEIGHTS))
    names = {key.removesuffix(".lora_A") for key in updates if key.endswith(".lora_A")}
    for name in sorted(names):
        key = f"{name}.weight"
        if key not in weights:
            raise ModelNotFound(f"the adapter changes {key}, which {base} does not have; it was made for another model")
        a = updates[f"{name}.lora_A"].astype(np.float64)
        b = updates[f"{name}.lora_B"].astype(np.float64)
        merged = weights[key].astype(np.float64)
        for k in range(a.shape[0]):
            merged += scale * np.multiply.outer(b[:, k], a[k, :])
        weights[key] = merged.astype(np.float32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".merge-", dir=cache_dir))
    try:
        for item in base.iterdir():
            if item.name in ("model.safetensors", "README.md", ".gitattributes"):
                continue
            if item.is_dir():
                shutil.copytree(item, work / item.name)
            else:
                shutil.copy2(item, work / item.name)
        save_file(weights, str(work / "model.safetensors"), metadata={"format": "pt"})
        (work / _DONE).write_text(json.dumps({"base": str(base), "adapter": meta["name"]}) + "\n")
        try:
            os.replace(work, target)
        except OSError:  # another process merged it first: theirs is the same bytes
            if not (target / _DONE).exists():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target
