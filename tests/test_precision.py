"""The automatic precision: bf16 where the CPU has it and a measurement accepted it, else fp32; int8 when asked.

The acceptance itself is measured by bench/accept.py (SciFact nDCG@10 and the golden set, minutes of work) and
recorded; these tests check the rule and the choice on recorded results, and one real load of each choice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import index.cpu
import index.runtime
from index import conversion, precision
from index.embedder import load_embedder
from index.precision import Acceptance, choose, judge
from index.runtime import OpenVinoEmbedder

pytestmark = pytest.mark.skipif(not index.runtime.openvino_available(), reason="openvino is not installed")


def record(name: str, accepted: bool, weights: str = "w" * 64) -> Acceptance:
    ndcg = 0.735 if accepted else 0.72
    ok, reason = judge(name, 0.735, ndcg, 52, 52)
    assert ok == accepted
    return Acceptance(name, weights, 0.735, ndcg, 52, 52, ok, reason)


def test_the_rule_is_half_a_point_of_ndcg_and_every_golden_answer_in_the_first_three() -> None:
    assert judge("int8", 0.7350, 0.7301, 52, 52)[0]
    assert judge("int8", 0.7350, 0.7400, 52, 52)[0]  # better is fine
    accepted, reason = judge("int8", 0.7350, 0.7290, 52, 52)
    assert not accepted and "falls 0.0060, more than 0.005" in reason
    accepted, reason = judge("bf16", 0.7350, 0.7350, 51, 52)
    assert not accepted and "golden answer left the first three" in reason


def test_bf16_where_the_cpu_has_it_and_it_was_accepted() -> None:
    choice = choose(True, record("bf16", True))
    assert choice.precision == "bf16" and "bf16 accepted" in choice.reason


def test_fp32_where_there_is_no_bf16_because_int8_weights_were_not_faster() -> None:
    choice = choose(False, None)
    assert choice.precision == "fp32"
    assert "no bf16" in choice.reason and "no faster than fp32" in choice.reason


def test_fp32_and_the_reason_where_bf16_was_rejected_or_never_measured_on_a_bf16_cpu() -> None:
    rejected = choose(True, record("bf16", False))
    assert rejected.precision == "fp32" and "bf16 rejected" in rejected.reason
    unmeasured = choose(True, None)
    assert unmeasured.precision == "fp32" and "run: .venv/bin/python bench/accept.py" in unmeasured.reason
    assert "bf16 was never measured" in unmeasured.reason


def test_w8a8_where_the_cpu_has_vnni_without_amx_and_it_was_accepted() -> None:
    choice = choose(True, record("bf16", True), True, record("w8a8", True))
    assert choice.precision == "w8a8" and "w8a8 accepted" in choice.reason and "VNNI" in choice.reason
    # rejected or never measured: the next fastest, bf16 or fp32, and the reason says what happened to w8a8
    rejected = choose(True, record("bf16", True), True, record("w8a8", False))
    assert rejected.precision == "bf16" and rejected.reason.startswith("w8a8 rejected")
    unmeasured = choose(False, None, True, None)
    assert unmeasured.precision == "fp32" and "w8a8 was never measured" in unmeasured.reason
    assert "bench/accept.py" in unmeasured.reason
    # a CPU that does not suit w8a8 (no VNNI, or AMX) never runs it, whatever was recorded
    assert choose(True, record("bf16", True), False, record("w8a8", True)).precision == "bf16"
    assert choose(False, None, False, record("w8a8", True)).precision == "fp32"


def test_which_cpus_suit_w8a8(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    cases = {
        frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}): True,  # AMD EPYC (Zen 4)
        frozenset({"avx2", "avx_vnni"}): True,
        frozenset({"avx2", "avx512_vnni", "amx_int8", "amx_bf16"}): False,  # Xeon with AMX: bf16
        frozenset({"avx2", "fma"}): False,  # AVX2 alone: int8 products slower than fp32
    }
    for flags, suits in cases.items():
        monkeypatch.setattr(index.cpu, "cpu_flags", lambda flags=flags: set(flags))
        assert index.cpu.cpu_suits_w8a8() is suits, flags
    monkeypatch.setattr(index.cpu, "cpu_flags", lambda: {"avx2", "avx512_vnni"})
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")  # oneDNN capped below VNNI (bench/machine.py)
    assert not index.cpu.cpu_suits_w8a8()


def test_the_w8a8_key_names_weights_calibration_and_recipe(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = conversion.w8a8_key(cache)
    assert len(key) == 64 and key == conversion.w8a8_key(cache)
    assert len(conversion.calibration_texts()) >= 200
    monkeypatch.setitem(conversion.W8A8_RECIPE, "smooth_quant_matmul", 0.5)
    assert conversion.w8a8_key(cache) != key  # another recipe: another IR, measured anew


def test_records_apply_only_to_the_weights_measured(tmp_path: Path) -> None:
    path = tmp_path / "acceptance.json"
    precision.save_record(path, record("int8", False, "a" * 64))
    precision.save_record(path, record("int8", True, "a" * 64))  # a newer measurement replaces the older
    precision.save_record(path, record("bf16", True, "b" * 64))
    records = precision.load_records([path, tmp_path / "missing.json"])
    assert len(records) == 2
    found = precision.find(records, "int8", "a" * 64)
    assert found is not None and found.accepted
    assert precision.find(records, "int8", "b" * 64) is None
    assert precision.find(records, "bf16", "a" * 64) is None


def test_the_shipped_records_agree_with_the_rule() -> None:
    # a record that says accepted must carry numbers that pass; so must its stated reason
    rows = json.loads(precision.SHIPPED.read_text())
    assert rows, "index/data/acceptance.json is empty; run: .venv/bin/python bench/accept.py --ship"
    for row in rows:
        item = Acceptance(**row)
        assert item.precision in ("bf16", "w8a8", "int8", "ort-int8")
        assert judge(item.precision, item.ndcg_fp32, item.ndcg, item.golden_top3, item.golden_total) == (
            item.accepted,
            item.reason,
        )
        assert len(item.weights_sha256) == 64


@pytest.fixture(scope="module")
def cache(openvino_cache: Path) -> Path:
    """The session's conversion of the bundled model, with its int8 weights."""
    embedder = load_embedder(runtime="openvino-int8", cache_dir=openvino_cache)
    assert isinstance(embedder, OpenVinoEmbedder)
    return embedder.cache_folder


@pytest.fixture
def local(cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The conversion's own record file, empty, and no shipped records: only what the test records counts."""
    monkeypatch.setattr(precision, "SHIPPED", tmp_path / "none.json")
    path = cache / precision.RECORDS
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)  # the session's other tests load from this cache too


def _auto(cache: Path) -> OpenVinoEmbedder:
    embedder = load_embedder(runtime="openvino", cache_dir=cache.parent)
    assert isinstance(embedder, OpenVinoEmbedder)
    return embedder


def test_auto_on_a_cpu_without_bf16_runs_fp32_even_with_int8_accepted_and_int8_only_when_asked(
    cache: Path, local: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(index.runtime, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(index.runtime, "cpu_suits_w8a8", lambda: False)  # an AVX2-only CPU
    precision.save_record(local, record("int8", True, conversion.weights_sha256(cache / conversion.INT8)))
    with caplog.at_level(logging.WARNING, logger="pqa.runtime"):
        auto = _auto(cache)
    assert auto.runtime == "openvino-fp32" and "no faster than fp32" in auto.precision_reason
    assert index.runtime.matrix_weight_types(auto.compiled) == {"f32"}
    assert "falls back" not in caplog.text  # fp32 is the fastest such a CPU runs: nothing to warn about
    asked = load_embedder(runtime="openvino-int8", cache_dir=cache.parent)
    assert isinstance(asked, OpenVinoEmbedder)
    assert asked.runtime == "openvino-int8" and index.runtime.matrix_weight_types(asked.compiled) == {"u8"}
    # the int8 model's vectors are the fp32 model's, within int8's bound, and not the same vectors
    texts = ["How does IOM define protection?", "Article 33 forbids returning a refugee to danger."]
    cosines = (asked.embed_documents(texts) * auto.embed_documents(texts)).sum(axis=1)
    assert float(cosines.min()) >= 0.998
    assert not np.array_equal(asked.embed_query(texts[0]), auto.embed_query(texts[0]))


def test_auto_on_a_bf16_cpu_warns_when_bf16_was_rejected_or_never_measured(
    cache: Path, local: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(index.runtime, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(index.runtime, "cpu_suits_w8a8", lambda: False)  # a Xeon with AMX
    with caplog.at_level(logging.WARNING, logger="pqa.runtime"):
        unmeasured = _auto(cache)
    assert unmeasured.runtime == "openvino-fp32"
    assert "never measured" in caplog.text and "bench/accept.py" in caplog.text
    precision.save_record(local, record("bf16", False, conversion.weights_sha256(cache)))
    rejected = _auto(cache)
    assert rejected.runtime == "openvino-fp32" and "bf16 rejected" in rejected.precision_reason


def test_auto_runs_w8a8_where_the_cpu_suits_it_and_it_was_accepted_and_says_so_where_not(
    cache: Path, local: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(index.runtime, "cpu_suits_w8a8", lambda: True)  # VNNI without AMX, whatever this CPU is
    monkeypatch.setattr(index.runtime, "cpu_has_bf16", lambda: True)
    precision.save_record(local, record("bf16", True, conversion.weights_sha256(cache)))
    with caplog.at_level(logging.WARNING, logger="pqa.runtime"):
        unmeasured = _auto(cache)
    assert "w8a8 was never measured" in unmeasured.precision_reason and "bf16 accepted" in unmeasured.precision_reason
    # never measured (as the reranker's weights): said in the reason, not warned about, since bf16 runs
    assert "OpenVINO falls back" not in caplog.text
    precision.save_record(local, record("w8a8", True, conversion.w8a8_key(cache)))
    auto = _auto(cache)
    assert auto.runtime == "openvino-w8a8" and "w8a8 accepted" in auto.precision_reason
    # int8 activations times int8 weights in the products, read back from what OpenVINO compiled
    assert index.runtime.matrix_input_types(auto.compiled) & {"u8", "i8"}
    # (the first layer's second feed-forward product stays out of int8: conversion.W8A8_RECIPE)
    assert "i8" in index.runtime.matrix_weight_types(auto.compiled) <= {"i8", "f32"}
    assert auto.acceptance_key == conversion.w8a8_key(cache)
    assert auto.vectors_key.endswith(f"-{auto.rest_precision}")
    # the same texts as fp32 within w8a8's bound (least cosine 0.996 over 456 questions and abstracts)
    fp32 = load_embedder(runtime="openvino-fp32", cache_dir=cache.parent)
    texts = ["How does IOM define protection?", "Article 33 forbids returning a refugee to danger."]
    assert float((auto.embed_documents(texts) * fp32.embed_documents(texts)).sum(axis=1).min()) >= 0.99
    # built once: a second load finds the IR, whose folder names its recipe's key
    assert auto.model_xml.parent.name == f"w8a8-{auto.acceptance_key[:16]}"
    monkeypatch.setattr(conversion, "build_atomically", lambda *a: pytest.fail("w8a8 quantized again"))
    assert _auto(cache).runtime == "openvino-w8a8"
    precision.save_record(local, record("w8a8", False, conversion.w8a8_key(cache)))
    rejected = _auto(cache)
    assert rejected.precision != "w8a8" and "w8a8 rejected" in rejected.precision_reason
