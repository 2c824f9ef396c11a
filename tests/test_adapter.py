"""The protection adapter: merged exactly, the same bytes every time, named in the model's name, and optional."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from index.adapter import ADAPTER_DIR, META, TARGETS, WEIGHTS, adapter_key, describe, merged_model
from index.embedder import DEFAULT_MODEL, adapted_name, default_model_path, model_folder, resolve_model
from index.errors import ModelNotFound
from index.store import file_sha256

from .conftest import ROOT

QUERY = "encoder.layer.0.attention.self.query"
OUTPUT = "encoder.layer.5.output.dense"


def small_adapter(folder: Path, names: dict[str, tuple[int, int]], rank: int = 2, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, (out_features, in_features) in names.items():
        tensors[f"{name}.lora_A"] = rng.standard_normal((rank, in_features)).astype(np.float32)
        tensors[f"{name}.lora_B"] = rng.standard_normal((out_features, rank)).astype(np.float32) * 0.01
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / WEIGHTS))
    (folder / META).write_text(json.dumps({"name": "test-adapter", "rank": rank, "alpha": 2 * rank}))
    return folder


def test_the_merge_adds_scale_b_a_to_the_named_matrices_only(tmp_path: Path) -> None:
    base = default_model_path()
    adapter = small_adapter(tmp_path / "adapter", {QUERY: (384, 384), OUTPUT: (384, 1536)})
    merged = merged_model(base, adapter, tmp_path / "cache")
    before = load_file(str(base / "model.safetensors"))
    after = load_file(str(merged / "model.safetensors"))
    updates = load_file(str(adapter / WEIGHTS))
    assert set(after) == set(before)
    for name in (QUERY, OUTPUT):
        expected = before[f"{name}.weight"].astype(np.float64) + 2.0 * (
            updates[f"{name}.lora_B"].astype(np.float64) @ updates[f"{name}.lora_A"].astype(np.float64)
        )
        assert np.abs(after[f"{name}.weight"] - expected).max() < 1e-6
        assert not np.array_equal(after[f"{name}.weight"], before[f"{name}.weight"])
    untouched = [k for k in before if not k.startswith((QUERY, OUTPUT))]
    assert untouched and all(np.array_equal(after[k], before[k]) for k in untouched)
    # a full model folder: what sentence-transformers and the OpenVINO conversion read
    for name in ("config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        assert (merged / name).is_file(), name


def test_the_merge_gives_the_same_bytes_again_and_is_made_once(tmp_path: Path) -> None:
    base = default_model_path()
    adapter = small_adapter(tmp_path / "adapter", {QUERY: (384, 384)})
    first = merged_model(base, adapter, tmp_path / "one")
    second = merged_model(base, adapter, tmp_path / "two")
    assert first.name == second.name == adapter_key(base, adapter)
    assert file_sha256(first / "model.safetensors") == file_sha256(second / "model.safetensors")
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert merged_model(base, adapter, tmp_path / "one") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not merged again
    assert [p.name for p in (tmp_path / "one").iterdir()] == [first.name]  # no work folder left behind


def test_an_adapter_for_another_model_is_refused_with_what_to_do(tmp_path: Path) -> None:
    adapter = small_adapter(tmp_path / "adapter", {"encoder.layer.9.attention.self.query": (384, 384)})
    with pytest.raises(ModelNotFound, match="made for another model"):
        merged_model(default_model_path(), adapter, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing half-made is left


def test_the_bundled_adapter_is_the_default_and_the_plain_model_stays_one_name_away(tmp_path: Path) -> None:
    meta = describe(ADAPTER_DIR)
    assert adapted_name() == f"{DEFAULT_MODEL}+{meta['name']}@{file_sha256(ADAPTER_DIR / WEIGHTS)[:8]}"
    assert set(meta["targets"]) <= set(TARGETS)  # type: ignore[arg-type]
    assert resolve_model(None)[0] == adapted_name()
    assert resolve_model(DEFAULT_MODEL) == (DEFAULT_MODEL, str(default_model_path()))
    assert model_folder(DEFAULT_MODEL, tmp_path) == (DEFAULT_MODEL, str(default_model_path()))
    name, folder = model_folder(None, tmp_path)
    assert name == adapted_name() and Path(folder).parent == tmp_path / "adapted"
    updates = load_file(str(ADAPTER_DIR / WEIGHTS))
    assert len(updates) == 2 * 6 * len(meta["targets"])  # type: ignore[arg-type]
    assert sum(v.size for v in updates.values()) * 4 < 4_000_000  # small enough to travel with the package


def test_the_default_embedder_runs_the_adapted_model(embedder) -> None:  # type: ignore[no-untyped-def]
    assert embedder.name == adapted_name()


def test_the_merge_is_the_same_bytes_with_avx512_and_with_avx2_alone(tmp_path: Path) -> None:
    """What makes the merged weights the same on every CPU: numpy's AVX-512 kernels switched off
    (NPY_DISABLE_CPU_FEATURES, as on this project's AVX2-only machines) give the very same bytes."""
    import subprocess
    import sys

    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__

    if not __cpu_features__.get("AVX512_SKX"):
        pytest.skip("this CPU has no AVX-512: both merges would take the same path")
    merge = (
        "import sys; from pathlib import Path; from index.adapter import ADAPTER_DIR, merged_model; "
        "from index.embedder import default_model_path; "
        "print(merged_model(default_model_path(), ADAPTER_DIR, Path(sys.argv[1])))"
    )
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}
    done = subprocess.run(
        [sys.executable, "-c", merge, str(tmp_path / "avx2")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    avx2 = Path(done.stdout.strip().splitlines()[-1])
    here = merged_model(default_model_path(), ADAPTER_DIR, tmp_path / "here")
    assert file_sha256(avx2 / "model.safetensors") == file_sha256(here / "model.safetensors")
